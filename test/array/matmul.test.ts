// matmul / dot / tensordot on a 2-worker LocalCluster against a naive JS product, on awkward
// shapes and chunkings. Floats are checked against the standard error bound of a dot product
// of k terms in any summation order: |C - Ĉ| <= γ_k · (|A|·|B|), γ_k = k·u / (1 - k·u).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, type Client } from "../../dist/index.js";
import type { ChunkedArray, NDArray } from "../../dist/array/index.js";
import { rand } from "./helpers.js";
const { dot, matmul, tensordot } = da;

type Chunks = number | (number | number[])[];

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client.close());

// A test of this file has hung (timed out) about once in 10-40 runs, never under a debugger:
// when one fails, print what the scheduler holds, so a CI log says where it stopped.
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== "fail") return;
  type Sched = {
    counts(): Record<string, number>;
    tasks: { keys(): Iterable<string>; size: number };
    stateOf(key: string): string;
    story(key: string): unknown[];
    byIndex: { id: string; running: boolean; paused: boolean; processing: { size: number } }[];
    unrunnable: Set<number>;
  };
  const s = (client as unknown as { runner: { scheduler: Sched } }).runner.scheduler;
  // Tasks that should be moving first (processing, waiting, ready), then the rest.
  const rank = (k: string) => ["processing", "waiting", "ready"].indexOf(s.stateOf(k)) >>> 0;
  const stuck = [...s.tasks.keys()].filter((k) => !["memory", "forgotten"].includes(s.stateOf(k))).sort((a, b) => rank(a) - rank(b));
  const lines = [`scheduler after "${ctx.task.name}": ${JSON.stringify(s.counts())}; ${stuck.length} of ${s.tasks.size} keys not in memory`];
  for (const k of stuck.slice(0, 8)) lines.push(`  ${k} ${s.stateOf(k)} ${JSON.stringify(s.story(k).slice(-10))}`);
  for (const w of s.byIndex) lines.push(`  ${w.id}: running ${w.running}, paused ${w.paused}, processing ${w.processing.size}`);
  lines.push(`  unrunnable ${s.unrunnable.size}`);
  // Every transition from the first lost input on, in order: how the loop began.
  type Entry = { key: string; from: string; to: string; stimulus: string; worker?: string };
  const all: Entry[] = [];
  for (const k of s.tasks.keys()) for (const e of s.story(k) as Entry[]) all.push(e);
  const seq = (e: Entry) => Number(/-(\d+)$/.exec(e.stimulus)?.[1] ?? 0);
  all.sort((a, b) => seq(a) - seq(b));
  const first = all.findIndex((e) => e.stimulus.startsWith("missing-data"));
  for (const e of all.slice(Math.max(0, first - 25), first + 40)) lines.push(`    ${e.stimulus} ${e.key} ${e.from}->${e.to} ${e.worker ?? ""}`);
  // And what each worker thinks it is doing.
  const runner = (client as unknown as { runner: { workerIds: string[]; link(id: string): { control: { state(): Promise<unknown> } } | undefined } }).runner;
  for (const id of runner.workerIds) {
    const st = await Promise.race([runner.link(id)?.control.state(), new Promise((r) => setTimeout(() => r("no answer in 2 s"), 2000))]);
    lines.push(`  ${id} says: ${JSON.stringify(st)}`);
  }
  console.error(lines.join("\n"));
});


/** A random m x n matrix in `dtype` (values rounded to it), with its float64 copy. */
function matrix(shape: number[], chunks: Chunks, dtype: "float32" | "float64", seed: number) {
  const d = rand(shape.reduce((a, b) => a * b, 1), seed);
  const data = dtype === "float32" ? Float32Array.from(d) : d;
  return { x: da.fromTypedArray(data, { shape, chunks }), ref: Float64Array.from(data) };
}

/** C = A·B in float64 and |A|·|B| (for the error bound), both row-major. */
function naive(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number) {
  const c = new Float64Array(m * n);
  const abs = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let t = 0;
      for (let p = 0; p < k; p++) {
        s += a[i * k + p]! * b[p * n + j]!;
        t += Math.abs(a[i * k + p]! * b[p * n + j]!);
      }
      c[i * n + j] = s;
      abs[i * n + j] = t;
    }
  return { c, abs };
}

