// The nn kernels of assembly/nn.ts and nn-gemm.ts on one thread: nnGemm against a plain f64
// product for every transpose combination, across its blocking (KC 256, MC 128, NC 1024) and
// edge tiles, and its few-rows path (B not packed) against the packed one bit for bit, its bias
// + ReLU epilogue against the product then nnBiasAct bit for bit; nnAdam against the JS
// Optimizer bit for bit; nnMeanOf against the scalar f64 loop bit for bit; nnGatherRows; the
// ReLU backward's mask; bias + ReLU.
import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernels.js";
import { nnKernels, type NnExports } from "../../src/nn/kernels.js";
import { Optimizer } from "../../src/nn/optim.js";
import { adam, adamw } from "../../src/nn/spec.js";
import { kernels, rng } from "../kernels/helpers.js";

let k: Kernels;
let nn: NnExports;
let work: number;
beforeAll(async () => {
  k = await kernels();
  nn = nnKernels(k);
  work = k.workArea("nn-gemm", nn.nnGemmWorkBytes());
});

function put(a: Float32Array): number {
  const p = k.allocArray("float32", Math.max(1, a.length));
  k.view("float32", p, a.length).set(a);
  return p;
}

describe("nnGemm", () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [5, 3, 7], [17, 9, 13], [130, 70, 300], [4, 8, 4], [3, 2, 1025], [129, 1030, 5], [130, 2, 300], [9, 3, 600], [130, 70, 2], [6, 5, 3], [16, 259, 600], [13, 21, 257], [16, 1030, 20]];
  for (const [m, n, kk] of shapes) {
    it(`C (=|+=) op(A)·op(B), m ${m} n ${n} k ${kk}, every transpose, leading dimensions wider than the rows`, () => {
      const u = rng(m * 1000 + n * 10 + kk);
      for (const ta of [0, 1]) for (const tb of [0, 1]) for (const acc of [0, 1]) {
        const lda = (ta ? m : kk) + 3, ldb = (tb ? kk : n) + 1, ldc = n + 2;
        const A = Float32Array.from({ length: (ta ? kk : m) * lda }, () => u() - 0.5);
        const B = Float32Array.from({ length: (tb ? n : kk) * ldb }, () => u() - 0.5);
        const C0 = Float32Array.from({ length: m * ldc }, () => u() - 0.5);
        const [pa, pb, pc] = [put(A), put(B), put(C0)];
        nn.nnGemm(m, n, kk, pa, lda, ta, pb, ldb, tb, pc, ldc, acc, 0, 0, work);
        const C = k.copyOut("float32", pc, C0.length) as Float32Array;
        for (const p of [pa, pb, pc]) k.free(p);
        let worst = 0;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < ldc; j++) {
            // Past column n, C's padding is untouched.
            if (j >= n) {
              expect(C[i * ldc + j]).toBe(C0[i * ldc + j]);
              continue;
            }
            let s = acc ? C0[i * ldc + j]! : 0, abs = Math.abs(s);
            for (let p = 0; p < kk; p++) {
              const v = (ta ? A[p * lda + i]! : A[i * lda + p]!) * (tb ? B[j * ldb + p]! : B[p * ldb + j]!);
              s += v;
              abs += Math.abs(v);
            }
            worst = Math.max(worst, Math.abs(C[i * ldc + j]! - s) / (abs * (kk + 2) * 2 ** -24));
          }
        }
        expect(worst, `ta ${ta} tb ${tb} accumulate ${acc}`).toBeLessThanOrEqual(1);
      }
    });
  }
});

