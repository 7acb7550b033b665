/**
 * The math of one block, as the workers run it: thin wrappers over the wasm kernels of
 * assembly/ml.ts (logistic loss and gradient, nearest centres, column moments, centred Gram
 * matrix) and the JS loop that finds a NaN. Partials are small plain
 * objects (numbers and Float64Arrays) that travel inline and combine in block order.
 *
 * Blocks are f64 row-major [rows, d] in wasm memory (`ptr`); any temporary is allocated first
 * and views are taken after, since an allocation may grow (and detach) the memory.
 */

import { TesseraError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";

interface MlExports {
  mlLogistic(x: number, n: number, d: number, y: number, w: number, b: number, K: number, g: number, gb: number, z: number, h: number): number;
  mlKmeans(x: number, n: number, d: number, c: number, k: number, labels: number, mind: number, sums: number, counts: number): number;
  mlQuadBytes(n: number, d: number): number;
  mlQuads(x: number, n: number, d: number, m0: number, out: number): void;
  mlKmeansAssign(quads: number, x: number, n: number, d: number, pack: number, k: number, K: number, old: number, out: number, dsums: number, dcounts: number, lab: number): void;
  mlKmeansNearestQ(quads: number, x: number, n: number, d: number, pack: number, k: number, K: number, base: number, prev: number, out: number, lab: number): number;
  mlGram(x: number, n: number, d: number, y: number, m: number, out: number, t: number): void;
  mlMoments(x: number, n: number, d: number, mean: number, m2: number, mn: number, mx: number): void;
}

function ml(k: Kernels): MlExports {
  const ex = k.exports as unknown as Partial<MlExports>;
  if (typeof ex.mlLogistic !== "function" || typeof ex.mlKmeans !== "function" || typeof ex.mlKmeansAssign !== "function" || typeof ex.mlKmeansNearestQ !== "function" || typeof ex.mlMoments !== "function" || typeof ex.mlGram !== "function") {
    throw new TesseraError("the wasm module has no machine-learning kernels (mlLogistic, mlKmeans, mlKmeansAssign, mlKmeansNearestQ, mlMoments, mlGram): rebuild it with `npm run build:wasm`");
  }
  return ex as MlExports;
}

/** Float64 scratch in wasm memory, freed by `done()`. */
function scratch(k: Kernels, length: number): { ptr: number; view(): Float64Array; done(): void } {
  const ptr = k.allocArray("float64", Math.max(1, length));
  return { ptr, view: () => k.view("float64", ptr, length), done: () => k.free(ptr) };
}

// ---- validation ---------------------------------------------------------------------------

/** The first non-finite value of a row-major [rows, d] block, or null. */
export function findNonFinite(v: Float64Array, rows: number, d: number): { row: number; col: number; value: number } | null {
  for (let i = 0; i < rows * d; i++) {
    const x = v[i]!;
    if (!Number.isFinite(x)) return { row: Math.floor(i / d), col: i % d, value: x };
  }
  return null;
}

// ---- moments ------------------------------------------------------------------------------

/** Per column: count, mean, M2 = Σ (x - mean)², and optionally min / max. */
export interface Moments {
  n: number;
  mean: Float64Array;
  m2: Float64Array;
  min?: Float64Array;
  max?: Float64Array;
}

/** Moments of a block of rows in wasm memory (x: rows x d f64), two passes (mlMoments). */
export function blockMoments(k: Kernels, x: number, rows: number, d: number, minmax: boolean): Moments {
  const work = scratch(k, (minmax ? 4 : 2) * d);
  try {
    const v = work.view();
    v.fill(0, 0, 2 * d);
    if (minmax) {
      v.fill(Infinity, 2 * d, 3 * d);
      v.fill(-Infinity, 3 * d, 4 * d);
    }
    const at = (i: number) => work.ptr + i * d * 8;
    ml(k).mlMoments(x, rows, d, at(0), at(1), minmax ? at(2) : 0, minmax ? at(3) : 0);
    const r = work.view();
    const out: Moments = { n: rows, mean: r.slice(0, d), m2: r.slice(d, 2 * d) };
    if (minmax) {
      out.min = r.slice(2 * d, 3 * d);
      out.max = r.slice(3 * d, 4 * d);
    }
    return out;
  } finally {
    work.done();
  }
}

/** Chan et al.'s parallel update: the moments of a's rows followed by b's. */
export function combineMoments(a: Moments, b: Moments): Moments {
  if (a.n === 0) return b;
  if (b.n === 0) return a;
  const n = a.n + b.n;
  const d = a.mean.length;
  const mean = new Float64Array(d);
  const m2 = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const delta = b.mean[j]! - a.mean[j]!;
    mean[j] = a.mean[j]! + (delta * b.n) / n;
    m2[j] = a.m2[j]! + b.m2[j]! + (delta * delta * a.n * b.n) / n;
  }
  const out: Moments = { n, mean, m2 };
  if (a.min && b.min) out.min = a.min.map((x, j) => Math.min(x, b.min![j]!));
  if (a.max && b.max) out.max = a.max.map((x, j) => Math.max(x, b.max![j]!));
  return out;
}

