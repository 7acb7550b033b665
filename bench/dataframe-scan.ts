/**
 * parquet-scan (bench/dataframe.ts): every column of every row group of the file read and
 * decoded. DuckDB on 1 and 2 threads; tessera on a LocalCluster of 1 and of 2 workers; and two
 * references that take tessera's figure apart, so a speedup short of the goal says where:
 *
 *   decode-1t / decode-2t   tessera's Parquet reader (readParquetPart) on plain threads, no
 *                           cluster: row groups dealt to the threads in turn, every frame held
 *                           to the end of the run and then let go (its buffers reused in the
 *                           next, as a worker's are). The decoder's own scaling; what the cluster
 *                           scan adds is footer reading, scheduling and storing.
 *   memory-1t / memory-2t   (bench/reference.ts) the row groups' bytes read from the page cache
 *                           and copied once by plain threads, no tessera: the least memory
 *                           traffic of a scan, and so the most a second thread can give it here.
 */

import { totalmem } from "node:os";
import { Worker } from "node:worker_threads";
import { COLLECTION, LocalCluster, PREPARE, dataframe as dd, type Collection } from "tessera";
import type { DataframeCase } from "./dataframe.js";
import { readAndCopy } from "./reference.js";
import { summary, tasksRun, timed } from "./timing.js";

const SCAN_GOAL = "2 workers >= 1.8x 1 worker (warm)";
/**
 * Row groups each worker (or decode thread) reads before the warm figures are timed. V8
 * optimizes a worker's code by how much of it has run, in the background on the process's
 * shared threads; on a 2-core machine that compiling competes with 2 workers but not with 1.
 * A worker of a 2-worker cluster reads half of each scan, so it gets there after twice the
 * scans (--trace-opt: compiles, and the deopts that redo them, go on for ~100 scans of this
 * file there). The cold figures are the fresh cluster's first timed scans.
 */
const WARM_ROW_GROUPS = 1000;
const REFERENCE_MEASURES = "no tessera: every row group's column chunks pread from the file (page cache) and copied once more, row groups dealt to the threads in turn";
const DECODE_MEASURES = `tessera's Parquet reader on plain threads, no cluster: every column of each row group decoded (readParquetPart), row groups dealt to the threads in turn, all held until the run ends, then released (their buffers reused in the next run); timed after each thread decoded ${WARM_ROW_GROUPS} row groups`;

/** Decode on a thread: tessera's modules by URL (this thread's own copies), kernels as a worker sets them. */
const DECODE = `
const { parentPort, workerData } = require("node:worker_threads");
const { urls, parts, maximumBytes, warm } = workerData;
(async () => {
  const { configureKernels } = await import(urls.instance);
  const { readWasm } = await import(urls.node);
  configureKernels({ source: () => readWasm(), maximumBytes });
  const { readParquetPart } = await import(urls.read);
  const { RELEASE } = await import(urls.resource);
  // Every part's frame is held until the run ends, as the scan's persist holds its partitions
  // (each decoded into memory of its own, not the last one's buffers while still in cache).
  const held = [];
  const decode = async () => {
    let rows = 0;
    for (const p of parts) {
      const f = await readParquetPart(p, null, null);
      rows += f.length;
      held.push(f);
    }
    return rows;
  };
  const release = () => {
    for (const f of held.splice(0)) f[RELEASE]?.();
  };
  // Outside the clock: code optimized (as a warm worker's), buffers in the pool.
  for (let i = 0; i < warm; i++) {
    await decode();
    release();
    // Released buffers go back to the pool on a timer (as after a worker's task): let it fire.
    await new Promise((r) => setTimeout(r, 0));
  }
  parentPort.postMessage("ready");
  parentPort.on("message", async () => {
    parentPort.postMessage(await decode());
    release();
  });
})();`;