describe("nnGemm with few rows (B read in place, not packed)", () => {
  // Each row of C depends only on its row of op(A), so the first rows of a product with more
  // rows (B packed) must match a product of only those rows (m <= 16: B read in place) bit for bit.
  for (const [m, n, kk] of [[16, 259, 600], [5, 24, 33], [13, 8, 257], [16, 1030, 20], [3, 13, 1]] as const) {
    it(`m ${m} n ${n} k ${kk}: the same bits as the packed path, op(A) either way, = and +=`, () => {
      const M = 40;
      const u = rng(m * 7 + n * 3 + kk);
      for (const ta of [0, 1]) for (const acc of [0, 1]) {
        const lda = (ta ? M : kk) + 1, ldb = n + 3, ldc = n + 2;
        const A = Float32Array.from({ length: (ta ? kk : M) * lda }, () => u() - 0.5);
        const B = Float32Array.from({ length: kk * ldb }, () => u() - 0.5);
        const C0 = Float32Array.from({ length: M * ldc }, () => u() - 0.5);
        const [pa, pb, pBig, pSmall] = [put(A), put(B), put(C0), put(C0)];
        nn.nnGemm(M, n, kk, pa, lda, ta, pb, ldb, 0, pBig, ldc, acc, 0, 0, work);
        nn.nnGemm(m, n, kk, pa, lda, ta, pb, ldb, 0, pSmall, ldc, acc, 0, 0, work);
        const big = k.copyOut("float32", pBig, m * ldc) as Float32Array;
        const small = k.copyOut("float32", pSmall, M * ldc) as Float32Array;
        for (const p of [pa, pb, pBig, pSmall]) k.free(p);
        expect(Buffer.from(small.buffer, small.byteOffset, m * ldc * 4).equals(Buffer.from(big.buffer, big.byteOffset, big.byteLength)), `ta ${ta} accumulate ${acc}`).toBe(true);
        // Rows past m are untouched.
        expect(Array.from(small.subarray(m * ldc))).toEqual(Array.from(C0.subarray(m * ldc)));
      }
    });
  }
});

describe("nnGemm's epilogue (+ bias, ReLU)", () => {
  // The product then nnBiasAct's pass, against the product with the epilogue: bit for bit, across
  // the narrow path (n <= 4), the few-rows path, several KC blocks and edge tiles.
  for (const [m, n, kk] of [[37, 3, 300], [9, 21, 5], [130, 70, 600], [16, 259, 20], [5, 13, 0]] as const) {
    it(`m ${m} n ${n} k ${kk}: the same bits as the product then nnBiasAct, every transpose, = and +=, with and without a bias`, () => {
      const u = rng(m * 31 + n * 7 + kk);
      for (const ta of [0, 1]) for (const tb of [0, 1]) for (const acc of [0, 1]) for (const [hasBias, relu] of [[1, 1], [0, 1], [1, 0]]) {
        const lda = (ta ? m : kk) + 1, ldb = (tb ? kk : n) + 2, ldc = n + 3;
        const A = Float32Array.from({ length: Math.max(1, (ta ? kk : m) * lda) }, () => u() - 0.5);
        const B = Float32Array.from({ length: Math.max(1, (tb ? n : kk) * ldb) }, () => u() - 0.5);
        const C0 = Float32Array.from({ length: m * ldc }, () => u() - 0.5);
        const bias = Float32Array.from({ length: n }, () => u() - 0.5);
        const [pa, pb, pTwo, pOne, pBias] = [put(A), put(B), put(C0), put(C0), put(bias)];
        nn.nnGemm(m, n, kk, pa, lda, ta, pb, ldb, tb, pTwo, ldc, acc, 0, 0, work);
        for (let i = 0; i < m; i++) nn.nnBiasAct(pTwo + 4 * i * ldc, pTwo + 4 * i * ldc, hasBias ? pBias : 0, 1, n, relu);
        nn.nnGemm(m, n, kk, pa, lda, ta, pb, ldb, tb, pOne, ldc, acc, hasBias ? pBias : 0, relu, work);
        const two = k.copyOut("float32", pTwo, C0.length) as Float32Array;
        const one = k.copyOut("float32", pOne, C0.length) as Float32Array;
        for (const p of [pa, pb, pTwo, pOne, pBias]) k.free(p);
        expect(Buffer.from(one.buffer, one.byteOffset, one.byteLength).equals(Buffer.from(two.buffer, two.byteOffset, two.byteLength)), `ta ${ta} tb ${tb} accumulate ${acc} bias ${hasBias} relu ${relu}`).toBe(true);
      }
    });
  }
});

describe("nnAdam", () => {
  for (const [name, spec] of [["adam with L2", adam({ lr: 3e-3, weightDecay: 0.01 })], ["adamw", adamw({ lr: 1e-2, weightDecay: 0.1 })]] as const) {
    it(`${name}: the wasm step equals the JS Optimizer's bit for bit over several steps`, () => {
      const n = 1001;
      const u = rng(3);
      const params = Float32Array.from({ length: n }, () => u() - 0.5);
      const js = new Optimizer(spec, n);
      const jp = params.slice();
      const [pp, pg, pm, pv] = [put(params), put(new Float32Array(n)), put(new Float32Array(n)), put(new Float32Array(n))];
      for (let t = 1; t <= 5; t++) {
        const g = Float32Array.from({ length: n }, () => (u() - 0.5) * 10 ** Math.floor(u() * 6 - 4));
        js.step(jp, g);
        k.view("float32", pg, n).set(g);
        const s = spec as Extract<typeof spec, { type: "adam" }>;
        nn.nnAdam(pp, pg, pm, pv, n, s.lr, s.beta1, s.beta2, s.eps, 1 - Math.pow(s.beta1, t), 1 - Math.pow(s.beta2, t), s.weightDecay, s.decoupled ? 1 : 0);
      }
      const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      expect(same(k.copyOut("float32", pp, n) as Float32Array, jp)).toBe(true);
      expect(same(k.copyOut("float32", pm, n) as Float32Array, js.state[0]!)).toBe(true);
      expect(same(k.copyOut("float32", pv, n) as Float32Array, js.state[1]!)).toBe(true);
      for (const p of [pp, pg, pm, pv]) k.free(p);
    });
  }
});