// ---- centred Gram matrix (normal equations) -----------------------------------------------

/** Over z = (x, y) (or x alone): count, means and the centred scatter Σ (z - mean)(z - mean)ᵀ. */
export interface Gram {
  n: number;
  mean: Float64Array;
  /** p x p, row-major, symmetric. */
  scatter: Float64Array;
}

export function blockGram(k: Kernels, x: number, rows: number, d: number, y: number | null): Gram {
  const p = y === null ? d : d + 1;
  const work = scratch(k, p + p * p + p);
  try {
    const w = work.view();
    const mean = w.subarray(0, p);
    mean.fill(0);
    w.subarray(p, p + p * p).fill(0);
    const xv = k.view("float64", x, rows * d);
    for (let i = 0; i < rows; i++) for (let j = 0, o = i * d; j < d; j++) mean[j] += xv[o + j]!;
    if (y !== null) {
      const yv = k.view("float64", y, rows);
      for (let i = 0; i < rows; i++) mean[d] += yv[i]!;
    }
    if (rows > 0) for (let j = 0; j < p; j++) mean[j] /= rows;
    ml(k).mlGram(x, rows, d, y ?? 0, work.ptr, work.ptr + p * 8, work.ptr + (p + p * p) * 8);
    const v = work.view();
    const scatter = v.slice(p, p + p * p);
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) scatter[a * p + b] = scatter[b * p + a]!;
    return { n: rows, mean: v.slice(0, p), scatter };
  } finally {
    work.done();
  }
}

/** Chan's update for scatter matrices: S = Sa + Sb + (na nb / n) δ δᵀ, δ = mean_b - mean_a. */
export function combineGram(a: Gram, b: Gram): Gram {
  if (a.n === 0) return b;
  if (b.n === 0) return a;
  const n = a.n + b.n;
  const p = a.mean.length;
  const delta = b.mean.map((m, j) => m - a.mean[j]!);
  const mean = a.mean.map((m, j) => m + (delta[j]! * b.n) / n);
  const f = (a.n * b.n) / n;
  const scatter = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) scatter[i * p + j] = a.scatter[i * p + j]! + b.scatter[i * p + j]! + f * delta[i]! * delta[j]!;
  return { n, mean, scatter };
}

// ---- logistic regression ------------------------------------------------------------------

export interface LogisticPartial {
  n: number;
  loss: number;
  /** K x d */
  grad: Float64Array;
  /** K */
  gradB: Float64Array;
  /**
   * With `hessian`: Σ x̃ x̃ᵀ ⊗ (diag(p) - p pᵀ) over the rows, x̃ = (x, 1): P x P, P = K(d + 1),
   * row-major, index a(d + 1) + j for class a's weight j (j = d: its intercept), upper triangle.
   */
  hess?: Float64Array;
}