/** `runs` timed decodes of the whole file on `threads` threads: median, best, rows decoded (per run). */
async function decodeOnThreads(file: string, threads: number, runs: number): Promise<{ median: number; min: number; rows: number }> {
  const dist = import.meta.resolve("tessera");
  const url = (p: string) => new URL(p, dist).href;
  const urls = { instance: url("./kernels/instance.js"), node: url("./kernels/node.js"), read: url("./dataframe/io/parquet-read.js"), resource: url("./worker/resource.js") };
  const { resolveParquet } = (await import(url("./dataframe/io/parquet.js"))) as { resolveParquet(f: string): Promise<{ parts: unknown[] }> };
  const { parts } = await resolveParquet(file);
  const maximumBytes = totalmem() / threads; // what a LocalCluster worker gets by default
  const workers = Array.from({ length: threads }, (_, t) => {
    const mine = parts.filter((_, i) => i % threads === t);
    const warm = Math.max(1, Math.ceil(WARM_ROW_GROUPS / mine.length));
    return new Worker(DECODE, { eval: true, workerData: { urls, maximumBytes, parts: mine, warm } });
  });
  const next = (w: Worker) => new Promise<number>((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
  try {
    await Promise.all(workers.map(next));
    const times: number[] = [];
    let rows = 0;
    for (let r = 0; r < runs; r++) {
      const done = workers.map(next);
      const t0 = performance.now();
      for (const w of workers) w.postMessage("go");
      rows = (await Promise.all(done)).reduce((a, b) => a + b, 0);
      times.push((performance.now() - t0) / 1000);
    }
    return { ...summary(times), rows };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

interface ScanSetup {
  conn: { run(sql: string): Promise<unknown>; runAndReadAll(sql: string): Promise<{ getRows(): unknown[][] }>; closeSync(): void };
  /** read_parquet(file) in SQL, and the file as an SQL string literal. */
  from: string;
  sqlFile: string;
  file: string;
  n: number;
  rowGroup: number;
  /** DuckDB's scans (1-2 s each); tessera's and the references (a tenth of that) take 3x as many, for a steadier median. */
  runs: number;
  warmup: number;
  emit: (c: DataframeCase) => void;
}

/** The parquet-scan rows. Closes `conn` (DuckDB's threads would compete with the scans after). */
export async function scanCases({ conn, from, sqlFile, file, n, rowGroup, runs, warmup, emit }: ScanSetup): Promise<void> {
  const quickRuns = 3 * runs;
  const scanMeasures = `all 6 columns of every row group read, decompressed and decoded into worker memory (persist, then release); nothing sent to the client; timed after each worker read ${WARM_ROW_GROUPS} row groups (cold_seconds: the fresh cluster's scans ${warmup + 1}-${warmup + quickRuns})`;
  for (const threads of [1, 2]) {
    await conn.run(`SET threads = ${threads}`);
    const r = await timed(1, runs, async () => {
      await conn.run(`CREATE OR REPLACE TEMP TABLE scan AS SELECT * FROM ${from}`);
      await conn.run("DROP TABLE scan");
    });
    emit({ case: "parquet-scan", impl: `duckdb-${threads}t`, source: "parquet", seconds: r.median, min_seconds: r.min, runs: r.runs, rows: n, threads, ok: true, measures: "CREATE TABLE AS SELECT * FROM read_parquet(file)" });
  }
  // Each row group's column chunks as byte ranges of the file, for the memory reference below.
  const chunkRows = (await conn.runAndReadAll(
    `SELECT row_group_id, least(coalesce(dictionary_page_offset, data_page_offset), data_page_offset), total_compressed_size FROM parquet_metadata(${sqlFile})`,
  )).getRows() as [bigint | number, bigint | number, bigint | number][];
  conn.closeSync();
  const rowGroupRanges: [number, number][][] = [];
  for (const [g, start, size] of chunkRows) (rowGroupRanges[Number(g)] ??= []).push([Number(start), Number(start) + Number(size)]);

  let oneWorker = NaN, twoWorkers = NaN, oneCold = NaN;
  for (const workers of [1, 2]) {
    const c = await LocalCluster.start({ workers });
    try {
      const cpu: number[] = [];
      const scan = async () => {
        const c0 = process.cpuUsage();
        const df = dd.readParquet(file);
        await df[PREPARE]();
        const spec = df[COLLECTION]();
        let futures: { key: string; wait(): Promise<void>; release(): void }[] = [];
        const handle: Collection<unknown> = { [COLLECTION]: () => ({ ...spec, rebuild: (fs) => ((futures = fs as typeof futures), handle) }) };
        c.persist(handle);
        try {
          await Promise.all(futures.map((f) => f.wait()));
        } finally {
          for (const f of futures) f.release();
        }
        const c1 = process.cpuUsage(c0);
        cpu.push((c1.user + c1.system) / 1e6);
        return futures.length;
      };
      const cold = await timed(warmup, quickRuns, scan);
      const scans = Math.ceil((WARM_ROW_GROUPS * workers) / (n / rowGroup));
      for (let i = warmup + quickRuns; i < scans; i++) await scan();
      cpu.length = 0;
      let tasks = 0;
      const r = await timed(0, quickRuns, scan, async () => {
        tasks = await tasksRun(c);
      });
      tasks = ((await tasksRun(c)) - tasks);
      if (workers === 1) {
        oneWorker = r.median;
        oneCold = cold.median;
      } else twoWorkers = r.median;
      const speedup = oneWorker / r.median;
      const ok = [...cold.values, ...r.values].every((parts) => parts === n / rowGroup);
      emit({
        case: "parquet-scan",
        impl: `tessera-${workers}w`,
        source: "parquet",
        seconds: r.median,
        min_seconds: r.min,
        runs: r.runs,
        rows: n,
        workers,
        tasks,
        cold_seconds: cold.median,
        ...(workers === 2 ? { speedup, goal: SCAN_GOAL, goal_met: speedup >= 1.8, cold_speedup: oneCold / cold.median } : {}),
        cpu_seconds: summary(cpu).median,
        ok,
        measures: scanMeasures,
      });
    } finally {
      await c.close();
    }
  }

  // The decoder alone on plain threads, then the machine's part of the scan: its reads from the
  // page cache and one copy of those bytes (bench/reference.ts); the scan cannot scale past that.
  const dec1 = await decodeOnThreads(file, 1, quickRuns);
  const dec2 = await decodeOnThreads(file, 2, quickRuns);
  const decodeOk = dec1.rows === n && dec2.rows === n;
  emit({ case: "parquet-scan", impl: "decode-1t", source: "parquet", seconds: dec1.median, min_seconds: dec1.min, runs: quickRuns, rows: n, threads: 1, ok: decodeOk, measures: DECODE_MEASURES });
  emit({ case: "parquet-scan", impl: "decode-2t", source: "parquet", seconds: dec2.median, min_seconds: dec2.min, runs: quickRuns, rows: n, threads: 2, speedup: dec1.median / dec2.median, scan_speedup: oneWorker / twoWorkers, ok: decodeOk, measures: DECODE_MEASURES });
  const copy1 = await readAndCopy(file, rowGroupRanges, 1, quickRuns);
  const copy2 = await readAndCopy(file, rowGroupRanges, 2, quickRuns);
  emit({ case: "parquet-scan", impl: "memory-1t", source: "parquet", seconds: copy1.median, min_seconds: copy1.min, runs: quickRuns, rows: n, threads: 1, ok: true, measures: REFERENCE_MEASURES });
  emit({ case: "parquet-scan", impl: "memory-2t", source: "parquet", seconds: copy2.median, min_seconds: copy2.min, runs: quickRuns, rows: n, threads: 2, speedup: copy1.median / copy2.median, scan_speedup: oneWorker / twoWorkers, ok: true, measures: REFERENCE_MEASURES });
}
