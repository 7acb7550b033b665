/**
 * Node-only sources: local paths, directories and globs, read with range reads (file descriptors),
 * never whole files. source.ts loads this file with a dynamic import, and only where `process`
 * says it is Node, so browser bundles never reach the `node:` modules imported here.
 *
 *   a file          itself
 *   a directory     every file below it, recursively, except names starting with "_" or "."
 *                   (`_metadata`, `_SUCCESS`, `.crc` files, as Dask and pyarrow skip them)
 *   a glob          `data/*.parquet`, `data/**\/part-?.parquet`, `data/[ab]*.parquet`
 *
 * Results are sorted by path, and paths are made absolute (a worker thread may not share the
 * caller's idea of "here").
 */

import { closeSync, fstatSync, openSync, read, readSync, readvSync, type Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TesseraError } from "../../errors.js";
import { hasGlobMagic, matchSegment, splitPath } from "./glob.js";
import type { ByteSource } from "./source.js";

export interface LocalFile {
  path: string;
  size: number;
}

function localPath(p: string): string {
  return /^file:/i.test(p) ? fileURLToPath(p) : resolve(p);
}

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await stat(p);
  } catch {
    return null;
  }
}

const hidden = (name: string): boolean => name.startsWith("_") || name.startsWith(".");

async function walkDirectory(dir: string, out: LocalFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (hidden(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walkDirectory(p, out);
    else if (e.isFile()) out.push({ path: p, size: (await stat(p)).size });
  }
}

/** Walk pattern segments from `dir`; `**` matches zero or more directories. */
async function walkGlob(dir: string, segments: readonly string[], out: Set<string>): Promise<void> {
  if (segments.length === 0) {
    out.add(dir);
    return;
  }
  const [seg, ...rest] = segments as [string, ...string[]];
  if (seg === "**") {
    await walkGlob(dir, rest, out);
    for (const sub of await subdirectories(dir)) await walkGlob(join(dir, sub), segments, out);
    return;
  }
  if (!hasGlobMagic(seg)) {
    const p = join(dir, seg);
    if (await statOrNull(p)) await walkGlob(p, rest, out);
    return;
  }
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of matchSegment(names, seg)) await walkGlob(join(dir, name), rest, out);
}

async function subdirectories(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !hidden(e.name)).map((e) => e.name);
  } catch {
    return [];
  }
}

async function expandGlob(pattern: string, what: string): Promise<LocalFile[]> {
  const segments = splitPath(pattern);
  const first = segments.findIndex((s) => s === "**" || hasGlobMagic(s));
  const base = segments.slice(0, first).join("/") || "/";
  const found = new Set<string>();
  await walkGlob(base, segments.slice(first), found);
  const files: LocalFile[] = [];
  for (const p of [...found].sort()) {
    const s = await statOrNull(p);
    if (s?.isFile()) files.push({ path: p, size: s.size });
  }
  if (files.length === 0) throw new TesseraError(`${what}: no files match ${JSON.stringify(pattern)}`);
  return files;
}

/** The files a local path, directory or glob names, sorted. */
export async function expandLocal(spec: string, what: string): Promise<LocalFile[]> {
  const p = localPath(spec);
  const s = await statOrNull(p);
  if (s?.isFile()) return [{ path: p, size: s.size }];
  if (s?.isDirectory()) {
    const out: LocalFile[] = [];
    await walkDirectory(p, out);
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (out.length === 0) throw new TesseraError(`${what}: directory ${JSON.stringify(spec)} holds no files`);
    return out;
  }
  if (hasGlobMagic(spec)) return expandGlob(p, what);
  throw new TesseraError(`${what}: no such file or directory: ${JSON.stringify(spec)}`);
}

/**
 * Range reads from a local file. `expectedSize` (from when the footer was read) guards against a
 * file that changed since. Opened, sized and closed synchronously: each is a syscall of
 * microseconds on a local file, against a hop to libuv's thread pool and back (and a thread of
 * it woken) for each when done asynchronously, three per Parquet partition a worker reads.
 */
export async function openLocal(path: string, what: string, expectedSize?: number): Promise<ByteSource> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw new TesseraError(`${what}: cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (err) {
    closeSync(fd);
    throw new TesseraError(`${what}: cannot read the size of ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (expectedSize !== undefined && size !== expectedSize) {
    closeSync(fd);
    throw new TesseraError(`${what}: ${path} is ${size} bytes now but was ${expectedSize} bytes when its footer was read; it changed while being read`);
  }
  let closed = false;
  // Reads in flight: close waits for them (a closed descriptor's number can be reused at once).
  const inflight = new Set<Promise<number>>();
  const readAt = (target: Uint8Array, offset: number, length: number, position: number): Promise<number> => {
    const p = new Promise<number>((resolve, reject) => read(fd, target, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
    inflight.add(p);
    const done = () => void inflight.delete(p);
    p.then(done, done);
    return p;
  };
  const ended = (pos: number): never => {
    throw new TesseraError(`${what}: ${path} ended at byte ${pos}, expected ${size} bytes (did it change while being read?)`);
  };
  const readInto = async (start: number, target: Uint8Array): Promise<void> => {
    let got = 0;
    while (got < target.length) {
      const bytesRead = await readAt(target, got, target.length - got, start + got);
      if (bytesRead === 0) ended(start + got);
      got += bytesRead;
    }
  };
  return {
    name: path,
    byteLength: size,
    async read(start, end) {
      const buf = new Uint8Array(Math.max(0, Math.min(end, size) - start));
      await readInto(start, buf);
      return buf;
    },
    readInto,
    readIntoSync(start, target) {
      let got = 0;
      while (got < target.length) {
        const bytesRead = readSync(fd, target, got, target.length - got, start + got);
        if (bytesRead === 0) ended(start + got);
        got += bytesRead;
      }
    },
    readvIntoSync(start, targets) {
      let pos = start;
      let list = targets;
      while (list.length > 0) {
        const bytesRead = readvSync(fd, list, pos);
        const want = list.reduce((s, b) => s + b.length, 0);
        if (bytesRead === want) return;
        if (bytesRead === 0) ended(pos);
        // A short read: on from the first buffer not filled.
        pos += bytesRead;
        let skip = bytesRead;
        let i = 0;
        while (skip >= list[i]!.length) skip -= list[i++]!.length;
        list = [list[i]!.subarray(skip), ...list.slice(i + 1)];
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (inflight.size > 0) await Promise.allSettled(inflight);
      closeSync(fd);
    },
  };
}