/** Σ loss and its gradient over a block: x [rows, d], y class indices (f64), W K x d, b K; and the Hessian's data term when asked. */
export function logisticBlock(k: Kernels, x: number, y: number, rows: number, d: number, W: Float64Array, b: Float64Array, K: number, hessian = false): LogisticPartial {
  // Layout: W | b | G | gb | z | H
  const P = hessian ? K * (d + 1) : 0;
  const work = scratch(k, 2 * K * d + 3 * K + P * P);
  try {
    const v = work.view();
    v.set(W, 0);
    v.set(b, K * d);
    v.fill(0, K * d + K);
    const at = (i: number) => work.ptr + i * 8;
    const h = 2 * K * d + 3 * K;
    const loss = ml(k).mlLogistic(x, rows, d, y, at(0), at(K * d), K, at(K * d + K), at(2 * K * d + K), at(2 * K * d + 2 * K), hessian ? at(h) : 0);
    const out = work.view();
    const part: LogisticPartial = { n: rows, loss, grad: out.slice(K * d + K, 2 * K * d + K), gradB: out.slice(2 * K * d + K, 2 * K * d + 2 * K) };
    if (hessian) part.hess = out.slice(h, h + P * P);
    return part;
  } finally {
    work.done();
  }
}

/** Class probabilities per row: [rows, max(K, 2)] (binary: [1 - p, p]). */
export function logisticProba(xv: Float64Array, rows: number, d: number, W: Float64Array, b: Float64Array, K: number, out: Float64Array): void {
  const z = new Float64Array(K);
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    for (let c = 0; c < K; c++) {
      let s = b[c]!;
      for (let j = 0, w = c * d; j < d; j++) s += xv[o + j]! * W[w + j]!;
      z[c] = s;
    }
    if (K === 1) {
      const p = 1 / (1 + Math.exp(-z[0]!));
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
      continue;
    }
    let m = -Infinity;
    for (let c = 0; c < K; c++) m = Math.max(m, z[c]!);
    let sum = 0;
    for (let c = 0; c < K; c++) sum += z[c] = Math.exp(z[c]! - m);
    for (let c = 0; c < K; c++) out[i * K + c] = z[c]! / sum;
  }
}

/** The predicted class index per row: argmax of the scores (binary: score > 0). */
export function logisticLabels(xv: Float64Array, rows: number, d: number, W: Float64Array, b: Float64Array, K: number, classes: readonly number[], out: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < K; c++) {
      let s = b[c]!;
      for (let j = 0, w = c * d; j < d; j++) s += xv[o + j]! * W[w + j]!;
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    out[i] = K === 1 ? classes[bestScore > 0 ? 1 : 0]! : classes[best]!;
  }
}

// ---- k-means ------------------------------------------------------------------------------

export interface KmeansPartial {
  n: number;
  inertia: number;
  /** k x d sums of the rows nearest each centre (when asked). */
  sums?: Float64Array;
  /** k counts (when asked). */
  counts?: Float64Array;
}

export interface KmeansOutputs {
  sums?: boolean;
  counts?: boolean;
  /** Write each row's nearest centre (int32) here (a pointer to rows int32s). */
  labels?: number;
  /** Write each row's squared distance (f64) here (a pointer to rows f64s). */
  mind?: number;
}

export function kmeansBlock(k: Kernels, x: number, rows: number, d: number, C: Float64Array, nc: number, want: KmeansOutputs): KmeansPartial {
  const sums = want.sums ? nc * d : 0;
  const counts = want.counts || want.sums ? nc : 0;
  const work = scratch(k, nc * d + sums + counts);
  try {
    const v = work.view();
    v.set(C, 0);
    v.fill(0, nc * d);
    const at = (i: number) => work.ptr + i * 8;
    const inertia = ml(k).mlKmeans(x, rows, d, at(0), nc, want.labels ?? 0, want.mind ?? 0, sums ? at(nc * d) : 0, counts ? at(nc * d + sums) : 0);
    const out: KmeansPartial = { n: rows, inertia };
    const r = work.view();
    if (sums) out.sums = r.slice(nc * d, nc * d + sums);
    if (counts) out.counts = r.slice(nc * d + sums, nc * d + sums + counts);
    return out;
  } finally {
    work.done();
  }
}

// ---- k-means over the int16 quads (assembly/kmeans.ts) --------------------------------------

/** Bytes of the quads (the int16 copy of a block that k-means scores) of rows x d. */
export const quadBytes = (k: Kernels, rows: number, d: number): number => ml(k).mlQuadBytes(rows, d);

/** Write the quads of x (rows x d f64), shifted by m0 (the data's mean, d), at out. */
export function quadsBlock(k: Kernels, x: number, rows: number, d: number, m0: Float64Array, out: number): void {
  const m = scratch(k, d);
  try {
    m.view().set(m0);
    ml(k).mlQuads(x, rows, d, m.ptr, out);
  } finally {
    m.done();
  }
}

