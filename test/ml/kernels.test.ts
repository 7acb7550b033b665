// Block kernels of the estimators, without workers: column moments in wasm against the plain
// loop they replaced (bit for bit), and the k-means‖ draw's early rejection against the full draw.
import { describe, expect, it } from "vitest";
import { blockMoments } from "../../src/ml/kernels.js";
import { uniformAt, uniformStream } from "../../src/ml/random.js";
import { kernels, rng } from "../kernels/helpers.js";

function reference(v: Float64Array, rows: number, d: number) {
  const mean = new Float64Array(d);
  const m2 = new Float64Array(d);
  const min = new Float64Array(d).fill(Infinity);
  const max = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) mean[j] += v[i * d + j]!;
  if (rows > 0) for (let j = 0; j < d; j++) mean[j] /= rows;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) {
      const x = v[i * d + j]!;
      m2[j] += (x - mean[j]!) ** 2;
      if (x < min[j]!) min[j] = x;
      if (x > max[j]!) max[j] = x;
    }
  }
  return { n: rows, mean, m2, min, max };
}

describe("ml block kernels", () => {
  it("mlMoments: the same bits as a plain loop, for even and odd widths, with and without min/max", async () => {
    const k = await kernels();
    const r = rng(5);
    for (const [rows, d] of [[0, 3], [1, 1], [257, 16], [1000, 7], [31, 2]] as const) {
      const v = Float64Array.from({ length: rows * d }, () => (r() - 0.3) * 1e3 + 1e6 * (r() < 0.01 ? 1 : 0));
      const ptr = k.copyIn(v.length > 0 ? v : new Float64Array(1));
      try {
        const ref = reference(v, rows, d);
        expect(blockMoments(k, ptr, rows, d, true)).toEqual(ref);
        expect(blockMoments(k, ptr, rows, d, false)).toEqual({ n: rows, mean: ref.mean, m2: ref.m2 });
      } finally {
        k.free(ptr);
      }
    }
  });

  it("uniformStream: at() is uniformAt, and floor() is a lower bound within 2^-27 of it", () => {
    for (const [seed, stream] of [[0, 1000], [12345, 1003], [2 ** 40 + 7, 5]] as const) {
      const u = uniformStream(seed, stream);
      for (const i of [0, 1, 2, 1e6, 2 ** 33 + 5]) {
        const a = u.at(i);
        expect(a).toBe(uniformAt(seed, stream, i));
        expect(u.floor(i)).toBeLessThanOrEqual(a);
        expect(a - u.floor(i)).toBeLessThan(2 ** -27);
      }
    }
  });
});
