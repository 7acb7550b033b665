// The harness of the reference tests (reference-*.test.ts): seeds, cases, data and comparisons.
//
// Those files test chunked arrays against plain-JS references on random shapes and chunkings.
// Every case is drawn from one seeded generator (mulberry32): SEED below, or $TESSERA_REF_SEED to
// explore others. A case is a shape (1-d, 2-d or 3-d, with size-1 axes) and two chunkings of it
// (one block, single-element blocks, regular blocks with a ragged last one, or random cuts). Every
// failure message starts with the seed, the case number, the shape and both chunkings, so a
// failure reproduces with `TESSERA_REF_SEED=<seed> npx vitest run test/array/reference`.
//
// Here: the 2-worker cluster each file computes on (useCluster), seeded randomness, shapes and
// chunkings, data, comparing computed arrays (bitDiff, refDiff) and the cases. The reference
// itself is reference-semantics.ts; the random expressions and their inputs, reference-exprs.ts.
//
// Known bugs found by these tests are excluded case by case, each at a comment saying KNOWN BUG.
import { afterAll, beforeAll } from "vitest";
import { LocalCluster, array as da, type Client } from "../../dist/index.js";

export type ChunkedArray = da.ChunkedArray;
export type NDArray = da.NDArray;

export const SEED = Number(process.env.TESSERA_REF_SEED ?? 20261126);
const MAX_ULPS = 4;

/** The 2-worker cluster the tests compute on: started by useCluster() before a file's tests. */
export let client: Client;

/** Start `client` before this file's tests and close it after them. */
export function useCluster(): void {
  beforeAll(async () => {
    client = await LocalCluster.start({ workers: 2 });
  });
  afterAll(() => client.close());
}

/** Compute a list of arrays on one client, in one graph. */
export const computeAll = (on: Client, arrays: readonly ChunkedArray[]): Promise<NDArray[]> => on.compute([...arrays]) as unknown as Promise<NDArray[]>;

// ---- seeded randomness ------------------------------------------------------------------

export class Rng {
  constructor(private s: number) {}
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---- shapes and chunkings -----------------------------------------------------------------

export type D = "float64" | "float32" | "int32" | "uint8" | "bool";
export const DTYPES: readonly D[] = ["float64", "float32", "int32", "uint8", "bool"];
export const isFloat = (d: D): boolean => d === "float64" || d === "float32";

export const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

function randomShape(r: Rng): number[] {
  const nd = 1 + r.int(3);
  const max = nd === 1 ? 40 : nd === 2 ? 11 : 6;
  return Array.from({ length: nd }, () => (r.chance(0.2) ? 1 : 2 + r.int(max - 1)));
}

/** Chunk sizes along one axis of length d: one block, all 1, regular (ragged last), or random cuts. */
function randomAxisChunks(r: Rng, d: number): number[] {
  switch (r.int(5)) {
    case 0:
      return [d];
    case 1:
      return new Array<number>(d).fill(1);
    case 2:
    case 3: {
      const c = 1 + r.int(Math.max(1, d - 1));
      const out: number[] = [];
      for (let at = 0; at < d; at += c) out.push(Math.min(c, d - at));
      return out;
    }
    default: {
      const out: number[] = [];
      let left = d;
      while (left > 0) {
        const c = 1 + r.int(Math.min(left, 1 + Math.ceil(d / 2)));
        out.push(c);
        left -= c;
      }
      return out;
    }
  }
}

export const randomChunks = (r: Rng, shape: readonly number[]): number[][] => shape.map((d) => randomAxisChunks(r, d));

/** A second chunking that differs from `a` wherever an axis can be cut differently. */
function otherChunks(r: Rng, shape: readonly number[], a: readonly number[][]): number[][] {
  for (let tries = 0; tries < 20; tries++) {
    const b = randomChunks(r, shape);
    if (JSON.stringify(b) !== JSON.stringify(a)) return b;
  }
  return shape.map((d) => new Array<number>(d).fill(1));
}

/** A shape that broadcasts against `shape`: some axes set to 1, maybe some leading axes dropped. */
export function broadcastShapeOf(r: Rng, shape: readonly number[], p1: number): number[] {
  const drop = shape.length > 1 && r.chance(0.3) ? 1 + r.int(shape.length - 1) : 0;
  return shape.slice(drop).map((d) => (r.chance(p1) ? 1 : d));
}

export function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const nd = Math.max(a.length, b.length);
  return Array.from({ length: nd }, (_, i) => {
    const x = a[i - (nd - a.length)] ?? 1;
    const y = b[i - (nd - b.length)] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`test bug: [${a}] and [${b}] do not broadcast`);
    return x === 1 ? y : x;
  });
}

