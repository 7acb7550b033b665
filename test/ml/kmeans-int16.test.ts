// The int16 quads of KMeans (assembly/kmeans.ts) on data built against them: columns of very
// different scales, a constant column, odd d, rows at the quantization's extremes, centres far
// outside the data (Sc limited by H), near-ties; labels and sums must still be those of the f64
// search, and every integer score must lie within the bound the lead test assumes.
import { describe, expect, it } from "vitest";
import { kmeansAssignBlock, kmeansBlock, kmeansLabelSlots, kmeansStateSlots, kmeansStepTrailer, packQuadCentres, quadBytes, quadsBlock } from "../../src/ml/kernels.js";
import type { Kernels } from "../../src/kernels/kernels.js";
import { kernels, rng } from "../kernels/helpers.js";

function mean(X: Float64Array, n: number, d: number): Float64Array {
  const m0 = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m0[j] += X[i * d + j]! / n;
  return m0;
}

/** Rows with column j scaled by scales[j] (0: constant 3), some on segments between centres at near-ties. */
function scaled(n: number, d: number, nc: number, scales: number[], seed: number, far = 0): { X: Float64Array; C: Float64Array } {
  const r = rng(seed);
  const C = Float64Array.from({ length: nc * d }, (_, t) => (scales[t % d] === 0 ? 3 : (r() - 0.5) * 4 * scales[t % d]!) + (t < d ? far * (scales[t % d] || 1) : 0));
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(r() * nc);
    const b = (a + 1 + Math.floor(r() * (nc - 1))) % nc;
    const kind = i % 3;
    for (let j = 0; j < d; j++) {
      const s = scales[j]!;
      if (s === 0) X[i * d + j] = 3;
      else if (kind === 0) X[i * d + j] = (r() - 0.5) * 6 * s;
      else X[i * d + j] = C[a * d + j]! + (kind === 1 ? 0.5 + (r() - 0.5) * 1e-6 : r()) * (C[b * d + j]! - C[a * d + j]!);
    }
  }
  // Rows at ± the column's largest deviation: xq = ±32767 there.
  for (let j = 0; j < d; j++) if (scales[j]) X[j * d + j] = 1e3 * scales[j]!;
  return { X, C };
}

function labelsOf(k: Kernels, x: number, n: number, d: number, C: Float64Array, nc: number): Int32Array {
  const labels = k.allocArray("int32", n);
  try {
    kmeansBlock(k, x, n, d, C, nc, { labels });
    return k.view("int32", labels, n).slice() as Int32Array;
  } finally {
    k.free(labels);
  }
}

const CASES = [
  { n: 501, d: 7, nc: 6, scales: [1e-6, 1, 1e6, 0, 5, 1e-3, 2], far: 0 },
  { n: 333, d: 16, nc: 8, scales: Array.from({ length: 16 }, (_, j) => 10 ** (j - 8)), far: 0 },
  { n: 200, d: 3, nc: 4, scales: [1, 1, 1], far: 1e7 },
  { n: 97, d: 1, nc: 3, scales: [1e3], far: 0 },
  { n: 64, d: 5, nc: 2, scales: [0, 0, 0, 0, 0], far: 0 },
];

