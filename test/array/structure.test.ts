// Structural array operations (slicing, masks, concatenate/stack, transpose, reshape, mapBlocks,
// cumsum, histogram, bincount) on a 2-worker LocalCluster, each against a plain-JS reference on
// awkward shapes and chunkings: results are identical whatever the chunking.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, type Client } from "../../dist/index.js";
import { xorshift } from "./helpers.js";

type CA = da.ChunkedArray;

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
  await client.registerModule(new URL("../fixtures/blocks.mjs", import.meta.url), { name: "blk" });
});
afterAll(() => client.close());

/** Several collections in one compute (client.compute's list overload types them loosely). */
const computeAll = (xs: readonly (CA | da.UnknownChunksArray)[]): Promise<da.NDArray[]> => client.compute(xs as never) as Promise<da.NDArray[]>;

/** Small integers as float64 (exact in every sum), from a seed. */
function ints(n: number, seed: number, lo = -9, hi = 9): Float64Array {
  const next = xorshift(seed);
  return Float64Array.from({ length: n }, () => lo + (next() % (hi - lo + 1)));
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const strides = (s: readonly number[]) => s.map((_, a) => prod(s.slice(a + 1)));

/** Row-major gather of data[shape] at the cartesian product of per-axis positions. */
function gather(data: ArrayLike<number>, shape: readonly number[], positions: number[][]): number[] {
  const st = strides(shape);
  let offsets = [0];
  positions.forEach((ps, a) => (offsets = offsets.flatMap((o) => ps.map((p) => o + p * st[a]!))));
  return offsets.map((o) => data[o]!);
}

/** Python's slice semantics, written the CPython way (PySlice_AdjustIndices). */
function positions(ix: unknown, n: number): number[] | number {
  if (typeof ix === "number") return ix < 0 ? ix + n : ix;
  if (ix === null || ix === ":") return [...Array(n).keys()];
  const { start, stop, step = 1 } = ix as { start?: number; stop?: number; step?: number };
  let lo: number, hi: number;
  if (step > 0) {
    lo = start === undefined ? 0 : start < 0 ? Math.max(0, start + n) : Math.min(start, n);
    hi = stop === undefined ? n : stop < 0 ? Math.max(0, stop + n) : Math.min(stop, n);
  } else {
    lo = start === undefined ? n - 1 : start < 0 ? Math.max(-1, start + n) : Math.min(start, n - 1);
    hi = stop === undefined ? -1 : stop < 0 ? Math.max(-1, stop + n) : Math.min(stop, n - 1);
  }
  const out: number[] = [];
  for (let i = lo; step > 0 ? i < hi : i > hi; i += step) out.push(i);
  return out;
}

function refSlice(data: ArrayLike<number>, shape: number[], index: unknown[]): { shape: number[]; data: number[] } {
  const at = index.indexOf("...");
  const fill = new Array(shape.length - index.length + (at >= 0 ? 1 : 0)).fill(null);
  const full = at >= 0 ? [...index.slice(0, at), ...fill, ...index.slice(at + 1)] : [...index, ...fill];
  const ps = full.map((ix, a) => positions(ix, shape[a]!));
  return { shape: ps.filter((p) => Array.isArray(p)).map((p) => (p as number[]).length), data: gather(data, shape, ps.map((p) => (Array.isArray(p) ? p : [p]))) };
}

/** The graph nodes a result needs (its graph culled to its keys). */
function culled(y: CA): Map<string, { kind: string; op?: string }> {
  return y.graph.cull(y.keys()) as Map<string, { kind: string; op?: string }>;
}
const opOf = (node: { op?: string } | undefined) => node?.op;

describe("slice", () => {
  const shape = [7, 5, 6];
  const data = ints(prod(shape), 1);
  const INDICES: unknown[][] = [
    [2],
    [-1, { start: 1, stop: 4 }],
    [{ step: 2 }, null, { start: -2 }],
    [{ step: -1 }],
    [{ start: 5, stop: 1, step: -2 }, 3, { step: 3 }],
    ["...", 0],
    [1, 2, 3],
    [{ start: 3, stop: 3 }],
    [{ start: 10 }, ":"],
    [null, { step: -4 }, { start: -100, stop: 100, step: 5 }],
    [{ start: -3, step: -1 }, "...", { stop: -7 }],
  ];

  it("matches numpy's basic indexing for any chunking", async () => {
    for (const chunks of [[3, 2, 4], 1, [7, 5, 6], [[2, 5], [1, 4], [6]]] as const) {
      const x = da.fromTypedArray(data, { shape, chunks: chunks as never });
      const ys = INDICES.map((ix) => x.slice(...(ix as da.Index[])));
      const rs = await computeAll(ys);
      rs.forEach((r, i) => {
        const ref = refSlice(data, shape, INDICES[i]!);
        expect(r.shape, JSON.stringify(INDICES[i])).toEqual(ref.shape);
        expect(Array.from(r.data), JSON.stringify(INDICES[i])).toEqual(ref.data);
      });
    }
    expect((await da.fromTypedArray(data, { shape, chunks: 3 }).get(1, 2, 3).item())).toBe(data[1 * 30 + 2 * 6 + 3]);
  });

  it("computes only the blocks it needs, viewing whole blocks", () => {
    const x = da.fromTypedArray(ints(100, 2), { shape: [10, 10], chunks: [3, 5] });
    const y = x.slice({ start: 3, stop: 6 }, { stop: 5 });
    const g = culled(y);
    expect([...g.keys()].filter((k) => k.startsWith(x.name))).toEqual([`${x.name}[1,0]`]);
    expect(opOf(g.get(y.keys()[0]!))).toBe("array.reshape"); // the whole block: a view, no copy
    const strided = culled(x.slice({ step: 4 }, 7));
    expect([...strided.keys()].filter((k) => k.startsWith(x.name)).sort()).toEqual([`${x.name}[0,1]`, `${x.name}[1,1]`, `${x.name}[2,1]`]);
  });

  it("slices a pending expression and rejects bad indices", async () => {
    const x = da.fromTypedArray(ints(12, 3), { shape: [3, 4], chunks: 2 });
    const r = await x.mul(2).slice(null, { start: 1, step: 2 }).compute();
    expect(Array.from(r.data)).toEqual(refSlice((await x.compute()).data.map((v) => v * 2), [3, 4], [null, { start: 1, step: 2 }]).data);
    const empty = da.zeros([0, 5], { chunks: 2 });
    const [e0, e1] = await computeAll([empty.slice(null, { start: 1, step: 2 }), empty.slice({ step: -1 }, 4)]);
    expect(e0.shape).toEqual([0, 2]);
    expect(e1.shape).toEqual([0]);
    expect(() => x.slice(3)).toThrow(/index 3 is out of bounds for axis 0 with size 3/);
    expect(() => x.slice(0, -5)).toThrow(/index -5 is out of bounds for axis 1 with size 4/);
    expect(() => x.slice({ step: 0 })).toThrow(/step cannot be zero/);
    expect(() => x.slice(0, 0, 0)).toThrow(/too many indices .* 2 dimension\(s\): got 3/);
    expect(() => x.slice("...", "...")).toThrow(/single "\.\.\."/);
    expect(() => x.slice({ start: 0.5 })).toThrow(/start must be an integer/);
  });
});

describe("mask", () => {
  const shape = [6, 5];
  const data = ints(30, 4);
  const sel = Array.from(data).filter((v) => v > 0);

  it("selects like x[x > 0], reduces, and learns its chunk sizes cheaply", async () => {
    for (const chunks of [[4, 2], 1, [6, 5], [[1, 5], [3, 2]]] as const) {
      const x = da.fromTypedArray(data, { shape, chunks: chunks as never });
      const y = x.mask(x.gt(0));
      expect(y.shape[0]).toBeNaN();
      const [r, sum, mean, amax, amin, mn] = await computeAll([y, y.sum(), y.mean(), y.argmax(), y.argmin(), y.min({ keepdims: true })]);
      expect(Array.from(r.data)).toEqual(sel);
      expect(sum.item()).toBe(sel.reduce((a, b) => a + b, 0));
      expect(mean.item()).toBeCloseTo(sel.reduce((a, b) => a + b, 0) / sel.length, 12);
      expect(amax.item()).toBe(sel.indexOf(Math.max(...sel)));
      expect(amin.item()).toBe(sel.indexOf(Math.min(...sel)));
      expect(mn.shape).toEqual([1]);
      const sized = await y.computeChunkSizes();
      expect(sized.shape).toEqual([sel.length]);
      expect(sized.numblocks).toEqual(y.numblocks);
      expect(sized.chunks[0]!.reduce((a, b) => a + b, 0)).toBe(sel.length);
      expect(Array.from((await sized.mul(2).compute()).data)).toEqual(sel.map((v) => v * 2));
    }
  });

  it("counts from the mask alone, aligns a mask with other chunks, and persists", async () => {
    const x = da.fromTypedArray(data, { shape, chunks: [4, 2] });
    const y = x.mask(x.gt(0));
    const counting = y.lengths.graph.cull(y.lengths.keys);
    expect([...counting.keys()].some((k) => k.startsWith("mask-") || k.startsWith("gt-"))).toBe(false); // fused count, no mask blocks
    const m = da.fromTypedArray(Uint8Array.from(data, (v) => (v % 2 === 0 ? 1 : 0)), { shape, chunks: [3, 5] }).astype("bool");
    const even = Array.from(data).filter((v) => v % 2 === 0);
    expect(Array.from((await x.mask(m).compute()).data)).toEqual(even);
    const p = await x.mask(m).persist();
    expect(Array.from((await p.compute()).data)).toEqual(even);
    expect((await p.computeChunkSizes()).shape).toEqual([even.length]);
    const none = x.mask(x.gt(100));
    expect((await none.compute()).shape).toEqual([0]);
    expect(await none.sum().item()).toBe(0);
    await expect(none.max().compute()).rejects.toThrow(/empty/);
  });

  it("rejects masks that are not bool or not of the array's shape", () => {
    const x = da.fromTypedArray(data, { shape, chunks: 2 });
    expect(() => x.mask(x)).toThrow(/dtype bool, got float64/);
    expect(() => x.mask(da.ones([6], { dtype: "bool" }))).toThrow(/mask shape \[6\] vs array shape \[6, 5\]/);
    expect(() => x.mask(x.gt(0)).sum({ axis: 1 })).toThrow(/out of bounds/);
  });
});

describe("concatenate and stack", () => {
  it("concatenates along any axis, aliasing input blocks, promoting dtypes", async () => {
    const a = ints(12, 5);
    const b = ints(20, 6);
    const x = da.fromTypedArray(a, { shape: [3, 4], chunks: [2, 3] });
    const y = da.fromTypedArray(b, { shape: [5, 4], chunks: [[1, 4], [4]] });
    const empty = da.zeros([0, 4], { chunks: 1 });
    const z = da.concatenate([x, empty, y], 0);
    expect(z.shape).toEqual([8, 4]);
    expect(Array.from((await z.compute()).data)).toEqual([...a, ...b]);
    expect(z.keys().map((k) => opOf(culled(z).get(k)))).toEqual(new Array(z.keys().length).fill("array.reshape")); // views
    const c = da.fromTypedArray(Int32Array.from(ints(6, 7)), { shape: [3, 2], chunks: 1 });
    const w = x.concatenate([c.astype("float32")], -1);
    expect(w.dtype).toBe("float64");
    const wr = await w.compute();
    const cd = (await c.compute()).data;
    expect(wr.toArray()).toEqual([0, 1, 2].map((r) => [...a.slice(r * 4, r * 4 + 4), cd[r * 2], cd[r * 2 + 1]]));
    expect(() => da.concatenate([x, y], 1)).toThrow(/same shape except along axis 1; arrays\[0\] has shape \[3, 4\], arrays\[1\] has \[5, 4\]/);
    expect(() => da.concatenate([da.ones([])])).toThrow(/zero-dimensional/);
    expect(() => da.concatenate([])).toThrow(/non-empty list/);
  });

  it("stacks along a new axis", async () => {
    const arrays = [1, 2, 3].map((s) => ints(6, s));
    const xs = arrays.map((d, i) => da.fromTypedArray(d, { shape: [2, 3], chunks: i === 1 ? 1 : [2, 2] }));
    for (const axis of [0, 1, 2, -1]) {
      const r = await da.stack(xs, axis).compute();
      const ax = axis < 0 ? axis + 3 : axis;
      const shape = [2, 3];
      shape.splice(ax, 0, 3);
      expect(r.shape).toEqual(shape);
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 3; j++) {
          for (let k = 0; k < 3; k++) {
            const idx = [i, j];
            idx.splice(ax, 0, k);
            expect(r.get(...idx)).toBe(arrays[k]![i * 3 + j]);
          }
        }
      }
    }
    expect(() => da.stack([xs[0]!, da.ones([3, 2])])).toThrow(/same shape/);
    expect(() => da.stack(xs, 3)).toThrow(/out of bounds/);
  });
});

