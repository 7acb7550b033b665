// Property tests: reductions on random shapes and chunkings against the plain-JS reference.
//
// What must hold (issue 3): all axes, each single axis, keepdims, ddof 0/1, within a tolerance
// scaled to the data (the tree differs between chunkings, so the rounding may too);
// min/max/arg*/any/all exact. Seeds and cases: reference-helpers.ts.
import { describe, expect, it } from "vitest";
import {
  cases, chunked, client, computeAll, DTYPES, isFloat, label, prod, randomValues, SEED, useCluster,
  type ChunkedArray, type NDArray, type Ref
} from "./reference-helpers.js";
import {
  cast, RED_OPS, reduceRef, reductionDiff, type RedOp, type RefReduction
} from "./reference-semantics.js";

useCluster();

const REDUCTIONS = cases(14, 100);

describe(`reductions against the reference (seed ${SEED})`, () => {
  it.each(REDUCTIONS.map((c, i) => [label(c), c, i] as const))("%s", async (_, c, i) => {
    const r = c.rng;
    const dtype = DTYPES[i % DTYPES.length]!;
    const n = prod(c.shape);
    const values = randomValues(r, dtype, n, false);
    // Some cases hold a NaN (it wins min/max/arg*, poisons sums, is truthy) or an infinity.
    if (isFloat(dtype) && r.chance(0.5)) values[r.int(n)] = r.pick([Infinity, -Infinity]);
    if (isFloat(dtype) && r.chance(0.3)) values[r.int(n)] = NaN;
    const x: Ref = { dtype, shape: c.shape, data: values };
    // prod over gentle values (magnitudes near 1, or small integers), so it neither overflows nor underflows.
    const gentle = (): number => {
      if (isFloat(dtype)) return cast((r.chance(0.5) ? -1 : 1) * (0.8 + 0.45 * r.next()), "float64", dtype);
      if (dtype === "bool") return r.chance(0.05) ? 0 : 1;
      return dtype === "uint8" ? 1 + r.int(2) : r.pick([-2, -1, 1, 2]);
    };
    const pv = Float64Array.from({ length: n }, gentle);
    const p: Ref = { dtype, shape: c.shape, data: pv };
    const splitEvery = r.pick([2, 3, 4, 8]);
    const specs: { axis: number | null; keepdims: boolean; arg: number | null }[] = [{ axis: null, keepdims: r.chance(0.3), arg: null }];
    c.shape.forEach((_, a) => {
      const keepdims = r.chance(0.5);
      specs.push({ axis: a, keepdims, arg: r.chance(0.3) ? a - c.shape.length : a });
    });

    const failures: string[] = [];
    const jobs: { what: string; op: RedOp; src: Ref; all: boolean; want: RefReduction; make: (x: ChunkedArray, p: ChunkedArray) => ChunkedArray }[] = [];
    for (const s of specs) {
      for (const op of RED_OPS) {
        for (const ddof of op === "var" || op === "std" ? [0, 1] : [0]) {
          const src = op === "prod" ? p : x;
          const opts = { axis: s.arg, keepdims: s.keepdims, ddof, splitEvery };
          jobs.push({
            what: `${op}(${JSON.stringify(opts)})`,
            op,
            src,
            all: s.axis === null,
            want: reduceRef(op, src, s.axis, s.keepdims, ddof),
            make: (xa, pa) => (op === "prod" ? pa : xa)[op](opts),
          });
        }
      }
      // Fused: an elementwise expression reduced in the same pass (float64 data only: exact).
      if (dtype === "float64") {
        const fx: Ref = { dtype, shape: c.shape, data: values.map((v) => v * 0.5 + 1) };
        for (const op of ["sum", "max", "argmin", "var", "any", "mean"] as const) {
          const opts = { axis: s.arg, keepdims: s.keepdims, splitEvery };
          jobs.push({ what: `${op}(x*0.5+1, ${JSON.stringify(opts)})`, op, src: fx, all: s.axis === null, want: reduceRef(op, fx, s.axis, s.keepdims, 0), make: (xa) => xa.mul(0.5).add(1)[op](opts) });
        }
      }
    }
    const results: NDArray[][] = [];
    for (const chunks of [c.chunksA, c.chunksB]) {
      const xa = chunked(x, chunks, c.chunksA), pa = chunked(p, chunks, c.chunksA);
      results.push(await computeAll(client, jobs.map((j) => j.make(xa, pa))));
    }
    jobs.forEach((j, k) => {
      results.forEach((res, which) => {
        const diff = reductionDiff(j.op, res[k]!, j.want);
        if (diff) failures.push(`${label(c)}: ${dtype} ${j.what}, chunking ${"AB"[which]}: ${diff}`);
      });
    });
    expect(failures.slice(0, 20), `${failures.length} failure(s)`).toEqual([]);
  });
});
