/**
 * Spilling in Node: one file, `spill`, in the worker's own directory, which the cluster made
 * (mkdtemp under the temp directory) and removes when the worker exits, however it exits. The
 * file is cut into regions, one per value (RegionFile, as a browser's OPFS file is): a value
 * written after others were freed overwrites their region. Writing over pages the page cache
 * already holds costs a copy; a new file per value costs a new page cache page for every 4 KiB
 * (allocated, charged, put on the LRU lists), and a file created and removed per value. The
 * directory goes on close.
 */

import fs from "node:fs";
import path from "node:path";
import { TesseraError } from "../errors.js";
import { RegionFile, type SyncHandle } from "./spill-disk.js";

export const SPILL_FILE = "spill";

/** An fd as the synchronous handle RegionFile uses: whole reads and writes at offsets. */
function fdHandle(fd: number, file: string): SyncHandle {
  return {
    read(buffer, { at }) {
      let got = 0;
      while (got < buffer.byteLength) {
        const n = fs.readSync(fd, buffer, got, buffer.byteLength - got, at + got);
        if (n === 0) break;
        got += n;
      }
      return got;
    },
    write(buffer, { at }) {
      let put = 0;
      while (put < buffer.byteLength) {
        // Writes may come back short (Linux moves under 2 GiB per call): go on from where it stopped.
        const n = fs.writeSync(fd, buffer, put, buffer.byteLength - put, at + put);
        if (n <= 0) throw new TesseraError(`${file}: wrote nothing after ${put} of ${buffer.byteLength} bytes`);
        put += n;
      }
      return put;
    },
    truncate: (size) => fs.ftruncateSync(fd, size),
    getSize: () => fs.fstatSync(fd).size,
    // Spilled values need not survive a crash of the machine: nothing to sync.
    flush: () => {},
    close: () => fs.closeSync(fd),
  };
}

export class NodeDisk extends RegionFile {
  constructor(dir: string) {
    const file = path.join(dir, SPILL_FILE);
    const fd = fs.openSync(file, "w+", 0o600);
    super(fdHandle(fd, file), dir, () => fs.rmSync(dir, { recursive: true, force: true }));
  }
}