describe("views of persisted blocks", () => {
  it("leave the blocks they view intact when results move between threads", async () => {
    const data = ints(16000, 16);
    const p = await da.fromTypedArray(data, { shape: [4, 4000], chunks: [1, 4000] }).persist();
    const sum = data.reduce((a, b) => a + b, 0);
    for (let round = 0; round < 2; round++) {
      const [c, st, sl, rs] = await computeAll([da.concatenate([p, p]), da.stack([p, p], 1), p.slice(2), p.reshape([-1])]);
      expect(c.shape).toEqual([8, 4000]);
      expect(Array.from(c.data.subarray(16000))).toEqual(Array.from(data));
      expect(st.get(3, 1, 3999)).toBe(data[15999]);
      expect(Array.from(sl.data)).toEqual(Array.from(data.subarray(8000, 12000)));
      expect(rs.data).toEqual(data);
      expect((await p.compute()).data).toEqual(data);
      expect(await p.sum().item()).toBe(sum);
    }
  });
});

describe("transpose and reshape", () => {
  it("transposes blocks of any chunking", async () => {
    const shape = [4, 3, 5];
    const data = ints(60, 8);
    for (const chunks of [[3, 2, 2], 1, [[1, 3], [3], [4, 1]]] as const) {
      const x = da.fromTypedArray(data, { shape, chunks: chunks as never });
      const [t, p] = await computeAll([x.T, x.transpose([1, -1, 0])]);
      expect(t.shape).toEqual([5, 3, 4]);
      expect(p.shape).toEqual([3, 5, 4]);
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 3; j++) {
          for (let k = 0; k < 5; k++) {
            expect(t.get(k, j, i)).toBe(data[i * 15 + j * 5 + k]);
            expect(p.get(j, k, i)).toBe(data[i * 15 + j * 5 + k]);
          }
        }
      }
    }
    const e = await da.fromTypedArray(data, { shape, chunks: 2 }).add(1).transpose([2, 0, 1]).slice(1).compute();
    expect(e.shape).toEqual([4, 3]);
    expect(e.get(3, 2)).toBe(data[3 * 15 + 2 * 5 + 1]! + 1);
    expect(() => da.ones([2, 2]).transpose([0, 0])).toThrow(/not a permutation/);
    expect(() => da.ones([2, 2]).transpose([1])).toThrow(/axes \[1\] are not a permutation of the 2 axes/);
  });

  it("reshapes block-wise when chunks allow, rechunking otherwise", async () => {
    const data = ints(120, 9);
    const cases: [number[], unknown][] = [
      [[4, 6, 5], [2, 6, 5]],
      [[4, 6, 5], [1, 3, 5]],
      [[4, 6, 5], [3, 4, 2]],
      [[4, 6, 5], 1],
      [[120], 7],
      [[120], 30],
      [[2, 60], [1, 12]],
      [[1, 120, 1], [1, 25, 1]],
    ];
    const targets = [[120], [24, 5], [4, 30], [2, 2, 6, 5], [5, 24], [8, 3, 5], [-1, 10], [1, 4, 1, 30], [120, 1]];
    for (const [shape, chunks] of cases) {
      const x = da.fromTypedArray(data, { shape, chunks: chunks as never });
      const ys = targets.map((t) => x.reshape(t));
      const rs = await computeAll(ys);
      rs.forEach((r, i) => {
        expect(r.shape).toEqual(targets[i]!.map((d) => (d === -1 ? 12 : d)));
        expect(r.data).toEqual(data);
      });
    }
  });

  it("keeps chunks that allow it and names the chunks to use when told not to rechunk", () => {
    const x = da.fromTypedArray(ints(24, 1), { shape: [4, 6], chunks: [2, 6] });
    expect(x.reshape([24]).chunks).toEqual([[12, 12]]);
    const rows = da.fromTypedArray(ints(24, 1), { shape: [4, 6], chunks: [1, 3] }).reshape([24]);
    expect(rows.chunks).toEqual([[3, 3, 3, 3, 3, 3, 3, 3]]);
    expect([...rows.graph.layers.keys()].some((n) => n.startsWith("rechunk"))).toBe(false);
    const split = da.fromTypedArray(ints(24, 1), { chunks: 3 }).reshape([4, 6]);
    expect(split.chunks).toEqual([[1, 1, 1, 1], [3, 3]]);
    const bad = da.fromTypedArray(ints(24, 1), { shape: [4, 6], chunks: [2, 3] });
    expect(() => bad.reshape([24], { rechunk: false })).toThrow(/rechunk to \[\[2, 2\], \[6\]\] first/);
    expect(() => bad.reshape([5, 5])).toThrow(/cannot reshape an array of size 24 \(shape \[4, 6\]\) into shape \[5, 5\]/);
    expect(() => bad.reshape([-1, -1])).toThrow(/at most one -1/);
    expect(da.zeros([0, 3]).reshape([3, 0]).shape).toEqual([3, 0]);
  });
});