/** i32 labels of a block's rows in a step's state, padded to a multiple of 4 (whole quads). */
export const kmeansLabelSlots = (rows: number): number => (rows + 3) & ~3;

/** The trailer of a step's state, after the labels: dsums (nc x d) and dcounts (nc), f64. */
export const kmeansStepTrailer = (nc: number, d: number): number => nc * d + nc;

/** i32 slots of a step's state: the labels, then the f64 trailer (16-byte aligned after them). */
export const kmeansStateSlots = (rows: number, nc: number, d: number): number => kmeansLabelSlots(rows) + 2 * kmeansStepTrailer(nc, d);

/**
 * One Lloyd assignment of a block: x (f64) and its quads in, the rows' labels written at `out`
 * (kmeansStateSlots i32s) followed by the block's changes to the centres' sums and counts:
 * against the labels at `old` (a previous state, or 0 on the first step, when every row adds).
 */
export function kmeansAssignBlock(k: Kernels, quads: number, x: number, rows: number, d: number, C: Float64Array, nc: number, m0: Float64Array, old: number, out: number): void {
  const pack = packQuadCentres(k, quads, C, nc, d, m0);
  try {
    const trailer = out + kmeansLabelSlots(rows) * 4;
    k.view("float64", trailer, kmeansStepTrailer(nc, d)).fill(0);
    ml(k).mlKmeansAssign(quads, x, rows, d, pack.ptr, nc, pack.K, old, out, trailer, trailer + nc * d * 8, pack.lab);
  } finally {
    pack.done();
  }
}

/**
 * Per row the nearest of the nc centres C (numbered from base) and its exact squared distance,
 * against the row's nearest so far in prev ([d², number] per row, or 0), written to `out` (the
 * same layout; 0: not written). Returns Σ d²: k-means‖'s φ, or with prev = out = 0 the inertia.
 */
export function kmeansNearestBlock(k: Kernels, quads: number, x: number, rows: number, d: number, C: Float64Array, nc: number, m0: Float64Array, base: number, prev: number, out: number): number {
  const pack = packQuadCentres(k, quads, C, nc, d, m0);
  try {
    return ml(k).mlKmeansNearestQ(quads, x, rows, d, pack.ptr, nc, pack.K, base, prev, out, pack.lab);
  } finally {
    pack.done();
  }
}

/**
 * Centres laid out for the search over a block's quads (assembly/kmeans.ts): f64 centres, the
 * int16 pairs of cq = round(Sc·a·(c - m0)) as i32 (nc x ceil(d/2)), H = round(½ Sc ‖c - m0‖²)
 * as i32, then scratch (4 i32 labels). a, R and Rx come from the quads' header.
 * Sc is as large as keeps |cq_j| <= 32767 and R·‖cq‖₂, H below 2^29 (exact i32 sums); K is the
 * lead a score needs beyond ‖xq‖₁: max ‖cq‖₁ + 3d/2 + 3 + F, F bounding f64's rounding of the
 * distances of plain Lloyd in the same units (4(d + 2)·2^-53·(Rx + max ‖c - m0‖)², times Sc).
 */