const unit = (dtype: string) => (dtype === "float32" ? 2 ** -24 : 2 ** -53);
const gamma = (k: number, u: number) => (k * u) / (1 - k * u);

function expectWithin(r: NDArray, ref: { c: Float64Array; abs: Float64Array }, k: number, what: string): void {
  const g = gamma(k + 1, unit(r.dtype));
  for (let i = 0; i < ref.c.length; i++) {
    const err = Math.abs(r.data[i]! - ref.c[i]!);
    const bound = g * ref.abs[i]! + 1e-300;
    if (!(err <= bound)) throw new Error(`${what}: element ${i}: ${r.data[i]} vs ${ref.c[i]} (error ${err} > bound ${bound})`);
  }
}

const CASES: { name: string; m: number; k: number; n: number; ca: Chunks; cb: Chunks }[] = [
  { name: "1x1", m: 1, k: 1, n: 1, ca: 1, cb: 1 },
  { name: "3x5 · 5x7, chunks 2", m: 3, k: 5, n: 7, ca: 2, cb: 2 },
  { name: "65x33 · 33x17, ragged", m: 65, k: 33, n: 17, ca: [[30, 30, 5], [10, 20, 3]], cb: [[10, 20, 3], [8, 9]] },
  { name: "k chunks differ between A and B", m: 20, k: 37, n: 11, ca: [7, 5], cb: [[12, 12, 13], 4] },
  { name: "one block each", m: 40, k: 50, n: 30, ca: 100, cb: 100 },
  { name: "single-element chunks", m: 4, k: 6, n: 3, ca: 1, cb: 1 },
];

