/**
 * Out-of-core: a sum, a groupby and an iteration over data 4x the cluster's memory limit (2
 * workers x 256 MiB, 2 GiB of data; --quick: 2 x 64 MiB, 512 MiB), persisted (so most of it is
 * spilled to disk and read back), against the same work on a cluster whose limit holds everything.
 *
 *   sum-4x       da.random.uniform([N], chunks of limit/8 bytes).persist(), then .sum()
 *   groupby-4x   a dataframe made on the workers (int32 key in [0,1000), float64 value; 32 MiB
 *                partitions of about limit/8 bytes), persisted, then groupby(key).agg({ value: [sum, count] })
 *   iterate-4x   the sum-4x array, then three rounds of x = (x * 0.5 + 1).persist(), each round's
 *                input let go once its output is persisted (as an iterative algorithm does), then
 *                .sum(): values on disk are freed while others are being spilled
 *
 * Each row: seconds for persist + compute (the whole job), the bytes the workers spilled, and
 * the peak RSS of the process (worker_threads live in it: this is the whole process tree),
 * read from /proc (VmHWM, reset before each case through /proc/self/clear_refs where the kernel
 * allows it, otherwise sampled every 20 ms). Goals: peak RSS <= the sum of the limits + 300 MB;
 * throughput >= 50% of the in-memory run ("ratio" = in-memory seconds / spilling seconds), for
 * the sum and the groupby (the iteration carries no goal fields).
 * Both runs check their answers: the sums against the in-memory sums (and their expected mean),
 * the groupby counts against the row count. A `disk-2t` row per case: the bytes that case spilled, written as new files by
 * two plain threads and read back (no tessera), and `bound_ratio`, the throughput ratio a spill
 * costing only that would reach: what this machine's disk leaves of the goal.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { LocalCluster, array as da, dataframe as dd, type Client } from "tessera";
import { writeFiles } from "./reference.js";

export interface MemoryCase {
  case: string;
  impl: string;
  seconds: number;
  peak_rss_bytes: number;
  /** CPU seconds of the process over the job (user + system, every thread). */
  cpu_seconds: number;
  spilled_bytes: number;
  /** What those bytes took on disk (smaller where spill compression paid). */
  spilled_disk_bytes: number;
  /** The cluster's memory limits together (absent for disk-2t, which runs no cluster). */
  limit_total_bytes?: number;
  data_bytes: number;
  ratio?: number;
  /** disk-2t: seconds of the plain writes and reads, and the ratio they alone would leave. */
  write_seconds?: number;
  read_seconds?: number;
  bound_ratio?: number;
  goal_rss?: boolean;
  goal_throughput?: boolean;
  ok: boolean;
}

const MiB = 2 ** 20;

function vmHWM(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak RSS over `run`: the kernel's high-water mark when it can be reset, else sampled. */
async function peakRss<T>(run: () => Promise<T>): Promise<{ peak: number; value: T }> {
  let resettable = false;
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    resettable = true;
  } catch {
    // not Linux, or not allowed: sample
  }
  let sampled = process.memoryUsage().rss;
  const timer = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 20);
  try {
    const value = await run();
    sampled = Math.max(sampled, process.memoryUsage().rss);
    const hwm = resettable ? vmHWM() : undefined;
    return { peak: Math.max(sampled, hwm ?? 0), value };
  } finally {
    clearInterval(timer);
  }
}

/** CPU seconds of the whole process (all its threads) since `c0`: steadier than wall time on a shared host. */
function cpuSince(c0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e6;
}

/** Bytes spilled, as sizes in memory and as written to disk (compressed). */
async function spilledBytes(client: Client): Promise<{ memory: number; disk: number }> {
  const ms = await client.metrics();
  return {
    memory: ms.reduce((s, m) => s + (m.memory?.spillBytes ?? 0), 0),
    disk: ms.reduce((s, m) => s + (m.memory?.spillDiskBytes ?? 0), 0),
  };
}