// ---- data -------------------------------------------------------------------------------

const SPECIALS = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.5];

export function randomValues(r: Rng, dtype: D, n: number, specials: boolean): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case "float64":
      case "float32": {
        const u = r.next();
        // Quarter steps give ties (argmin, comparisons) and exact halves (casts).
        const v = specials && u < 0.06 ? r.pick(SPECIALS) : u < 0.4 ? (r.int(33) - 16) / 4 : r.next() * 8 - 4;
        out[i] = dtype === "float32" ? Math.fround(v) : v;
        break;
      }
      case "int32":
        out[i] = r.chance(0.1) ? r.int(2 ** 32) - 2 ** 31 : r.int(41) - 20;
        break;
      case "uint8":
        out[i] = r.int(256);
        break;
      case "bool":
        out[i] = r.int(2);
        break;
    }
  }
  return out;
}

type Typed = Float64Array | Float32Array | Int32Array | Uint8Array;

function typed(values: Float64Array, dtype: D): Typed {
  switch (dtype) {
    case "float64":
      return Float64Array.from(values);
    case "float32":
      return Float32Array.from(values);
    case "int32":
      return Int32Array.from(values);
    default:
      return Uint8Array.from(values);
  }
}

/** A reference array: values (already of its dtype) in a Float64Array, row-major. */
export interface Ref {
  dtype: D;
  shape: number[];
  data: Float64Array;
}

/** The data as a chunked array (bool: uint8 data cast with astype, then rechunked). */
export function chunked(ref: Ref, chunks: number[][], boolFrom: number[][]): ChunkedArray {
  if (ref.dtype !== "bool") return da.fromTypedArray(typed(ref.data, ref.dtype), { shape: ref.shape, chunks });
  // A pending astype with one chunking, a materialized bool array with the other: both paths.
  return da.fromTypedArray(typed(ref.data, "uint8"), { shape: ref.shape, chunks: boolFrom }).astype("bool").rechunk(chunks);
}

// ---- comparing ----------------------------------------------------------------------------

const dv = new DataView(new ArrayBuffer(8));

export function hex(v: number, dtype: string): string {
  if (dtype === "float32") {
    dv.setFloat32(0, v);
    return `${v} (0x${dv.getUint32(0).toString(16).padStart(8, "0")})`;
  }
  if (dtype === "float64") {
    dv.setFloat64(0, v);
    return `${Object.is(v, -0) ? "-0" : v} (0x${dv.getBigUint64(0).toString(16).padStart(16, "0")})`;
  }
  return String(v);
}

/** Distance in units in the last place (0 for two NaNs, Infinity for NaN vs a number). */
function ulps(a: number, b: number, dtype: string): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  if (dtype === "float32") {
    const ord = (x: number) => {
      dv.setFloat32(0, x);
      const i = dv.getInt32(0);
      return i < 0 ? -(i & 0x7fffffff) : i;
    };
    return Math.abs(ord(a) - ord(b));
  }
  const ord = (x: number) => {
    dv.setFloat64(0, x);
    const i = dv.getBigInt64(0);
    return i < 0n ? -(i & 0x7fffffffffffffffn) : i;
  };
  const d = ord(a) - ord(b);
  return Number(d < 0n ? -d : d);
}