describe("mapBlocks", () => {
  it("runs a registered op on plain blocks, with several arrays, args and new chunks", async () => {
    const data = ints(35, 10);
    const other = ints(35, 11);
    for (const chunks of [[3, 2], 1, [7, 5]] as const) {
      const x = da.fromTypedArray(data, { shape: [7, 5], chunks: chunks as never });
      const y = da.fromTypedArray(other, { shape: [7, 5], chunks: 4 }); // aligned to x's chunks
      const [d, s, n] = await computeAll([x.mapBlocks("blk.double"), da.mapBlocks("blk.addScaled", x, y, { args: [3] }), x.mapBlocks("blk.negateInPlace")]);
      expect(Array.from(d.data)).toEqual(Array.from(data, (v) => v * 2));
      expect(Array.from(s.data)).toEqual(Array.from(data, (v, i) => v + other[i]! * 3));
      expect(Array.from(n.data)).toEqual(Array.from(data, (v) => -v));
      expect(Array.from((await x.compute()).data)).toEqual(Array.from(data)); // inputs untouched
      const scale = da.fromTypedArray(Float64Array.from([2]), { shape: [1, 1] }); // one block, given to every block
      const [b] = await computeAll([da.mapBlocks("blk.addScaled", x, scale.mapBlocks("blk.double", { chunks: [1, 1] }), { args: [1] })]);
      expect(Array.from(b.data)).toEqual(Array.from(data, (v) => v + 4));
      const rs = x.mapBlocks("blk.rowSums", { dtype: "float64", chunks: [x.chunks[0]!, 1] });
      const rowBlocks = await rs.compute();
      expect(rowBlocks.shape).toEqual([7, x.numblocks[1]]);
      const totals = Array.from({ length: 7 }, (_, r) => (rowBlocks.toArray() as number[][])[r]!.reduce((a, b) => a + b, 0));
      expect(totals).toEqual(Array.from({ length: 7 }, (_, r) => data.slice(r * 5, r * 5 + 5).reduce((a, b) => a + b, 0)));
    }
  });

  it("reports blocks of the wrong size or dtype, and unknown ops", async () => {
    const x = da.fromTypedArray(ints(10, 12), { chunks: 4 });
    await expect(x.mapBlocks("blk.tooShort").compute()).rejects.toThrow(/returned 3 values for a block of shape \[4\]/);
    await expect(x.mapBlocks("blk.double", { dtype: "float32" }).compute()).rejects.toThrow(/returned a float64 typed array; the declared dtype is float32/);
    await expect(x.mapBlocks("blk.nothing").compute()).rejects.toThrow(/unknown op "blk.nothing"/);
    expect(() => x.mapBlocks("blk.double", { chunks: [[5, 5]] })).toThrow(/must be 3 non-negative integer block size/);
  });
});

