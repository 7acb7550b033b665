/**
 * The machine's own limits, measured in the same run as the cases they bound: what a plain
 * loop of reads, copies or writes does on 1 and 2 threads, with nothing of tessera in it.
 *
 *   readAndCopy   each task preads a byte range of a file (the page cache's copy into the
 *                 process) and copies those bytes once more (a decoder writes at least as many
 *                 bytes as it reads): the least memory traffic a Parquet scan of those ranges
 *                 can do. Tasks are dealt to the threads in turn, as row groups are to workers.
 *   writeFiles    each thread writes its share of `bytes` as new files of `fileBytes` (what a
 *                 spill does), then reads them back and removes them.
 *   calibrate     a fixed integer loop on 1 thread, then on 2 at once: the cores this process
 *                 gets right now.
 *
 * Threads are started and their buffers touched before the clock starts; the time is from "go"
 * to the last thread done.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

const READ_AND_COPY = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { file, ranges } = workerData;
const most = Math.max(1, ...ranges.map(([a, b]) => b - a));
const buf = new Uint8Array(most), out = new Uint8Array(most);
buf.fill(1); out.fill(2);
const fd = fs.openSync(file, "r");
parentPort.postMessage("ready");
parentPort.once("message", () => {
  for (const [a, b] of ranges) {
    let got = 0;
    while (got < b - a) got += fs.readSync(fd, buf, got, b - a - got, a + got);
    out.set(buf.subarray(0, b - a));
  }
  fs.closeSync(fd);
  parentPort.postMessage("done");
});`;

const WRITE_FILES = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { dir, files, fileBytes } = workerData;
const buf = new Uint8Array(fileBytes);
for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;
const into = new Uint8Array(fileBytes);
into.fill(1);
parentPort.postMessage("ready");
parentPort.once("message", () => {
  const t0 = performance.now();
  for (let i = 0; i < files; i++) {
    const fd = fs.openSync(dir + "/" + i, "wx", 0o600);
    fs.writevSync(fd, [buf]);
    fs.closeSync(fd);
  }
  const t1 = performance.now();
  for (let i = 0; i < files; i++) {
    const fd = fs.openSync(dir + "/" + i, "r");
    let got = 0;
    while (got < fileBytes) got += fs.readSync(fd, into, got, fileBytes - got, got);
    fs.closeSync(fd);
  }
  const t2 = performance.now();
  for (let i = 0; i < files; i++) fs.rmSync(dir + "/" + i);
  parentPort.postMessage({ write: (t1 - t0) / 1000, read: (t2 - t1) / 1000 });
});`;

/** Start one thread per workerData, wait until all are ready, say go, and collect what each sends when done. */
async function race<T>(code: string, data: readonly unknown[]): Promise<{ seconds: number; results: T[] }> {
  const workers = data.map((workerData) => new Worker(code, { eval: true, workerData }));
  try {
    const ready = workers.map((w) => new Promise<void>((resolve, reject) => {
      w.once("message", () => resolve());
      w.once("error", reject);
    }));
    await Promise.all(ready);
    const done = workers.map((w) => new Promise<T>((resolve, reject) => {
      w.once("message", (m: T) => resolve(m));
      w.once("error", reject);
    }));
    const t0 = performance.now();
    for (const w of workers) w.postMessage("go");
    const results = await Promise.all(done);
    return { seconds: (performance.now() - t0) / 1000, results };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * Seconds for `readAndCopy` of `tasks` (byte ranges of `file`, one list per task) on `threads`
 * threads, `runs` times: the median and the best, as the cases beside it report theirs.
 */
export async function readAndCopy(file: string, tasks: readonly (readonly [number, number])[][], threads: number, runs: number): Promise<{ median: number; min: number }> {
  const shares = Array.from({ length: threads }, (_, t) => ({ file, ranges: tasks.filter((_, i) => i % threads === t).flat() }));
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push((await race<string>(READ_AND_COPY, shares)).seconds);
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1]!, min: times[0]! };
}

/**
 * `bytes` written as new files of `fileBytes` by `threads` threads in a fresh directory under
 * `parent`, read back, removed: the slowest thread's write and read seconds.
 */
export async function writeFiles(parent: string, bytes: number, fileBytes: number, threads: number): Promise<{ write: number; read: number }> {
  const dirs = Array.from({ length: threads }, () => mkdtempSync(join(parent, "tessera-bench-write-")));
  try {
    const files = Math.max(1, Math.round(bytes / fileBytes / threads));
    const { results } = await race<{ write: number; read: number }>(WRITE_FILES, dirs.map((dir) => ({ dir, files, fileBytes })));
    return { write: Math.max(...results.map((r) => r.write)), read: Math.max(...results.map((r) => r.read)) };
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * How many cores this process gets right now: a fixed integer loop on 1 thread, then on 2 at
 * once (worker_threads); parallelism = 2 x t1 / t2 (2.0: both cores free; 1.0: the second
 * thread found no free core: another process is busy). Shared machines make this move between
 * runs; the scan's speedup and every 2-thread time should be read next to it.
 */
export async function calibrate(): Promise<{ one: number; two: number; parallelism: number }> {
  const code = `const { parentPort } = require("node:worker_threads");
    const t = performance.now(); let x = 1;
    for (let i = 0; i < 150000000; i++) x = (x * 1664525 + 1013904223) | 0;
    parentPort.postMessage(performance.now() - t + (x === 42 ? 1 : 0));`;
  const run = (threads: number) =>
    Promise.all(
      Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
        const w = new Worker(code, { eval: true });
        w.once("message", (ms: number) => resolve(ms / 1000));
        w.once("error", reject);
      })),
    );
  await run(1);
  const one = Math.min(...(await run(1)), ...(await run(1)));
  const two = Math.max(...(await run(2)));
  return { one, two, parallelism: (2 * one) / two };
}