describe("matmul", () => {
  for (const dtype of ["float32", "float64"] as const) {
    for (const c of CASES) {
      it(`${c.name} (${dtype})`, async () => {
        const a = matrix([c.m, c.k], c.ca, dtype, 1);
        const b = matrix([c.k, c.n], c.cb, dtype, 2);
        const y = matmul(a.x, b.x);
        expect(y.shape).toEqual([c.m, c.n]);
        expect(y.dtype).toBe(dtype);
        const r = await y.compute();
        expectWithin(r, naive(a.ref, b.ref, c.m, c.k, c.n), c.k, c.name);
      });
    }
  }

  it("gives the same product (within the bound) for any chunking and any k split", async () => {
    const [m, k, n] = [31, 64, 23];
    const a0 = rand(m * k, 3);
    const b0 = rand(k * n, 4);
    const ref = naive(a0, b0, m, k, n);
    const results: NDArray[] = [];
    for (const [ca, cb, kPerTask] of [
      [100, 100, undefined],
      [8, 8, undefined],
      [[10, 16], [16, 5], 1],
      [[7, 9], [[1, 63], 23], 2],
      [[31, 3], [5, 7], 3],
    ] as [Chunks, Chunks, number | undefined][]) {
      const a = da.fromTypedArray(a0, { shape: [m, k], chunks: ca });
      const b = da.fromTypedArray(b0, { shape: [k, n], chunks: cb });
      const r = await matmul(a, b, kPerTask === undefined ? {} : { kPerTask }).compute();
      expectWithin(r, ref, k, `chunks ${JSON.stringify([ca, cb, kPerTask])}`);
      results.push(r);
    }
    const g = 2 * gamma(k + 1, 2 ** -53);
    for (const r of results) r.data.forEach((v, i) => expect(Math.abs(v - results[0]!.data[i]!)).toBeLessThanOrEqual(g * ref.abs[i]!));
  });

  it("gives the same product on the inline executor as on worker threads", async () => {
    const a = matrix([9, 14], [4, 5], "float32", 8);
    const b = matrix([14, 6], [[3, 11], 4], "float32", 9);
    const threads = await matmul(a.x, b.x).compute();
    const inline = await LocalCluster.start({ inline: true });
    try {
      expect((await inline.compute(matmul(a.x, b.x))).data).toEqual(threads.data);
    } finally {
      await inline.close();
    }
  });

  it("splits a long contraction into a tree of partial products when the output has few blocks", async () => {
    const [m, k, n] = [6, 400, 5];
    const a = matrix([k, m], [25, 6], "float64", 5); // tall-skinny X: X^T X contracts 16 blocks
    const y = tensordot(a.x, a.x, [[0], [0]]);
    expect(y.shape).toEqual([m, m]);
    expect([...y.graph.keys()].some((key) => key.includes("-partial"))).toBe(true);
    const at = new Float64Array(m * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) at[j * k + i] = a.ref[i * m + j]!;
    expectWithin(await y.compute(), naive(at, a.ref, m, k, m), k, "X^T X");
    const one = matmul(da.ones([2, k], { chunks: [2, 25] }), da.ones([k, n], { chunks: [25, n] }), { kPerTask: 16 });
    expect([...one.graph.keys()].some((key) => key.includes("-partial"))).toBe(false);
    // Many output blocks, but each pair of blocks is 256 MiB: at most 512 MiB of inputs per task.
    const wide = matmul(da.ones([4, 2 ** 26], { chunks: [1, 2 ** 24] }), da.ones([2 ** 26, 4], { chunks: [2 ** 24, 1] }));
    expect([...wide.graph.keys()].filter((key) => key.includes("-partial")).length).toBe(16 * 2);
    expect(Array.from((await one.compute()).data)).toEqual(new Array(2 * n).fill(k));
  });

  it("handles vectors (dot and matmul with 1-D operands) and 0-d operands in dot", async () => {
    const v = rand(9, 6);
    const M = rand(9 * 4, 7);
    const x = da.fromTypedArray(v, { chunks: 4 });
    const m = da.fromTypedArray(M, { shape: [9, 4], chunks: [3, 3] });
    const vm = await matmul(x, m).compute();
    expect(vm.shape).toEqual([4]);
    expectWithin(vm, naive(v, M, 1, 9, 4), 9, "v·M");
    const mt = da.fromTypedArray(M, { shape: [4, 9], chunks: [3, 5] });
    const mv = await dot(mt, x).compute();
    expect(mv.shape).toEqual([4]);
    expectWithin(mv, naive(M, v, 4, 9, 1), 9, "M·v");
    const vv = dot(x, x);
    expect(vv.shape).toEqual([]);
    expect(await vv.item()).toBeCloseTo(v.reduce((s, a) => s + a * a, 0), 12);
    const s = await dot(da.full([], 2), m).compute();
    expect(Array.from(s.data)).toEqual(Array.from(M, (q) => 2 * q));
  });

  it("follows numpy's dtype rules: mixed dtypes promote, integers stay exact integers", async () => {
    const f32 = da.fromTypedArray(new Float32Array([1, 2, 3, 4]), { shape: [2, 2], chunks: 1 });
    const i16 = da.fromTypedArray(new Int16Array([1, 0, 0, 1]), { shape: [2, 2], chunks: 1 });
    const i32 = da.fromTypedArray(new Int32Array([1, 0, 0, 1]), { shape: [2, 2], chunks: 1 });
    expect(matmul(f32, i16).dtype).toBe("float32");
    expect(matmul(f32, i32).dtype).toBe("float64");
    const big = da.fromTypedArray(new Int32Array([2 ** 30, 3, 5, -7]), { shape: [2, 2], chunks: 1 });
    const r = await matmul(big, big).compute();
    expect(r.dtype).toBe("int32");
    // numpy int32: [[2^60 + 15, 3·2^30 - 21], [5·2^30 - 35, 15 + 49]] wrapped to 32 bits.
    expect(Array.from(r.data)).toEqual([15, (3 * 2 ** 30 - 21) | 0, (5 * 2 ** 30 - 35) | 0, 64]);
    const u8 = da.fromTypedArray(new Uint8Array([200, 100, 1, 2]), { shape: [2, 2], chunks: 1 });
    expect(Array.from((await matmul(u8, u8, { kPerTask: 1 }).compute()).data)).toEqual([(40000 + 100) & 255, (20000 + 200) & 255, 202, 104]);
    const bools = da.fromTypedArray(new Uint8Array([1, 0, 0, 0]), { shape: [2, 2], chunks: 1 }).astype("bool");
    const rb = await matmul(bools, bools).compute();
    expect(rb.dtype).toBe("bool");
    expect(Array.from(rb.data)).toEqual([1, 0, 0, 0]);
    const iv = da.fromTypedArray(new Int32Array([1, 2, 3]), { chunks: 2 });
    expect(await dot(iv, iv).item()).toBe(14);
  });

  it("rejects bad operands with messages that say what is wrong", () => {
    const a = da.ones([3, 4], { chunks: 2 });
    expect(() => matmul(a, da.ones([5, 2]))).toThrow(/not aligned: axis 1 of the first has 4 elements, axis 0 of the second has 5/);
    expect(() => matmul(a, da.ones([2, 2, 2]))).toThrow(/3-D\); only 1-D and 2-D/);
    expect(() => matmul(da.full([], 1), a)).toThrow(/0-d.*mul/);
    expect(() => matmul(a, 3 as unknown as ChunkedArray)).toThrow(/must be a chunked array, got number/);
    expect(() => matmul(a, da.ones([4, 2]), { kPerTask: 0 })).toThrow(/kPerTask/);
    expect(() => tensordot(a, a, 3)).toThrow(/axes must be an integer in \[0, 2\]/);
    expect(() => tensordot(a, a, [[0], [0, 1]])).toThrow(/pair 1 axes of a with 2/);
    expect(() => tensordot(a, a, [[1], [1]])).not.toThrow();
    expect(() => tensordot(a, a, [[0, 0], [0, 1]])).toThrow(/repeat an axis/);
    expect(() => tensordot(a, a, [[5], [0]])).toThrow(/out of bounds/);
    expect(() => matmul(da.ones([2, 2], { dtype: "int32" }), da.ones([2, 2], { dtype: "uint32" }))).toThrow(/no common dtype/);
  });
});