describe("cumsum, histogram, bincount", () => {
  it("cumsum along each axis and flattened, for any chunking", async () => {
    const shape = [7, 5];
    const data = ints(35, 13);
    const refAxis = (axis: number | null) => {
      const out = new Float64Array(35);
      for (let i = 0; i < 7; i++) {
        for (let j = 0; j < 5; j++) {
          const at = i * 5 + j;
          const prev = axis === null ? at - 1 : axis === 0 ? at - 5 : j > 0 ? at - 1 : -1;
          out[at] = data[at]! + (prev >= 0 ? out[prev]! : 0);
        }
      }
      return Array.from(out);
    };
    for (const chunks of [[3, 2], 1, [7, 5], [[2, 2, 3], [4, 1]]] as const) {
      const x = da.fromTypedArray(data, { shape, chunks: chunks as never });
      const [c0, c1, cm, cf] = await computeAll([x.cumsum(0), x.cumsum(1), x.cumsum(-1), x.cumsum()]);
      expect(Array.from(c0.data)).toEqual(refAxis(0));
      expect(Array.from(c1.data)).toEqual(refAxis(1));
      expect(Array.from(cm.data)).toEqual(refAxis(1));
      expect(cf.shape).toEqual([35]);
      expect(Array.from(cf.data)).toEqual(refAxis(null));
    }
    const floats = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e3);
    const running = Array.from(floats, ((acc) => (v: number) => (acc += v))(0));
    for (const chunks of [1000, 77, 1]) {
      const r = await da.fromTypedArray(floats, { chunks }).cumsum().compute();
      r.data.forEach((v, i) => expect(Math.abs(v - running[i]!)).toBeLessThan(1e-9));
    }
    const f32 = da.fromTypedArray(Float32Array.from(data), { shape, chunks: 2 }).cumsum(0);
    expect(f32.dtype).toBe("float32");
    const i32 = da.fromTypedArray(Int32Array.from(data), { chunks: 4 }).cumsum();
    expect(i32.dtype).toBe("float64");
    expect(Array.from((await i32.compute()).data)).toEqual(refAxis(null));
    expect(() => da.ones([2, 2]).cumsum(2)).toThrow(/cumsum axis 2 is out of bounds/);
  });

  it("histogram sums per-block counts, identically for any chunking", async () => {
    const data = ints(1000, 14, -50, 49).map((v) => v / 100 + 0.001);
    const edges = Array.from({ length: 11 }, (_, i) => -0.5 + i * 0.1);
    const ref = new Array(10).fill(0);
    for (const v of data) {
      const b = edges.findIndex((e, i) => i < 10 && v >= e && v < edges[i + 1]!);
      if (b >= 0) ref[b]++;
    }
    for (const chunks of [1000, 333, 7]) {
      const x = da.fromTypedArray(data, { chunks });
      const h = x.histogram({ bins: 10, range: [-0.5, 0.5] });
      expect(Array.from(h.edges)).toEqual(Array.from({ length: 11 }, (_, i) => (i < 10 ? i * 0.1 - 0.5 : 0.5)));
      const [counts, density] = await computeAll([h.counts, x.histogram({ bins: 10, range: [-0.5, 0.5], density: true, splitEvery: 2 }).counts]);
      expect(Array.from(counts.data)).toEqual(ref);
      expect(Array.from(density.data).reduce((a, b) => a + b * 0.1, 0)).toBeCloseTo(1, 10);
      const explicit = await da.histogram(x, { bins: [-0.5, 0, 0.25, 0.5] }).counts.compute();
      expect(Array.from(explicit.data)).toEqual([countIn(data, -0.5, 0), countIn(data, 0, 0.25), countIn(data, 0.25, 0.5)]);
    }
    expect(() => da.ones([4]).histogram({ bins: 4 })).toThrow(/need a range/);
    expect(() => da.ones([4]).histogram({ bins: [0, 1, 1] })).toThrow(/must increase/);
  });

  it("bincount: unknown length without minlength, a checked length with it", async () => {
    const data = Int32Array.from(ints(500, 15, 0, 19));
    const ref = new Array(20).fill(0);
    for (const v of data) ref[v]++;
    for (const chunks of [500, 64, 1]) {
      const x = da.fromTypedArray(data, { chunks });
      const u = x.bincount();
      const [counts, padded] = await computeAll([u, x.bincount({ minlength: 25 })]);
      expect(Array.from(counts.data)).toEqual(ref);
      expect(Array.from(padded.data)).toEqual([...ref, 0, 0, 0, 0, 0]);
    }
    const x = da.fromTypedArray(data, { chunks: 128 });
    const sized = await x.bincount().computeChunkSizes();
    expect(sized.shape).toEqual([20]);
    expect(await x.bincount().argmax().item()).toBe(ref.indexOf(Math.max(...ref)));
    await expect(x.bincount({ minlength: 5 }).compute()).rejects.toThrow(/past minlength 5/);
    expect(() => da.ones([4]).bincount()).toThrow(/integer array, got float64/);
    expect(() => da.ones([2, 2], { dtype: "int32" }).bincount()).toThrow(/1-d array, got shape \[2, 2\]/);
  });
});

function countIn(data: ArrayLike<number>, lo: number, hi: number): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! >= lo && data[i]! < hi) n++;
  return n;
}
