// The quads kernels of KMeans (assembly/kmeans.ts), without workers: f32 scores of four rows at a
// time decide the nearest centre only where the lead is safe, so labels, distances and sums must
// be exactly those of the f64 search (mlKmeans) — on rows built to sit on and near the bisectors
// of centres far from the origin, where f32 alone gets the order wrong.
import { describe, expect, it } from "vitest";
import { kmeansAssignBlock, kmeansBlock, kmeansLabelSlots, kmeansNearestBlock, kmeansStateSlots, kmeansStepTrailer, packQuadCentres, quadBytes, quadsBlock } from "../../src/ml/kernels.js";
import type { Kernels } from "../../src/kernels/kernels.js";
import { kernels, rng } from "../kernels/helpers.js";

interface Block {
  x: number;
  quads: number;
  m0: Float64Array;
  done(): void;
}

function place(k: Kernels, X: Float64Array, n: number, d: number): Block {
  const m0 = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m0[j] += X[i * d + j]! / n;
  const x = k.copyIn(X);
  const quads = k.allocArray("float32", quadBytes(k, n, d) / 4);
  quadsBlock(k, x, n, d, m0, quads);
  return { x, quads, m0, done: () => (k.free(x), k.free(quads)) };
}

/** Labels and squared distances of the f64 search (mlKmeans), the reference. */
function exact(k: Kernels, b: Block, n: number, d: number, C: Float64Array, nc: number): { labels: Int32Array; mind: Float64Array; inertia: number } {
  const labels = k.allocArray("int32", n);
  const mind = k.allocArray("float64", n);
  try {
    const { inertia } = kmeansBlock(k, b.x, n, d, C, nc, { labels, mind });
    return { labels: k.view("int32", labels, n).slice() as Int32Array, mind: k.view("float64", mind, n).slice() as Float64Array, inertia };
  } finally {
    k.free(labels);
    k.free(mind);
  }
}

/**
 * Centres around `offset`, and rows on the segment between two of them at 0.5 + δ (δ from 0, an
 * exact tie, to 1e-5), on centres, and spread around: near-ties that f32 scores cannot order.
 */
function nearTies(n: number, d: number, nc: number, offset: number, seed: number): { X: Float64Array; C: Float64Array } {
  const r = rng(seed);
  const C = Float64Array.from({ length: nc * d }, () => offset + (r() - 0.5) * 4);
  const X = new Float64Array(n * d);
  const deltas = [0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-7, -1e-7, 3e-6, -3e-6, 1e-5];
  for (let i = 0; i < n; i++) {
    const a = Math.floor(r() * nc);
    const b = (a + 1 + Math.floor(r() * (nc - 1))) % nc;
    const kind = i % 4;
    const t = kind === 3 ? 0.5 + (r() - 0.5) * 3 : kind === 2 ? 0 : 0.5 + deltas[Math.floor(r() * deltas.length)]!;
    for (let j = 0; j < d; j++) X[i * d + j] = C[a * d + j]! + t * (C[b * d + j]! - C[a * d + j]!);
  }
  return { X, C };
}

const CASES = [
  { n: 1001, d: 16, nc: 8, offset: 1e3 },
  { n: 403, d: 5, nc: 3, offset: 0 },
  { n: 257, d: 7, nc: 5, offset: -2e4 },
  { n: 130, d: 40, nc: 9, offset: 50 },
  { n: 66, d: 2, nc: 4, offset: 1e5 },
  { n: 9, d: 3, nc: 1, offset: 7 },
];

