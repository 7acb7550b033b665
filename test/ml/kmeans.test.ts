// KMeans' Lloyd iterations score rows in f32 from a copy of each block (assembly/kmeans.ts): they
// must make exactly the assignments of plain Lloyd — same iterations, same centres — over many
// iterations (labels and sums carried from step to step), far from the origin (f32 scores would
// lose the order there without the shift by the data's mean), in many dimensions, and with exact
// ties.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, ml, type Client } from "../../dist/index.js";
import { maxRelDiff, meanVariance, plainLloyd, rowsPerBlock } from "./helpers.js";

const BLOCKS = [1, 3, 7];

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(async () => {
  await client?.close();
});

/** Seeded standard normals. */
function normals(count: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float64Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()));
}

const matrix = (X: Float64Array, n: number, d: number, blocks: number) => da.fromTypedArray(X, { shape: [n, d], chunks: [rowsPerBlock(n, blocks), d] });

/** Fit from `init` on 1, 3 and 7 blocks; each must match plain Lloyd exactly. */
async function expectPlainLloyd(X: Float64Array, n: number, d: number, init: Float64Array, scale = 1): Promise<void> {
  const tol = 1e-4;
  const ref = plainLloyd(X, n, d, init, tol * meanVariance(X, n, d));
  for (const blocks of BLOCKS) {
    const km = await new ml.KMeans({ nClusters: init.length / d, init, tol }).fit(matrix(X, n, d, blocks));
    expect(km.nIter).toBe(ref.nIter);
    expect(maxRelDiff(km.clusterCenters!, ref.centres) / scale).toBeLessThan(1e-9);
    expect(km.inertia / ref.inertia - 1).toBeLessThan(1e-9);
    expect(ref.inertia / km.inertia - 1).toBeLessThan(1e-9);
  }
}

describe("KMeans Lloyd steps (f32 scores, checked in f64)", () => {
  it("match plain Lloyd on structureless data that takes many iterations", async () => {
    const n = 3000;
    const d = 6;
    const X = normals(n * d, 7);
    const init = X.slice(0, 8 * d);
    const ref = plainLloyd(X, n, d, init, 1e-4 * meanVariance(X, n, d));
    expect(ref.nIter).toBeGreaterThan(15); // labels and sums are carried over many steps
    await expectPlainLloyd(X, n, d, init);
  });

  it("match plain Lloyd far from the origin (values near 1e5)", async () => {
    const n = 2000;
    const d = 4;
    const X = normals(n * d, 11).map((v) => 1e5 + v);
    await expectPlainLloyd(X, n, d, X.slice(0, 5 * d), 1e5);
  });

  it("match plain Lloyd with 40 features and 10 centres (centres in groups of 4, one left over)", async () => {
    const n = 1500;
    const d = 40;
    const base = normals(n * d, 3);
    // Ten loose blobs: cluster structure, but overlapping enough to move rows for a while.
    const X = base.map((v, t) => v + 1.5 * ((Math.floor(t / d) % 10) === t % d % 10 ? 1 : 0));
    await expectPlainLloyd(X, n, d, X.slice(0, 10 * d));
  });

  it("break exact ties to the lower centre, as plain Lloyd", async () => {
    // Rows on the bisector of the first two centres, and a lone centre: ties at every step.
    const rows: number[] = [];
    for (let i = 0; i < 60; i++) rows.push(0, (i % 7) - 3, 3 * (i % 2) - 1.5, (i % 5) - 2);
    const n = rows.length / 2;
    const X = Float64Array.from(rows);
    await expectPlainLloyd(X, n, 2, Float64Array.from([-1, 0, 1, 0, 0, 10]));
  });

  it("one centre: the mean", async () => {
    const n = 500;
    const d = 3;
    const X = normals(n * d, 5);
    const km = await new ml.KMeans({ nClusters: 1, init: X.slice(0, d) }).fit(matrix(X, n, d, 3));
    const mean = [0, 1, 2].map((j) => X.filter((_, t) => t % d === j).reduce((s, v) => s + v, 0) / n);
    expect(maxRelDiff(km.clusterCenters!, mean)).toBeLessThan(1e-12);
  });
});