export function packQuadCentres(k: Kernels, quads: number, C: Float64Array, nc: number, d: number, m0: Float64Array): { ptr: number; lab: number; K: number; Sc: number; done(): void } {
  const pairs = (d + 1) >> 1;
  const head = k.view("float64", quads, 2 + d) as Float64Array;
  const R = head[0]!;
  const Rx = head[1]!;
  const LIM = 2 ** 29;
  // u = a·c' per centre: cq = round(Sc·u).
  const u = new Float64Array(nc * d);
  let umax = 0;
  let cmax2 = 0;
  let u2max = 0;
  for (let c = 0; c < nc; c++) {
    let n2 = 0;
    let m2 = 0;
    for (let j = 0; j < d; j++) {
      const v = C[c * d + j]! - m0[j]!;
      const w = (u[c * d + j] = v * head[2 + j]!);
      umax = Math.max(umax, Math.abs(w));
      n2 += v * v;
      m2 += w * w;
    }
    cmax2 = Math.max(cmax2, n2);
    u2max = Math.max(u2max, m2);
  }
  let Sc = Math.min(umax > 0 ? 32767 / umax : Infinity, R > 0 && u2max > 0 ? (0.99 * LIM) / (R * Math.sqrt(u2max)) : Infinity, cmax2 > 0 ? (0.99 * LIM) / (0.5 * cmax2) : Infinity);
  if (!Number.isFinite(Sc)) Sc = 1;
  const slots = nc * pairs + ((nc + 3) & ~3);
  const ptr = k.allocArray("float64", nc * d + Math.ceil((slots + 4) / 2));
  k.view("float64", ptr, nc * d).set(C.subarray(0, nc * d));
  const cq = k.view("int16", ptr + nc * d * 8, 2 * nc * pairs) as Int16Array;
  const h = k.view("int32", ptr + nc * d * 8 + nc * pairs * 4, nc) as Int32Array;
  // The bounds above are checked on the integers made; a miss halves Sc (never in practice).
  // After 64 halvings (non-finite centres) K = 2^30: no lead is safe, every row is measured in f64.
  for (let tries = 0; ; tries++) {
    let ok = true;
    let l1max = 0;
    cq.fill(0);
    for (let c = 0; c < nc && ok; c++) {
      let l1 = 0;
      let n2 = 0;
      let half = 0;
      for (let j = 0; j < d; j++) {
        const v = Math.round(Sc * u[c * d + j]!);
        cq[c * pairs * 2 + j] = v;
        l1 += Math.abs(v);
        n2 += v * v;
        half += (C[c * d + j]! - m0[j]!) ** 2;
        if (Math.abs(v) > 32767) ok = false;
      }
      const H = Math.round(0.5 * half * Sc);
      h[c] = H;
      l1max = Math.max(l1max, l1);
      if (!(H < LIM && R * Math.sqrt(n2) < LIM)) ok = false;
    }
    if (tries === 64) return { ptr, lab: ptr + nc * d * 8 + slots * 4, K: 2 ** 30, Sc, done: () => k.free(ptr) };
    if (ok) {
      const F = Sc * 4 * (d + 2) * 2 ** -53 * (Rx + Math.sqrt(cmax2)) ** 2;
      const K = Math.ceil(l1max + 1.5 * d + 3 + F);
      return { ptr, lab: ptr + nc * d * 8 + slots * 4, K: K < LIM ? K : 2 ** 30, Sc, done: () => k.free(ptr) };
    }
    Sc /= 2;
  }
}

// ---- generic combines ---------------------------------------------------------------------

type Summable = Record<string, number | Float64Array | string | null | undefined>;

/** Field-wise sums of partials: numbers add, Float64Arrays add elementwise, `problem` keeps the first. */
export function sumPartials<T extends object>(parts: readonly T[]): T {
  if (parts.length === 0) throw new TesseraError("ml: nothing to combine");
  const out: Summable = { ...(parts[0] as Summable) };
  for (const [key, value] of Object.entries(out)) if (value instanceof Float64Array) out[key] = Float64Array.from(value);
  for (let p = 1; p < parts.length; p++) {
    for (const [key, value] of Object.entries(parts[p] as Summable)) {
      const acc = out[key];
      if (typeof value === "number") out[key] = (typeof acc === "number" ? acc : 0) + value;
      else if (value instanceof Float64Array) {
        if (!(acc instanceof Float64Array)) out[key] = Float64Array.from(value);
        else for (let i = 0; i < value.length; i++) acc[i] += value[i]!;
      } else if (key === "problem") out[key] ??= value;
    }
  }
  return out as T;
}

/** Concatenation of the Float64Array fields of partials, in order (sampled rows). */
export function concatPartials<T extends object>(parts: readonly T[]): T {
  if (parts.length === 0) throw new TesseraError("ml: nothing to concatenate");
  const out: Record<string, unknown> = { ...(parts[0] as Record<string, unknown>) };
  for (const key of Object.keys(out)) {
    if (!(out[key] instanceof Float64Array)) continue;
    const arrays = parts.map((p) => (p as Record<string, Float64Array>)[key]!);
    const all = new Float64Array(arrays.reduce((s, a) => s + a.length, 0));
    let at = 0;
    for (const a of arrays) {
      all.set(a, at);
      at += a.length;
    }
    out[key] = all;
  }
  return out as T;
}