async function withCluster<T>(memoryLimit: number, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = await LocalCluster.start({
    workers: 2,
    memoryLimit,
    // Where spill files go (default: os.tmpdir()); e.g. /dev/shm to take the disk out of the figure.
    ...(process.env.TESSERA_BENCH_SPILL_DIR ? { localDirectory: process.env.TESSERA_BENCH_SPILL_DIR } : {}),
    // TESSERA_BENCH_SPILL_COMPRESSION=1 (or 0) compresses spilled buffers (or not): A/B runs.
    ...(process.env.TESSERA_BENCH_SPILL_COMPRESSION ? { memory: { spillCompression: process.env.TESSERA_BENCH_SPILL_COMPRESSION === "1" } } : {}),
    modules: [{ url: new URL("./memory-ops.js", import.meta.url), name: "membench" }],
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

interface Outcome {
  seconds: number;
  cpu: number;
  spilled: { memory: number; disk: number };
  answer: number;
  ok: boolean;
}

async function sumCase(client: Client, n: number, chunk: number): Promise<Outcome> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const x = await da.random.uniform([n], { chunks: [chunk], seed: 7 }).persist();
  const total = await x.sum().item();
  const seconds = (performance.now() - t0) / 1000;
  release(x);
  return { seconds, cpu: cpuSince(c0), spilled: await spilledBytes(client), answer: total, ok: Math.abs(total / n - 0.5) < 0.01 };
}

/** Let go of a persisted array's blocks now (not when it is garbage collected). */
function release(x: { anchors: readonly { futures: readonly unknown[] }[] }): void {
  for (const a of x.anchors) for (const f of a.futures) (f as { release?(): void }).release?.();
}

const ROUNDS = 3;

async function iterateCase(client: Client, n: number, chunk: number): Promise<Outcome> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let x = await da.random.uniform([n], { chunks: [chunk], seed: 7 }).persist();
  let mean = 0.5;
  for (let i = 0; i < ROUNDS; i++) {
    const y = await x.mul(0.5).add(1).persist();
    release(x);
    x = y;
    mean = mean * 0.5 + 1;
  }
  const total = await x.sum().item();
  const seconds = (performance.now() - t0) / 1000;
  release(x);
  return { seconds, cpu: cpuSince(c0), spilled: await spilledBytes(client), answer: total, ok: Math.abs(total / n - mean) < 0.01 };
}

async function groupbyCase(client: Client, parts: number, chunk: number): Promise<Outcome> {
  const rows = parts * chunk;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const seeds = dd.fromArrays({ p: Int32Array.from({ length: parts }, (_, i) => i) }, { npartitions: parts });
  const meta = { names: ["key", "value"], types: [{ type: "int32" as const }, { type: "float64" as const }] };
  const df = await (await dd.mapPartitions(seeds, "membench.makePartition", { meta, args: [chunk] })).persist();
  const t = await df.groupby("key").agg({ value: ["sum", "count"] }).compute();
  const seconds = (performance.now() - t0) / 1000;
  const counts = t.getChild("value_count")!.toArray() as BigInt64Array;
  const sums = t.getChild("value_sum")!.toArray() as Float64Array;
  const counted = counts.reduce((s, c) => s + Number(c), 0);
  return { seconds, cpu: cpuSince(c0), spilled: await spilledBytes(client), answer: sums.reduce((s, v) => s + v, 0), ok: t.numRows === 1000 && counted === rows };
}

export async function runMemoryBench(opts: { quick: boolean; emit: (row: MemoryCase) => void }): Promise<void> {
  const limit = (opts.quick ? 64 : 256) * MiB;
  const dataBytes = 4 * 2 * limit;
  const n = dataBytes / 8;
  // The in-memory run: a limit that holds all the data (twice over, for the partials).
  const roomy = dataBytes * 2;
  // Blocks well under the limit (dask's advice): a worker holds several while it spills others.
  const chunk = limit / 8 / 8; // f64 elements (or rows) per block: limit/8 bytes
  // 12 bytes a row (int32 key, float64 value): enough whole partitions for 4x the limits.
  const parts = Math.ceil(dataBytes / (12 * chunk));
  const cases: [string, (c: Client) => Promise<Outcome>, number][] = [
    ["sum-4x", (c) => sumCase(c, n, chunk), dataBytes],
    ["groupby-4x", (c) => groupbyCase(c, parts, chunk), parts * chunk * 12],
    ["iterate-4x", (c) => iterateCase(c, n, chunk), dataBytes],
  ];
  for (const [name, run, bytes] of cases) {
    const spill = await peakRss(() => withCluster(limit, run));
    const mem = await peakRss(() => withCluster(roomy, run));
    const ratio = mem.value.seconds / spill.value.seconds;
    const same = name !== "groupby-4x" ? spill.value.answer === mem.value.answer : Math.abs(spill.value.answer - mem.value.answer) < 1e-6 * Math.abs(mem.value.answer);
    opts.emit({
      case: name,
      impl: "tessera-spill",
      seconds: spill.value.seconds,
      cpu_seconds: spill.value.cpu,
      peak_rss_bytes: spill.peak,
      spilled_bytes: spill.value.spilled.memory,
      spilled_disk_bytes: spill.value.spilled.disk,
      limit_total_bytes: 2 * limit,
      data_bytes: bytes,
      ratio,
      // The goals are for the sum and the groupby; the iteration is measured beside them.
      ...(name === "iterate-4x" ? {} : { goal_rss: spill.peak <= 2 * limit + 300e6, goal_throughput: ratio >= 0.5 }),
      ok: spill.value.ok && same,
    });
    // The disk's part: the bytes this case spilled, written as new files by 2 plain threads
    // and read back (bench/reference.ts). `bound_ratio`: the ratio a spilling run would reach if
    // spilling cost no more than that, on top of the in-memory run.
    const c0 = process.cpuUsage();
    const disk = await peakRss(() => writeFiles(process.env.TESSERA_BENCH_SPILL_DIR ?? tmpdir(), spill.value.spilled.disk, limit / 8, 2));
    const { write, read } = disk.value;
    opts.emit({
      case: name,
      impl: "disk-2t",
      seconds: write + read,
      write_seconds: write,
      read_seconds: read,
      peak_rss_bytes: disk.peak,
      cpu_seconds: cpuSince(c0),
      // What it wrote: the spilling run's bytes on disk (no limit: plain threads).
      spilled_bytes: spill.value.spilled.disk,
      spilled_disk_bytes: spill.value.spilled.disk,
      data_bytes: bytes,
      bound_ratio: mem.value.seconds / (mem.value.seconds + write + read),
      ok: true,
    });
    opts.emit({
      case: name,
      impl: "tessera-in-memory",
      seconds: mem.value.seconds,
      cpu_seconds: mem.value.cpu,
      peak_rss_bytes: mem.peak,
      spilled_bytes: mem.value.spilled.memory,
      spilled_disk_bytes: mem.value.spilled.disk,
      limit_total_bytes: 2 * roomy,
      data_bytes: bytes,
      ok: mem.value.ok,
    });
  }
}
