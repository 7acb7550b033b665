/**
 * The groupby kernel on one thread, against DuckDB and Arquero on the same data, in the same run:
 *
 *   groupby-kernel-10m   10M rows, `key` int32 in [0, 1000), f0..f3 float64; per key the sum,
 *                        mean and count of f0..f3, groups sorted by key.
 *     tessera-js-heap    groupbyPartial + finalizeGroupby over columns on the JS heap (each
 *                        block copied through wasm memory, as a freshly read partition is)
 *     tessera-wasm       the same over columns that already live in wasm memory (read in place)
 *     tessera-10-parts   ten 1M-row partials, combined, then finalized (the collection's shape)
 *     duckdb-1t / -2t    `SELECT key, sum, avg, count ... GROUP BY key ORDER BY key` on a
 *                        DuckDB in-memory table (threads = 1, then 2)
 *     arquero            table.groupby("key").rollup({ sum, mean, valid }) over typed arrays
 *
 * rows_per_s = 10M / seconds (best of N after warm-up runs). `ok` compares the tessera result
 * with DuckDB's (sums and means to 1e-9 relative, counts exactly). `--quick`: 2M rows.
 *
 * Run: `npx tsx -e 'import("./bench/groupby-kernel.ts").then((m) => m.runGroupbyKernelBench({ emit: (c) => console.log(JSON.stringify(c)) }))'`
 * or, once built (build/bench/groupby-kernel.js), through the CLI's bench runner.
 */

export interface GroupbyKernelCase {
  case: string;
  impl: string;
  seconds: number;
  rows_per_s: number;
  ok: boolean;
}

// Structural types of what the bench uses (no import of dist/ or src/ types: this file builds
// with rootDir bench/ whatever has been built).
interface Col {
  type: string;
  data: ArrayLike<number | bigint>;
  valid?: Uint8Array;
}
interface Fr {
  length: number;
  names: string[];
  columns: Col[];
}
interface Kern {
  alloc(nbytes: number): number;
  memory: WebAssembly.Memory;
}
type Aggs = Record<string, readonly string[]>;
interface Api {
  groupbyPartial(k: Kern, f: Fr, by: string[], aggs: Aggs): Fr;
  combineGroupbyPartials(k: Kern, parts: Fr[]): Fr;
  finalizeGroupby(k: Kern, p: Fr, aggs: Aggs): Fr;
}
interface NodeLoader {
  loadKernelsFromFile(o: { initialBytes?: number }): Promise<Kern>;
}

/** Built (build/bench/x.js): the dist/ modules; run from source (tsx): src/. */
async function load(): Promise<[Api, NodeLoader]> {
  const built = import.meta.url.includes("/build/bench/");
  const base = new URL(built ? "../../dist/" : "../src/", import.meta.url);
  const ext = built ? ".js" : ".ts";
  const api = (await import(new URL(`dataframe/kernels/index${ext}`, base).href)) as Api;
  const node = (await import(new URL(`kernels/node${ext}`, base).href)) as NodeLoader;
  return [api, node];
}

async function best<T>(repeat: number, warmup: number, fn: () => T | Promise<T>): Promise<{ seconds: number; value: T }> {
  let value = await fn();
  for (let i = 1; i < warmup; i++) value = await fn();
  let seconds = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    value = await fn();
    seconds = Math.min(seconds, (performance.now() - t0) / 1000);
  }
  return { seconds, value };
}

function makeData(n: number): { key: Int32Array; f: Float64Array[] } {
  let s = 0x9e3779b9;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const key = new Int32Array(n);
  for (let i = 0; i < n; i++) key[i] = Math.floor(rnd() * 1000);
  const f = [0, 1, 2, 3].map(() => {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = rnd() * 2 - 1;
    return a;
  });
  return { key, f };
}

const AGGS: Aggs = { f0: ["sum", "mean", "count"], f1: ["sum", "mean", "count"], f2: ["sum", "mean", "count"], f3: ["sum", "mean", "count"] };

/** key -> [sum0, mean0, count0, sum1, ...] from a finalized frame. */
function tesseraResult(f: Fr): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let g = 0; g < f.length; g++) out.set(Number(f.columns[0]!.data[g]), f.columns.slice(1).map((c) => Number(c.data[g])));
  return out;
}

function agrees(a: Map<number, number[]>, b: Map<number, number[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, xs] of a) {
    const ys = b.get(key);
    if (!ys || ys.some((y, i) => Math.abs(y - xs[i]!) > 1e-9 * Math.max(1, Math.abs(y)))) return false;
  }
  return true;
}