const bytes = (a: NDArray): Uint8Array => new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);

/**
 * Where two computed arrays differ in any bit (undefined: identical), except that any NaN equals
 * any NaN: a NaN reduction result crosses threads as a JS number, whose NaN payload V8 does
 * not keep, so its bits differ between an inline and a 2-worker cluster. (maximum/minimum used
 * to give different NaN bits in SIMD body and scalar tail; the kernels now agree.)
 */
export function bitDiff(a: NDArray, b: NDArray): string | undefined {
  if (a.dtype !== b.dtype || JSON.stringify(a.shape) !== JSON.stringify(b.shape)) {
    return `${a.dtype}[${a.shape}] vs ${b.dtype}[${b.shape}]`;
  }
  const x = bytes(a), y = bytes(b);
  const size = a.data.BYTES_PER_ELEMENT;
  for (let at = x.findIndex((v, i) => v !== y[i]); at >= 0; ) {
    const i = Math.floor(at / size);
    if (!(Number.isNaN(a.data[i]!) && Number.isNaN(b.data[i]!))) {
      return `element ${i}: ${hex(a.data[i]!, a.dtype)} vs ${hex(b.data[i]!, b.dtype)}`;
    }
    const next = x.subarray((i + 1) * size).findIndex((v, j) => v !== y[(i + 1) * size + j]);
    at = next < 0 ? -1 : (i + 1) * size + next;
  }
  return undefined;
}

/** Where a computed array differs from the reference (exact, or within MAX_ULPS). */
export function refDiff(got: NDArray, want: Ref, tolerant: boolean): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, want ${want.dtype}`;
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) return `shape [${got.shape}], want [${want.shape}]`;
  for (let i = 0; i < want.data.length; i++) {
    const g = got.data[i]!, w = want.data[i]!;
    const ok = tolerant && isFloat(want.dtype) ? ulps(g, w, want.dtype) <= MAX_ULPS : Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w));
    if (!ok) {
      const u = isFloat(want.dtype) ? `, ${ulps(g, w, want.dtype)} ulps` : "";
      return `element ${i}: got ${hex(g, got.dtype)}, want ${hex(w, want.dtype)}${u}`;
    }
  }
  return undefined;
}

// ---- cases --------------------------------------------------------------------------------

export interface Case {
  n: number;
  seed: number;
  shape: number[];
  chunksA: number[][];
  chunksB: number[][];
  rng: Rng;
}

function makeCase(n: number, fixed?: { shape: number[]; chunksA: number[][]; chunksB: number[][] }): Case {
  const seed = (SEED + n * 7919) >>> 0;
  const rng = new Rng(seed);
  const shape = fixed?.shape ?? randomShape(rng);
  const chunksA = fixed?.chunksA ?? randomChunks(rng, shape);
  const chunksB = fixed?.chunksB ?? otherChunks(rng, shape, chunksA);
  return { n, seed, shape, chunksA, chunksB, rng };
}

export const label = (c: Case): string =>
  `case ${c.n} (seed ${SEED}): shape [${c.shape}], chunks ${JSON.stringify(c.chunksA)} | ${JSON.stringify(c.chunksB)}`;

/** Fixed corners first (a lone element, ragged last chunks, single-element chunks), then random. */
export const FIXED = [
  { shape: [1], chunksA: [[1]], chunksB: [[1]] },
  { shape: [7], chunksA: [[3, 3, 1]], chunksB: [[1, 1, 1, 1, 1, 1, 1]] },
  { shape: [1, 5], chunksA: [[1], [2, 2, 1]], chunksB: [[1], [5]] },
  { shape: [4, 1, 3], chunksA: [[1, 1, 1, 1], [1], [3]], chunksB: [[3, 1], [1], [2, 1]] },
];

export function cases(count: number, offset: number): Case[] {
  return [...FIXED.map((f, i) => makeCase(offset + i, f)), ...Array.from({ length: count }, (_, i) => makeCase(offset + FIXED.length + i))];
}