describe("nnMeanOf", () => {
  it("sums the vectors in order in f64 and divides, bit for bit what a scalar f64 loop gives", () => {
    const n = 1001, count = 3, rows = 777;
    const u = rng(5);
    const xs = Array.from({ length: count }, () => Float32Array.from({ length: n }, () => (u() - 0.5) * 10 ** Math.floor(u() * 8 - 4)));
    const all = new Float32Array(count * n);
    xs.forEach((x, w) => all.set(x, w * n));
    const [src, out] = [put(all), put(new Float32Array(n))];
    nn.nnMeanOf(src, count, 4 * n, n, rows, out);
    const want = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (const x of xs) s += x[i]!;
      want[i] = s / rows;
    }
    const got = k.copyOut("float32", out, n) as Float32Array;
    expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer))).toBe(true);
    k.free(src);
    k.free(out);
  });
});

describe("nnGatherRows", () => {
  it("copies the rows a permutation slice names, for widths with and without a SIMD tail", () => {
    for (const d of [16, 7, 1]) {
      const rows = 50;
      const x = Float32Array.from({ length: rows * d }, (_, i) => i + 0.5);
      const order = Int32Array.from({ length: rows }, (_, i) => (i * 17) % rows);
      const [px, pd] = [put(x), put(new Float32Array(20 * d))];
      const po = k.allocArray("int32", rows);
      k.view("int32", po, rows).set(order);
      nn.nnGatherRows(px, d, po, 10, 20, pd);
      const want = new Float32Array(20 * d);
      for (let r = 0; r < 20; r++) want.set(x.subarray(order[10 + r]! * d, (order[10 + r]! + 1) * d), r * d);
      expect(Array.from(k.copyOut("float32", pd, 20 * d))).toEqual(Array.from(want));
      for (const p of [px, pd, po]) k.free(p);
    }
  });
});

describe("nnActBack", () => {
  it("ReLU passes the gradient where z > 0 and zeroes it elsewhere (-0, 0, NaN included)", () => {
    const z = new Float32Array([1, -1, 0, -0, NaN, 2, -3, 0.5, 1e-30]);
    const g = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [pg, pz] = [put(g), put(z)];
    nn.nnActBack(pg, pz, pz, z.length, 1);
    expect(Array.from(k.copyOut("float32", pg, g.length))).toEqual([1, 0, 0, 0, 0, 6, 0, 8, 9]);
    k.free(pg);
    k.free(pz);
  });
});

describe("nnBiasAct", () => {
  it("ReLU with a bias into another buffer: z += b, a = max(z, 0) bit for bit, odd widths; the backward masks by a > 0", () => {
    for (const [rows, cols] of [[5, 7], [3, 16], [4, 1]] as const) {
      const u = rng(rows * 100 + cols);
      const z = Float32Array.from({ length: rows * cols }, () => u() - 0.5);
      z[0] = NaN;
      const b = Float32Array.from({ length: cols }, () => u() - 0.5);
      const [pz, pa, pb] = [put(z), put(new Float32Array(rows * cols)), put(b)];
      nn.nnBiasAct(pz, pa, pb, rows, cols, 1);
      const want = z.map((v, i) => Math.max(Math.fround(v + b[i % cols]!), 0));
      expect(Array.from(k.copyOut("float32", pa, z.length))).toEqual(Array.from(want));
      // The backward's mask from a: where z + b > 0.
      const g = Float32Array.from({ length: rows * cols }, (_, i) => i + 1);
      const pg = put(g);
      nn.nnActBack(pg, pz, pa, z.length, 1);
      expect(Array.from(k.copyOut("float32", pg, z.length))).toEqual(Array.from(g.map((v, i) => (Math.fround(z[i]! + b[i % cols]!) > 0 ? v : 0))));
      for (const p of [pz, pa, pb, pg]) k.free(p);
    }
  });
});