describe("k-means quads kernels", () => {
  it("mlKmeansAssign: the labels of the f64 search, and the sums and counts of the rows that moved", async () => {
    const k = await kernels();
    for (const { n, d, nc, offset } of CASES) {
      const { X, C } = nearTies(n, d, nc, offset, n + d);
      const b = place(k, X, n, d);
      const first = k.allocArray("int32", kmeansStateSlots(n, nc, d));
      const second = k.allocArray("int32", kmeansStateSlots(n, nc, d));
      try {
        kmeansAssignBlock(k, b.quads, b.x, n, d, C, nc, b.m0, 0, first);
        const ref = exact(k, b, n, d, C, nc);
        expect(Array.from(k.view("int32", first, n))).toEqual(Array.from(ref.labels));
        // The first step adds every row to its centre.
        const trailer = (state: number) => k.view("float64", state + kmeansLabelSlots(n) * 4, kmeansStepTrailer(nc, d)).slice();
        const sums = new Float64Array(nc * d + nc);
        for (let i = 0; i < n; i++) {
          const c = ref.labels[i]!;
          for (let j = 0; j < d; j++) sums[c * d + j] += X[i * d + j]!;
          sums[nc * d + c]++;
        }
        expect(Array.from(trailer(first))).toEqual(Array.from(sums));
        // Moved centres: the second step's changes are those of the rows whose label changed.
        const C2 = C.map((v, t) => v + ((t * 7) % 5 - 2) * 0.3);
        kmeansAssignBlock(k, b.quads, b.x, n, d, C2, nc, b.m0, first, second);
        const ref2 = exact(k, b, n, d, C2, nc);
        expect(Array.from(k.view("int32", second, n))).toEqual(Array.from(ref2.labels));
        const delta = new Float64Array(nc * d + nc);
        for (let i = 0; i < n; i++) {
          const [a, c] = [ref.labels[i]!, ref2.labels[i]!];
          if (a === c) continue;
          for (let j = 0; j < d; j++) {
            delta[a * d + j] -= X[i * d + j]!;
            delta[c * d + j] += X[i * d + j]!;
          }
          delta[nc * d + a]--;
          delta[nc * d + c]++;
        }
        expect(Array.from(trailer(second))).toEqual(Array.from(delta));
      } finally {
        k.free(first);
        k.free(second);
        b.done();
      }
    }
  });

  it("the lead test is what keeps them exact: with no rounding bound, f32 alone picks other centres on these rows", async () => {
    const k = await kernels();
    let wrong = 0;
    for (const { n, d, nc, offset } of CASES.filter((c) => c.nc > 1)) {
      const { X, C } = nearTies(n, d, nc, offset, n + d);
      const b = place(k, X, n, d);
      const pack = packQuadCentres(k, b.quads, C, nc, d, b.m0);
      const out = k.allocArray("int32", kmeansStateSlots(n, nc, d));
      try {
        const t = out + kmeansLabelSlots(n) * 4;
        const ex = k.exports as unknown as { mlKmeansAssign(...a: number[]): void };
        ex.mlKmeansAssign(b.quads, b.x, n, d, pack.ptr, nc, -(2 ** 30), 0, out, t, t + nc * d * 8, pack.lab);
        const ref = exact(k, b, n, d, C, nc);
        const got = k.view("int32", out, n);
        for (let i = 0; i < n; i++) if (got[i] !== ref.labels[i]) wrong++;
      } finally {
        k.free(out);
        pack.done();
        b.done();
      }
    }
    expect(wrong).toBeGreaterThan(0);
  });

  it("mlKmeansNearestQ: exact squared distances, ties keeping the earlier candidate, φ and the inertia", async () => {
    const k = await kernels();
    for (const { n, d, nc, offset } of CASES) {
      const { X, C } = nearTies(n, d, nc, offset, 3 * n + d);
      const b = place(k, X, n, d);
      const s1 = k.allocArray("float64", 2 * n);
      const s2 = k.allocArray("float64", 2 * n);
      try {
        // The first candidates, then the rest numbered after them (some equal to the first).
        const first = Math.max(1, nc >> 1);
        const phi1 = kmeansNearestBlock(k, b.quads, b.x, n, d, C.subarray(0, first * d), first, b.m0, 0, 0, s1);
        const rest = new Float64Array(C.subarray(first * d).length + d);
        rest.set(C.subarray(first * d));
        rest.set(C.subarray(0, d), rest.length - d); // a copy of candidate 0: never taken over it
        const m = rest.length / d;
        const phi2 = kmeansNearestBlock(k, b.quads, b.x, n, d, rest, m, b.m0, first, s1, s2);
        const all = new Float64Array(C.length + d);
        all.set(C);
        all.set(C.subarray(0, d), C.length);
        const ref1 = exact(k, b, n, d, C.subarray(0, first * d), first);
        const ref = exact(k, b, n, d, all, nc + 1);
        const v1 = k.view("float64", s1, 2 * n);
        expect(Array.from({ length: n }, (_, i) => v1[2 * i])).toEqual(Array.from(ref1.mind));
        const v2 = k.view("float64", s2, 2 * n).slice();
        expect(Array.from({ length: n }, (_, i) => v2[2 * i])).toEqual(Array.from(ref.mind));
        expect(Array.from({ length: n }, (_, i) => v2[2 * i + 1])).toEqual(Array.from(ref.labels));
        expect(phi1).toBe(ref1.inertia);
        expect(phi2).toBe(ref.mind.reduce((s, v) => s + v, 0));
        expect(kmeansNearestBlock(k, b.quads, b.x, n, d, C, nc, b.m0, 0, 0, 0)).toBe(exact(k, b, n, d, C, nc).inertia);
      } finally {
        k.free(s1);
        k.free(s2);
        b.done();
      }
    }
  });
});
