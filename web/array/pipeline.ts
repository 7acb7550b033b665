/**
 * One fixed array pipeline, run unchanged in two places: the browser page (web/array/main.ts, a
 * 2-worker LocalCluster on Web Workers) and Node (test/e2e/array.test.ts, a 2-worker
 * LocalCluster on worker_threads). The test compares the two bit for bit: the same graph over the
 * same wasm kernels must give the same bytes, whichever JavaScript engine and worker kind ran it.
 *
 *   random.normal (Philox, seeded) -> an elementwise chain with transcendentals (one fused pass)
 *     -> a full reduction, an axis reduction, mean/var/std/max/argmin
 *   random.uniform float32 -> sigmoid -> sum;  random.integers -> astype -> axis sum
 *   fromTypedArray (client data) -> rechunk -> axis mean, var
 *
 * It imports only "tessera", so the page gets the browser build and Node the Node build (the
 * package's "exports" conditions). Results are plain data: each output's dtype, shape and every
 * element's bits as hex, so nothing is lost to printing or JSON.
 */

import { array as da, type Client } from "tessera";

type ChunkedArray = da.ChunkedArray;
type NDArray = da.NDArray;

export interface PipelineOutput {
  name: string;
  dtype: string;
  shape: number[];
  /** Every element's bits, big-endian hex (16 digits for float64, 8 for float32/int32, 2 for uint8/bool). */
  hex: string[];
}

/** What the page publishes on `window.__tesseraArray` for the test. */
export interface ArrayPageReport {
  done: boolean;
  outputs: PipelineOutput[];
  crossOriginIsolated: boolean;
  workers: number;
  ms: number;
  error?: string;
}

declare global {
  interface Window {
    __tesseraArray?: ArrayPageReport;
  }
}

/** Deterministic client data (an LCG), so both sides build the same fromTypedArray input. */
function lcgData(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.25;
  });
}

/** The pipeline's outputs, by name, as lazy arrays. */
export function pipeline(): [string, ChunkedArray][] {
  const x = da.random.normal([120, 40], { chunks: [32, 15], seed: 20261126 });
  // One fused expression with transcendentals (musl's math in wasm: exp, log, sin, cos, tanh, sigmoid, pow).
  const chain = x
    .mul(1.5)
    .sin()
    .add(x.cos().mul(0.5))
    .sub(x.abs().add(1).log())
    .add(x.sigmoid())
    .mul(x.tanh())
    .add(x.mul(0.25).exp())
    .abs()
    .add(0.5)
    .pow(1.5);
  const masked = da.where(x.gt(0), x.sqrt(), x.neg().exp()).clip(0.1, 2);
  const u = da.random.uniform([1000], { chunks: [128], seed: 7, dtype: "float32" });
  const ints = da.random.integers([50, 20], { low: -3, high: 4, chunks: [16, 7], seed: 3 });
  const m = da.fromTypedArray(lcgData(40 * 30, 11), { shape: [40, 30], chunks: [7, 11] }).rechunk([13, 8]);
  return [
    ["normal", x],
    ["chain", chain],
    ["chain.sum()", chain.sum()],
    ["chain.sum(axis=0)", chain.sum({ axis: 0 })],
    ["x.mean()", x.mean()],
    ["x.var(ddof=1)", x.var({ ddof: 1 })],
    ["x.std(axis=1)", x.std({ axis: 1 })],
    ["x.max()", x.max()],
    ["x.argmin()", x.argmin()],
    ["where(x>0, sqrt x, exp -x).clip(0.1, 2)", masked],
    ["masked.prod(axis=1)", masked.prod({ axis: 1 })],
    ["uniform f32 .sigmoid().sum()", u.sigmoid().sum()],
    ["uniform f32 .exp()", u.exp()],
    ["integers", ints],
    ["integers.astype(f64).sum(axis=0)", ints.astype("float64").sum({ axis: 0 })],
    ["rechunked.mean(axis=1)", m.mean({ axis: 1 })],
    ["rechunked.var()", m.var()],
    ["rechunked.gt(0.7).any(axis=0)", m.gt(0.7).any({ axis: 0 })],
  ];
}

const view = new DataView(new ArrayBuffer(8));

/** One element's bits as hex. */
function bits(v: number, dtype: string): string {
  switch (dtype) {
    case "float64":
      view.setFloat64(0, v);
      return view.getBigUint64(0).toString(16).padStart(16, "0");
    case "float32":
      view.setFloat32(0, v);
      return view.getUint32(0).toString(16).padStart(8, "0");
    case "int32":
      return (v >>> 0).toString(16).padStart(8, "0");
    default:
      return (v & 0xff).toString(16).padStart(2, "0");
  }
}

export function toOutput(name: string, r: NDArray): PipelineOutput {
  return { name, dtype: r.dtype, shape: [...r.shape], hex: Array.from(r.data as ArrayLike<number>, (v) => bits(v, r.dtype)) };
}

/** Run the pipeline on `client` (one graph) and return every output as bits. */
export async function runPipeline(client: Client): Promise<PipelineOutput[]> {
  const named = pipeline();
  const results = (await client.compute(named.map(([, a]) => a))) as unknown as NDArray[];
  return named.map(([name], i) => toOutput(name, results[i]!));
}

/** A short, stable digest of an output's bits (FNV-1a, 32-bit), for the page's table. */
export function digest(o: PipelineOutput): string {
  let h = 0x811c9dc5;
  for (const s of o.hex) {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}
