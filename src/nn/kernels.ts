/**
 * The nn passes of the wasm module (assembly/nn.ts, nn-gemm.ts) with their argument checks, and a seeded
 * random stream for initial weights and dropout masks (plain JS: it must give the same numbers
 * on every thread and in every environment, which a wasm or Math.random stream would not promise).
 */

import { mulberry32 } from "../hash.js";
import { TesseraError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import type { Activation } from "./spec.js";

export interface NnExports {
  nnBiasAct(z: number, a: number, b: number, rows: number, cols: number, act: number): void;
  nnActBack(g: number, z: number, a: number, n: number, act: number): void;
  nnColSum(x: number, rows: number, cols: number, out: number, accumulate: number): void;
  /** C (=|+=) op(A)·op(B), then + bias (a pointer, 0: none) and max(·, 0) when relu = 1. */
  nnGemm(m: number, n: number, k: number, a: number, lda: number, ta: number, b: number, ldb: number, tb: number, c: number, ldc: number, accumulate: number, bias: number, relu: number, work: number): void;
  nnGemmWorkBytes(): number;
  nnAdam(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, c1: number, c2: number, wd: number, decoupled: number): void;
  nnMeanOf(src: number, count: number, stride: number, n: number, rows: number, out: number): void;
  nnGatherRows(x: number, d: number, order: number, lo: number, n: number, dst: number): void;
}

/** Activation codes shared with assembly/nn.ts. */
export const ACT: Record<Activation | "none", number> = { none: 0, relu: 1, tanh: 2, sigmoid: 3, gelu: 4 };

const NEEDED = ["nnBiasAct", "nnActBack", "nnColSum", "nnGemm", "nnGemmWorkBytes", "nnAdam", "nnMeanOf", "nnGatherRows"] as const;

export function nnKernels(k: Kernels): NnExports {
  const ex = k.exports as unknown as Partial<NnExports>;
  const missing = NEEDED.filter((name) => typeof ex[name] !== "function");
  if (missing.length > 0) throw new TesseraError(`the wasm module has no nn kernels (${missing.join(", ")}): rebuild it with \`npm run build:wasm\``);
  return ex as NnExports;
}

/** Mix a few integers into one 32-bit seed (murmur3's finalizer after each). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Uniform numbers in [0, 1) from a 32-bit seed. */
export const uniformStream = mulberry32;

/** A seeded Fisher–Yates permutation of 0..n-1. */
export function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const u = uniformStream(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
