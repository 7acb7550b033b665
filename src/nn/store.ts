/**
 * Where training checkpoints go: a directory of `step-<9 digits>.tsnn` files. In Node a
 * directory on disk; in a browser a directory of the Origin Private File System (the path's
 * segments under navigator.storage.getDirectory()). The client writes them (the replicas hand
 * it their state through shared memory), so both work from the page's or the script's thread.
 *
 * Writes are atomic: the bytes go to a temporary name (Node: written, fsync'd, closed) and are
 * renamed over the final name, so a crash leaves either the old set of checkpoints or the new
 * one, never a torn file. (OPFS: createWritable writes into a swap file committed on close, then
 * the file is moved to its final name where the browser has FileSystemHandle.move.)
 *
 * The spill disk of src/worker (disk-node.ts, disk-opfs.ts) is a synchronous, per-worker,
 * removed-on-exit store; checkpoints must outlive the cluster and are written asynchronously,
 * so they have this small store of their own.
 */

import { TesseraError } from "../errors.js";
import { isNode } from "../dataframe/io/source.js";

export interface CheckpointDir {
  /** For messages: the directory's path. */
  readonly where: string;
  write(name: string, bytes: Uint8Array): Promise<void>;
  read(name: string): Promise<Uint8Array>;
  list(): Promise<string[]>;
  remove(name: string): Promise<void>;
}

const PATTERN = /^step-(\d{9})\.tsnn$/;

export const checkpointName = (step: number): string => `step-${String(step).padStart(9, "0")}.tsnn`;

/** The step of a checkpoint file name, or -1 when it is not one. */
export function checkpointStep(name: string): number {
  const m = PATTERN.exec(name);
  return m ? Number(m[1]) : -1;
}

/** The newest checkpoint in `dir` (by step), or null when there is none. */
export async function latestCheckpoint(dir: CheckpointDir): Promise<string | null> {
  let best: string | null = null;
  for (const name of await dir.list()) if (checkpointStep(name) >= 0 && (best === null || checkpointStep(name) > checkpointStep(best))) best = name;
  return best;
}

// Node's fs through a variable, so browser bundles leave it out (as src/dataframe/write.ts does).
const FS = "node:fs/promises";
type Fs = typeof import("node:fs/promises");

export async function openCheckpointDir(path: string, what: string): Promise<CheckpointDir> {
  if (typeof path !== "string" || path === "") throw new TesseraError(`${what}: checkpoint.dir must be a directory path, got ${JSON.stringify(path)}`);
  return isNode() ? nodeDir(path, what) : opfsDir(path, what);
}

async function nodeDir(dir: string, what: string): Promise<CheckpointDir> {
  const fs = (await import(/* @vite-ignore */ FS)) as Fs;
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new TesseraError(`${what}: cannot create the checkpoint directory ${JSON.stringify(dir)}: ${(err as Error).message}`, { cause: err });
  }
  const at = (name: string) => (dir.endsWith("/") ? dir + name : `${dir}/${name}`);
  return {
    where: dir,
    async write(name, bytes) {
      const tmp = at(`.${name}.${process.pid}.${Date.now()}.tmp`);
      try {
        const fh = await fs.open(tmp, "w", 0o644);
        try {
          await fh.writeFile(bytes);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fs.rename(tmp, at(name));
      } catch (err) {
        await fs.rm(tmp, { force: true }).catch(() => {});
        throw new TesseraError(`${what}: cannot write the checkpoint ${at(name)}: ${(err as Error).message}`, { cause: err });
      }
    },
    async read(name) {
      try {
        return new Uint8Array(await fs.readFile(at(name)));
      } catch (err) {
        throw new TesseraError(`${what}: cannot read the checkpoint ${at(name)}: ${(err as Error).message}`, { cause: err });
      }
    },
    list: () => fs.readdir(dir),
    remove: (name) => fs.rm(at(name), { force: true }),
  };
}

interface OpfsWritable {
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
interface OpfsFile {
  createWritable(): Promise<OpfsWritable>;
  getFile(): Promise<Blob>;
  move?(name: string): Promise<void>;
}
interface OpfsDirectory {
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirectory>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFile>;
  removeEntry(name: string): Promise<void>;
  keys(): AsyncIterable<string>;
}

async function opfsDir(path: string, what: string): Promise<CheckpointDir> {
  const storage = (globalThis.navigator as unknown as { storage?: { getDirectory?: () => Promise<OpfsDirectory> } } | undefined)?.storage;
  if (typeof storage?.getDirectory !== "function") throw new TesseraError(`${what}: no file system here: checkpoints need Node or a browser with the Origin Private File System`);
  let dir = await storage.getDirectory();
  for (const seg of path.split("/").filter((s) => s !== "" && s !== ".")) dir = await dir.getDirectoryHandle(seg, { create: true });
  const where = `OPFS ${path}`;
  return {
    where,
    async write(name, bytes) {
      const tmp = `.${name}.tmp`;
      try {
        // Where handles can move, write a temporary file and rename it; elsewhere write in place
        // (createWritable still commits the whole file on close, or nothing).
        const scratch = await dir.getFileHandle(tmp, { create: true });
        const atomic = typeof scratch.move === "function";
        const f = atomic ? scratch : await dir.getFileHandle(name, { create: true });
        const w = await f.createWritable();
        await w.write(bytes);
        await w.close();
        if (atomic) await f.move!(name);
        else await dir.removeEntry(tmp);
      } catch (err) {
        await dir.removeEntry(tmp).catch(() => {});
        throw new TesseraError(`${what}: cannot write the checkpoint ${where}/${name}: ${(err as Error).message}`, { cause: err });
      }
    },
    async read(name) {
      try {
        return new Uint8Array(await (await (await dir.getFileHandle(name)).getFile()).arrayBuffer());
      } catch (err) {
        throw new TesseraError(`${what}: cannot read the checkpoint ${where}/${name}: ${(err as Error).message}`, { cause: err });
      }
    },
    async list() {
      const names: string[] = [];
      for await (const n of dir.keys()) names.push(n);
      return names;
    },
    remove: (name) => dir.removeEntry(name).catch(() => {}),
  };
}