describe("k-means int16 quads", () => {
  it("labels and sums of the f64 search on scaled, constant and odd-width columns and far centres", async () => {
    const k = await kernels();
    for (const [t, { n, d, nc, scales, far }] of CASES.entries()) {
      const { X, C } = scaled(n, d, nc, scales, 11 + t, far);
      const m0 = mean(X, n, d);
      const x = k.copyIn(X);
      const quads = k.allocArray("float32", quadBytes(k, n, d) / 4);
      const out = k.allocArray("int32", kmeansStateSlots(n, nc, d));
      try {
        quadsBlock(k, x, n, d, m0, quads);
        kmeansAssignBlock(k, quads, x, n, d, C, nc, m0, 0, out);
        const ref = labelsOf(k, x, n, d, C, nc);
        expect(Array.from(k.view("int32", out, n)), `case ${t}`).toEqual(Array.from(ref));
        const sums = new Float64Array(nc * d + nc);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < d; j++) sums[ref[i]! * d + j] += X[i * d + j]!;
          sums[nc * d + ref[i]!]++;
        }
        expect(Array.from(k.view("float64", out + kmeansLabelSlots(n) * 4, kmeansStepTrailer(nc, d)))).toEqual(Array.from(sums));
      } finally {
        k.free(x);
        k.free(quads);
        k.free(out);
      }
    }
  });

  it("every integer score is within ½‖xq‖₁ + ½‖cq‖₁ + 3d/4 + ½ of Sc times the exact score, with no i32 overflow", async () => {
    const k = await kernels();
    for (const [t, { n, d, nc, scales, far }] of CASES.entries()) {
      const { X, C } = scaled(n, d, nc, scales, 50 + t, far);
      const m0 = mean(X, n, d);
      const x = k.copyIn(X);
      const quads = k.allocArray("float32", quadBytes(k, n, d) / 4);
      quadsBlock(k, x, n, d, m0, quads);
      const pack = packQuadCentres(k, quads, C, nc, d, m0);
      try {
        const pairs = (d + 1) >> 1;
        const head = k.view("float64", quads, 2 + 2 * d).slice();
        const q16 = k.view("int16", quads + 16 + 16 * d, ((n + 3) >> 2) * (pairs + 1) * 8);
        const cq = k.view("int16", pack.ptr + nc * d * 8, nc * pairs * 2);
        const H = k.view("int32", pack.ptr + nc * d * 8 + nc * pairs * 4, nc);
        let R = 0;
        for (let i = 0; i < n; i++) {
          const g = i >> 2;
          const xq = Array.from({ length: d }, (_, j) => q16[g * (pairs + 1) * 8 + (j >> 1) * 8 + (i & 3) * 2 + (j & 1)]!);
          R = Math.max(R, Math.hypot(...xq));
          const l1 = xq.reduce((s, v) => s + Math.abs(v), 0);
          for (let c = 0; c < nc; c++) {
            const cv = Array.from({ length: d }, (_, j) => cq[c * pairs * 2 + j]!);
            const dot = xq.reduce((s, v, j) => s + v * cv[j]!, 0);
            expect(Math.abs(dot)).toBeLessThan(2 ** 29);
            expect(H[c]!).toBeLessThan(2 ** 29);
            // The exact score ½‖c'‖² - x'·c' (x' = x - m0, c' = c - m0), in Sc units: Sc from the pack.
            let half = 0;
            let xc = 0;
            for (let j = 0; j < d; j++) {
              const cj = C[c * d + j]! - m0[j]!;
              half += 0.5 * cj * cj;
              xc += (X[i * d + j]! - m0[j]!) * cj;
            }
            const Sc = pack.Sc;
            const e = 0.5 * l1 + 0.5 * cv.reduce((s, v) => s + Math.abs(v), 0) + 0.75 * d + 0.5;
            expect(Math.abs(H[c]! - dot - Sc * (half - xc)), `case ${t} row ${i} centre ${c}`).toBeLessThanOrEqual(e + 1e-9 * (Math.abs(dot) + H[c]!));
          }
        }
        expect(head[0]!).toBeGreaterThanOrEqual(R);
      } finally {
        pack.done();
        k.free(x);
        k.free(quads);
      }
    }
  });

  it("non-finite centres leave no lead safe (K = 2^30) instead of looping", async () => {
    const k = await kernels();
    const X = Float64Array.from({ length: 40 }, (_, i) => i % 7);
    const x = k.copyIn(X);
    const quads = k.allocArray("float32", quadBytes(k, 10, 4) / 4);
    try {
      quadsBlock(k, x, 10, 4, new Float64Array(4), quads);
      const C = Float64Array.from([0, 1, 2, NaN, 1, 1, 1, 1]);
      const pack = packQuadCentres(k, quads, C, 2, 4, new Float64Array(4));
      expect(pack.K).toBe(2 ** 30);
      pack.done();
    } finally {
      k.free(x);
      k.free(quads);
    }
  });
});
