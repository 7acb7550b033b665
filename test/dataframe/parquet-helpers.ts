/**
 * Shared by the Parquet reader tests: reading a dataset the way the workers do (resolve, then
 * one op call per part), column values as plain JS, and a few generated files.
 */

import { rng } from "../kernels/helpers.js";
import { fileURLToPath } from "node:url";
import { concatFrames, stringsOf, type Column, type Frame } from "../../src/dataframe/frame.js";
import type { Filters } from "../../src/dataframe/io/filters.js";
import { resolveParquet, type ParquetDataset, type ReadParquetOptions } from "../../src/dataframe/io/parquet.js";
import { readParquetPart } from "../../src/dataframe/io/parquet-read.js";
import type { SourceInput } from "../../src/dataframe/io/source.js";
import { frameToParquet } from "../../src/dataframe/io/writers.js";

/** ../shared/parquet-testing beside the repository. */
export const TESTING = fileURLToPath(new URL("../../../shared/parquet-testing/", import.meta.url));

export function valuesOf(c: Column): unknown[] {
  if (c.type === "string") return stringsOf(c);
  return Array.from(c.data as ArrayLike<unknown>, (x, i) => (c.valid && !c.valid[i] ? null : x));
}

export function columnsOf(f: Frame): Record<string, unknown[]> {
  return Object.fromEntries(f.names.map((n, i) => [n, valuesOf(f.columns[i]!)]));
}

export async function readParts(ds: ParquetDataset, columns: string[] | null = null, filters: Filters | null = null): Promise<Frame[]> {
  // In order, so a corrupt file reports its first bad part, the same one every run.
  const frames: Frame[] = [];
  for (const p of ds.parts) frames.push(await readParquetPart(p, columns, filters));
  return frames;
}

export { rng };

/** resolve + read every part + concatenate. */
export async function readAll(source: SourceInput, options: ReadParquetOptions = {}, columns: string[] | null = null): Promise<Frame> {
  const ds = await resolveParquet(source, options);
  return concatFrames(await readParts(ds, columns, options.filters ?? null));
}


/** x = 0..n-1 (int32, sorted), f = random float64, s = one of 5 strings, k = x as int64; `rowGroupSize` rows per group. */
export function sortedFile(n: number, rowGroupSize: number, seed = 1): Uint8Array<ArrayBuffer> {
  const r = rng(seed);
  const x = new Int32Array(n).map((_, i) => i);
  const f = new Float64Array(n).map(() => r() * 2 - 1);
  const codes = new Int32Array(n).map((_, i) => i % 5);
  const k = new BigInt64Array(n).map((_, i) => BigInt(i));
  const frame: Frame = {
    length: n,
    names: ["x", "f", "s", "k"],
    columns: [
      { type: "int32", data: x },
      { type: "float64", data: f },
      { type: "string", data: codes, dictionary: ["a", "b", "c", "d", "e"] },
      { type: "int64", data: k },
    ],
  };
  return parquetBytes(frame, { rowGroupSize });
}

/** toParquet's bytes, in a buffer of their own (a BlobPart). */
export function parquetBytes(frame: Frame, options: Parameters<typeof frameToParquet>[1] = {}): Uint8Array<ArrayBuffer> {
  return new Uint8Array(frameToParquet(frame, options));
}

/** An AsyncBuffer over bytes that counts what is read. */
export function countingBuffer(bytes: Uint8Array): { byteLength: number; slice(s: number, e?: number): Promise<ArrayBuffer>; reads: number; bytes: number } {
  const buf = {
    byteLength: bytes.length,
    reads: 0,
    bytes: 0,
    async slice(s: number, e = bytes.length) {
      buf.reads++;
      buf.bytes += e - s;
      return bytes.slice(s, e).buffer;
    },
  };
  return buf;
}
