/**
 * Spilling in Node: one file per value in the worker's own directory, which the cluster made
 * (mkdtemp under the temp directory) and removes when the worker exits, however it exits. The
 * worker removes its files as values come back or go, and the directory on close.
 */

import fs from "node:fs";
import path from "node:path";
import { TesseraError } from "../errors.js";
import type { ReadAt } from "./spill-format.js";
import type { SpillDisk } from "./spill-disk.js";

/** At most this many buffers per writev(2) (IOV_MAX on Linux). */
const MAX_IOV = 1024;

export class NodeDisk implements SpillDisk {
  constructor(readonly where: string) {}

  write(name: string, parts: readonly Uint8Array[], byteLength: number): void {
    const file = path.join(this.where, name);
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, "wx", 0o600);
      let pending = parts.filter((p) => p.byteLength > 0);
      let written = 0;
      while (pending.length > 0) {
        // Writes may come back short (Linux moves under 2 GiB per call): go on from where it stopped.
        const n = fs.writevSync(fd, pending.length > MAX_IOV ? pending.slice(0, MAX_IOV) : pending);
        if (n <= 0) throw new TesseraError(`wrote nothing after ${written} of ${byteLength} bytes`);
        written += n;
        pending = advance(pending, n);
      }
      fs.closeSync(fd);
      fd = undefined;
    } catch (err) {
      if (fd !== undefined) closeQuietly(fd);
      try {
        fs.rmSync(file, { force: true });
      } catch {
        // The write already failed; that error says what matters.
      }
      throw err;
    }
  }

  read<T>(name: string, fn: (read: ReadAt) => T): T {
    const file = path.join(this.where, name);
    const fd = fs.openSync(file, "r");
    try {
      return fn((at, into) => {
        let got = 0;
        while (got < into.byteLength) {
          const n = fs.readSync(fd, into, got, into.byteLength - got, at + got);
          if (n === 0) throw new TesseraError(`spill: ${file} ends after ${at + got} bytes (truncated?)`);
          got += n;
        }
      });
    } finally {
      closeQuietly(fd);
    }
  }

  remove(name: string): void {
    fs.rmSync(path.join(this.where, name), { force: true });
  }

  close(): void {
    fs.rmSync(this.where, { recursive: true, force: true });
  }
}

/** `parts` less their first `n` bytes. */
function advance(parts: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < parts.length && n >= parts[i]!.byteLength) n -= parts[i++]!.byteLength;
  const rest = parts.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing to do about a failed close of a file we are done with.
  }
}
