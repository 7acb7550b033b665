/**
 * Blocks as the ml ops see them: X blocks are f64 [rows, d] in wasm memory (in place for a
 * block this worker made, copied in for one that came from elsewhere), y blocks f64 [rows];
 * dataframe partitions are turned into the same row-major f64 layout.
 */

import { TesseraError } from "../errors.js";
import type { Dtype } from "../kernels/dtypes.js";
import type { Kernels } from "../kernels/kernels.js";
import { asBlock, inWasm, WasmChunk, type InWasm } from "../array/block.js";
import type { Column, Frame } from "../dataframe/frame.js";

// ---- blocks -------------------------------------------------------------------------------

export interface Matrix extends InWasm {
  rows: number;
  d: number;
}

/** An f64 [rows, d] block in wasm memory (in place, or copied in until done()). */
export function matrix(k: Kernels, x: unknown, d: number, what: string): Matrix {
  const b = asBlock(x, what);
  if (b.dtype !== "float64") throw new TesseraError(`${what}: expected a float64 block, got ${b.dtype}`);
  if (b.shape.length !== 2 || b.shape[1] !== d) throw new TesseraError(`${what}: expected a block of ${d} column(s), got shape [${b.shape}]`);
  return { ...inWasm(k, b), rows: b.shape[0]!, d };
}

/** A 1-d block (y; f64 unless said). */
export function vector(k: Kernels, y: unknown, what: string, dtype: Dtype = "float64"): Matrix {
  const b = asBlock(y, what);
  if (b.dtype !== dtype || b.shape.length !== 1) throw new TesseraError(`${what}: expected a 1-d ${dtype} block, got ${b.dtype} [${b.shape}]`);
  return { ...inWasm(k, b), rows: b.shape[0]!, d: 1 };
}

export function using<T>(blocks: (Matrix | undefined)[], fn: () => T): T {
  try {
    return fn();
  } finally {
    for (const b of blocks) b?.done();
  }
}

/** A value for messages: NaN is most often a null of a dataframe column. */
export const show = (v: number): string => (Number.isNaN(v) ? "NaN (or a null)" : String(v));

// ---- dataframe partitions -----------------------------------------------------------------

export function columnValues(frame: Frame, name: string, what: string): Float64Array {
  const i = frame.names.indexOf(name);
  if (i < 0) throw new TesseraError(`${what}: the partition has no column ${JSON.stringify(name)}`);
  const c: Column = frame.columns[i]!;
  const n = frame.length;
  const out = new Float64Array(n);
  const data = c.data;
  if (Array.isArray(data) || c.type === "string" || c.type === "object" || c.type === "timestamp" || c.type === "date32") {
    throw new TesseraError(`${what}: column ${JSON.stringify(name)} is ${c.type}, not numeric; encode it first (getDummies, categorize, astype)`);
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) for (let r = 0; r < n; r++) out[r] = Number(data[r]!);
  else out.set(data as Exclude<typeof data, BigInt64Array | BigUint64Array | unknown[]>);
  // Nulls become NaN, which ml.info reports with the row and column.
  if (c.valid) for (let r = 0; r < n; r++) if (!c.valid[r]) out[r] = NaN;
  return out;
}

/** Feature columns of a partition, row-major f64. */
export function frameRows(frame: Frame, columns: readonly string[], what: string): Float64Array {
  const n = frame.length;
  const d = columns.length;
  const out = new Float64Array(n * d);
  columns.forEach((name, j) => {
    const col = columnValues(frame, name, what);
    for (let r = 0; r < n; r++) out[r * d + j] = col[r]!;
  });
  return out;
}

export function fromJs(k: Kernels, data: Float64Array, shape: number[]): WasmChunk {
  const out = WasmChunk.alloc(k, "float64", shape);
  out.view().set(data);
  return out;
}
