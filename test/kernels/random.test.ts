/**
 * Philox4x32-10 against the published known-answer vectors (Random123 kat_vectors), the
 * distributions against a BigInt reference, counter-based reproducibility (a chunk depends only
 * on seed, stream and index), and distribution sanity on a million draws.
 */

import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernels.js";
import { philoxRef, uniformRef, normalRef, integersRef } from "../../src/kernels/reference/random.js";
import { kernels, firstDiff, ulps } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await kernels();
});

const KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

function draw(dtype: "float64" | "float32" | "int32", n: number, fill: (out: number) => void): Float64Array | Float32Array | Int32Array {
  const p = k.allocArray(dtype, n);
  fill(p);
  const r = k.copyOut(dtype, p, n);
  k.free(p);
  return r;
}

describe("Philox4x32-10", () => {
  it("matches the Random123 known-answer vectors, in wasm and in the reference", () => {
    for (const [ctr, key, want] of KAT) {
      expect(Array.from(k.random.philox(ctr as [number, number, number, number], key as [number, number]))).toEqual(want);
      expect(philoxRef(ctr, key)).toEqual(want);
    }
  });

  it("uniform, normal and integers match the reference for any start, stream and seed", () => {
    for (const [seed, stream, start, n] of [[0, 0, 0, 1000], [42, 7, 12345, 1001], [2 ** 40 + 3, 2 ** 32 - 1, 2 ** 33 + 1, 257]]) {
      const o = { seed: seed!, stream: stream!, start: start! };
      expect(firstDiff(draw("float64", n!, (p) => k.random.uniform("float64", p, n!, o)), uniformRef(n!, seed!, stream!, start!))).toBe(-1);
      expect(firstDiff(draw("float32", n!, (p) => k.random.uniform("float32", p, n!, o)), uniformRef(n!, seed!, stream!, start!, true))).toBe(-1);
      // Normals go through log/cos/sin: musl in wasm, fdlibm in the reference.
      const g = draw("float64", n!, (p) => k.random.normal("float64", p, n!, o)), w = normalRef(n!, seed!, stream!, start!);
      for (let i = 0; i < n!; i++) expect(Math.abs(g[i]! - w[i]!)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(w[i]!)));
      for (const [low, high] of [[0, 10], [-5, 3], [-(2 ** 31), 2 ** 31 - 1], [0, 1]]) {
        const gi = draw("int32", n!, (p) => k.random.integers("int32", p, n!, { ...o, low: low!, high: high! }));
        expect(firstDiff(gi, integersRef(n!, low!, high!, seed!, stream!, start!)), `[${low}, ${high})`).toBe(-1);
      }
      const gf = draw("float64", n!, (p) => k.random.integers("float64", p, n!, { ...o, low: 1e12, high: 1e12 + 2 ** 32 }));
      expect(firstDiff(gf, integersRef(n!, 1e12, 1e12 + 2 ** 32, seed!, stream!, start!))).toBe(-1);
    }
  });

  it("a value depends only on (seed, stream, index): chunks equal the whole", () => {
    const n = 10007;
    const whole = draw("float64", n, (p) => k.random.normal("float64", p, n, { seed: 9, stream: 3 }));
    const parts = new Float64Array(n);
    for (let start = 0, len = 1; start < n; start += len, len = len * 3 + 1) {
      const m = Math.min(len, n - start);
      parts.set(draw("float64", m, (p) => k.random.normal("float64", p, m, { seed: 9, stream: 3, start })), start);
    }
    expect(firstDiff(whole, parts)).toBe(-1);
    const other = draw("float64", n, (p) => k.random.normal("float64", p, n, { seed: 9, stream: 4 }));
    expect(firstDiff(whole, other)).toBe(0);
    const f32 = draw("float32", n, (p) => k.random.normal("float32", p, n, { seed: 9, stream: 3 }));
    for (let i = 0; i < n; i++) expect(ulps(f32[i]!, Math.fround(whole[i]!), "float32")).toBe(0);
  });

  it("distributions: moments of a million draws", () => {
    const n = 1_000_000;
    const moments = (xs: ArrayLike<number>) => {
      let s = 0, s2 = 0;
      for (let i = 0; i < n; i++) {
        s += xs[i]!;
        s2 += xs[i]! * xs[i]!;
      }
      const mean = s / n;
      return [mean, s2 / n - mean * mean] as const;
    };
    const [nm, nv] = moments(draw("float64", n, (p) => k.random.normal("float64", p, n, { seed: 1 })));
    expect(Math.abs(nm)).toBeLessThan(0.005);
    expect(Math.abs(nv - 1)).toBeLessThan(0.01);
    const u = draw("float64", n, (p) => k.random.uniform("float64", p, n, { seed: 2 }));
    const [um, uv] = moments(u);
    expect(Math.abs(um - 0.5)).toBeLessThan(0.002);
    expect(Math.abs(uv - 1 / 12)).toBeLessThan(0.001);
    expect(Math.min(...u.subarray(0, 100000))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u.subarray(0, 100000))).toBeLessThan(1);
    const ints = draw("int32", n, (p) => k.random.integers("int32", p, n, { seed: 3, low: 0, high: 6 }));
    const counts = new Array(6).fill(0);
    for (const v of ints) counts[v]++;
    for (const c of counts) expect(Math.abs(c / n - 1 / 6)).toBeLessThan(0.003);
  });

  it("rejects bad arguments", () => {
    const p = k.allocArray("float64", 4);
    expect(() => k.random.uniform("float64", p, 4, { seed: -1 })).toThrow(/seed must be an integer/);
    expect(() => k.random.uniform("int32" as "float64", p, 4, { seed: 1 })).toThrow(/float64 or float32/);
    expect(() => k.random.integers("int32", p, 4, { seed: 1, low: 5, high: 5 })).toThrow(/low < high/);
    expect(() => k.random.integers("int32", p, 4, { seed: 1, low: 0, high: 2 ** 32 })).toThrow(/does not fit int32/);
    expect(() => k.random.normal("float64", p, 5000, { seed: 1, stream: 2 ** 32 })).toThrow(/stream/);
    k.free(p);
  });
});