describe("tensordot", () => {
  const [p, q, r] = [7, 5, 6];
  const A = rand(p * q, 11);
  const B = rand(q * r, 12);
  const T = (x: Float64Array, rows: number, cols: number) => {
    const out = new Float64Array(x.length);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j]!;
    return out;
  };
  const a = () => da.fromTypedArray(A, { shape: [p, q], chunks: [3, 2] });

  it("contracts one pair of axes in every orientation (blocks transposed by the tasks)", async () => {
    const b = da.fromTypedArray(B, { shape: [q, r], chunks: [4, 4] });
    expectWithin(await tensordot(a(), b, 1).compute(), naive(A, B, p, q, r), q, "axes 1");
    expectWithin(await tensordot(a(), b, [[1], [0]]).compute(), naive(A, B, p, q, r), q, "[[1],[0]]");
    const at = da.fromTypedArray(T(A, p, q), { shape: [q, p], chunks: [2, 4] }); // q x p
    const r0 = tensordot(at, b, [[0], [0]]);
    expect(r0.shape).toEqual([p, r]);
    expectWithin(await r0.compute(), naive(A, B, p, q, r), q, "[[0],[0]]");
    const bt = da.fromTypedArray(T(B, q, r), { shape: [r, q], chunks: [5, 3] }); // r x q
    expectWithin(await tensordot(a(), bt, [[1], [1]]).compute(), naive(A, B, p, q, r), q, "[[1],[1]]");
    const both = tensordot(at, bt, [[0], [1]]);
    expect(both.shape).toEqual([p, r]);
    expectWithin(await both.compute(), naive(A, B, p, q, r), q, "[[0],[1]]");
  });

  it("makes outer products (axes 0) and full contractions (axes 2, straight or crossed)", async () => {
    const v = rand(3, 13);
    const o = tensordot(a(), da.fromTypedArray(v, { chunks: 2 }), 0);
    expect(o.shape).toEqual([p, q, 3]);
    const ro = await o.compute();
    ro.data.forEach((x, i) => expect(x).toBe(A[Math.floor(i / 3)]! * v[i % 3]!));
    const full = A.reduce((s, x) => s + x * x, 0);
    expect(await tensordot(a(), da.fromTypedArray(A, { shape: [p, q], chunks: [2, 5] })).item()).toBeCloseTo(full, 12);
    const crossed = await tensordot(a(), da.fromTypedArray(T(A, p, q), { shape: [q, p], chunks: 3 }), [[0, 1], [1, 0]]).item();
    expect(crossed).toBeCloseTo(full, 12);
  });
});