export async function runGroupbyKernelBench(options: { quick?: boolean; emit(c: GroupbyKernelCase): void }): Promise<void> {
  const [api, node] = await load();
  const n = options.quick ? 2_000_000 : 10_000_000;
  const repeat = options.quick ? 3 : 5;
  const k = await node.loadKernelsFromFile({ initialBytes: 1024 * 2 ** 20 });
  const { key, f } = makeData(n);
  const heapFrame: Fr = { length: n, names: ["key", "f0", "f1", "f2", "f3"], columns: [{ type: "int32", data: key }, ...f.map((a) => ({ type: "float64", data: a }))] };
  // The same columns placed in wasm memory (as the chunk store keeps them), allocated up front.
  const kp = k.alloc(n * 4), fp = f.map(() => k.alloc(n * 8));
  new Int32Array(k.memory.buffer, kp, n).set(key);
  f.forEach((a, j) => new Float64Array(k.memory.buffer, fp[j]!, n).set(a));
  const wasmFrame = (): Fr => ({
    length: n,
    names: heapFrame.names,
    columns: [{ type: "int32", data: new Int32Array(k.memory.buffer, kp, n) }, ...fp.map((p) => ({ type: "float64", data: new Float64Array(k.memory.buffer, p, n) }))],
  });
  const emit = (impl: string, seconds: number, ok: boolean) =>
    options.emit({ case: `groupby-kernel-${n / 1e6}m`, impl, seconds, rows_per_s: n / seconds, ok });

  // DuckDB first: its answer is the reference.
  const { DuckDBInstance, DOUBLE, INTEGER, DuckDBDataChunk } = await import("@duckdb/node-api");
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  await conn.run("CREATE TABLE t (key INTEGER, f0 DOUBLE, f1 DOUBLE, f2 DOUBLE, f3 DOUBLE)");
  const appender = await conn.createAppender("t");
  const CH = 2048;
  for (let s = 0; s < n; s += CH) {
    const m = Math.min(CH, n - s);
    const chunk = DuckDBDataChunk.create([INTEGER, DOUBLE, DOUBLE, DOUBLE, DOUBLE], m);
    chunk.setColumnValues(0, Array.from(key.subarray(s, s + m)));
    f.forEach((a, j) => chunk.setColumnValues(j + 1, Array.from(a.subarray(s, s + m))));
    appender.appendDataChunk(chunk);
  }
  appender.closeSync();
  const cols = [0, 1, 2, 3].map((j) => `sum(f${j}), avg(f${j}), count(f${j})`).join(", ");
  const sql = `SELECT key, ${cols} FROM t GROUP BY key ORDER BY key`;
  let reference = new Map<number, number[]>();
  for (const threads of [1, 2]) {
    await conn.run(`SET threads = ${threads}`);
    const r = await best(repeat, 2, async () => (await conn.runAndReadAll(sql)).getRows());
    reference = new Map(r.value.map((row) => [Number(row[0]), row.slice(1).map(Number)]));
    emit(`duckdb-${threads}t`, r.seconds, true);
  }
  conn.closeSync();

  const heap = await best(repeat, 3, () => api.finalizeGroupby(k, api.groupbyPartial(k, heapFrame, ["key"], AGGS), AGGS));
  emit("tessera-js-heap", heap.seconds, agrees(tesseraResult(heap.value), reference));
  const inWasm = await best(repeat, 2, () => api.finalizeGroupby(k, api.groupbyPartial(k, wasmFrame(), ["key"], AGGS), AGGS));
  emit("tessera-wasm", inWasm.seconds, agrees(tesseraResult(inWasm.value), reference));
  const parts = await best(repeat, 2, () => {
    const step = Math.ceil(n / 10);
    const partials: Fr[] = [];
    for (let s = 0; s < n; s += step) {
      const e = Math.min(n, s + step);
      const part: Fr = { length: e - s, names: heapFrame.names, columns: heapFrame.columns.map((c) => ({ type: c.type, data: (c.data as Float64Array).subarray(s, e) })) };
      partials.push(api.groupbyPartial(k, part, ["key"], AGGS));
    }
    return api.finalizeGroupby(k, api.combineGroupbyPartials(k, partials), AGGS);
  });
  emit("tessera-10-parts", parts.seconds, agrees(tesseraResult(parts.value), reference));

  const aq = await import("arquero");
  const table = aq.table({ key, f0: f[0]!, f1: f[1]!, f2: f[2]!, f3: f[3]! });
  const rollup: Record<string, unknown> = {};
  for (let j = 0; j < 4; j++) {
    rollup[`f${j}_sum`] = aq.op.sum(`f${j}`);
    rollup[`f${j}_mean`] = aq.op.mean(`f${j}`);
    rollup[`f${j}_count`] = aq.op.valid(`f${j}`);
  }
  const arq = await best(options.quick ? 2 : 3, 1, () => table.groupby("key").rollup(rollup as never).orderby("key"));
  emit("arquero", arq.seconds, arq.value.numRows() === reference.size);
}
