// Property tests: rechunk on random shapes and chunkings is exact, whatever the source and target chunks.
//
// Also: a pending expression rechunked, two arrays of different chunks combined, and a rechunked
// array reduced like the original (issue 3). Seeds and cases: reference-helpers.ts.
import { describe, expect, it } from "vitest";
import {
  cases, chunked, client, computeAll, DTYPES, label, prod, randomChunks, randomValues, refDiff,
  SEED, useCluster, type ChunkedArray, type Ref
} from "./reference-helpers.js";
import { IN } from "./reference-exprs.js";
import { build, evalBin, evalRef, reduceRef, reductionDiff, type Node } from "./reference-semantics.js";

useCluster();

const RECHUNKS = cases(10, 200);

describe(`rechunk (seed ${SEED})`, () => {
  it.each(RECHUNKS.map((c, i) => [label(c), c, i] as const))("%s", async (_, c, i) => {
    const r = c.rng;
    const dtype = DTYPES[i % DTYPES.length]!;
    const x: Ref = { dtype, shape: c.shape, data: randomValues(r, dtype, prod(c.shape), true) };
    const xa = chunked(x, c.chunksA, c.chunksA);
    const third = randomChunks(r, c.shape);
    // Chunk specs as users write them: explicit sizes, one size for every axis, a size per axis, "auto".
    const specs: (number | number[][] | (number | "auto")[])[] = [c.chunksB, third, 1 + r.int(4), c.shape.map((d) => (r.chance(0.3) ? "auto" : 1 + r.int(d)))];
    const failures: string[] = [];
    const outs: { what: string; arr: ChunkedArray; want: Ref; chunks?: unknown }[] = [];
    for (const spec of specs) {
      const y = xa.rechunk(spec);
      outs.push({ what: `rechunk(${JSON.stringify(spec)})`, arr: y, want: x });
      outs.push({ what: `rechunk(${JSON.stringify(spec)}).rechunk(A)`, arr: y.rechunk(c.chunksA), want: x, chunks: c.chunksA });
    }
    outs[0]!.chunks = c.chunksB;
    outs[2]!.chunks = third;
    // A pending expression rechunked, and two arrays of different chunks combined (aligned).
    const expr: Node = { k: "bin", op: "maximum", a: IN(0), b: { k: "astype", a: { k: "bin", op: "gt", a: IN(0), b: 0 }, d: dtype } };
    const eref = evalRef(expr, [x]) as Ref;
    outs.push({ what: "maximum(x, x > 0).rechunk(B)", arr: (build(expr, [xa]) as ChunkedArray).rechunk(c.chunksB), want: eref });
    const sum = evalBin(dtype === "bool" ? "or" : "maximum", x, x);
    outs.push({ what: "x(A) op x(B)", arr: dtype === "bool" ? xa.or(chunked(x, c.chunksB, c.chunksA)) : xa.maximum(chunked(x, third, c.chunksA)), want: sum });
    const got = await computeAll(client, outs.map((o) => o.arr));
    outs.forEach((o, k) => {
      const diff = refDiff(got[k]!, o.want, false);
      if (diff) failures.push(`${label(c)}: ${dtype} ${o.what}: ${diff}`);
      if (o.chunks && JSON.stringify(o.arr.chunks) !== JSON.stringify(o.chunks)) {
        failures.push(`${label(c)}: ${o.what}: chunks ${JSON.stringify(o.arr.chunks)}, want ${JSON.stringify(o.chunks)}`);
      }
    });
    // A rechunked array reduces like the original (same value within tolerance).
    const [s1, s2] = await computeAll(client, [xa.rechunk(c.chunksB).sum(), xa.rechunk(third).astype("float64").mean({ axis: 0 })]);
    const d1 = reductionDiff("sum", s1!, reduceRef("sum", x, null, false, 0));
    const d2 = reductionDiff("mean", s2!, reduceRef("mean", { ...x, dtype: "float64" }, 0, false, 0));
    for (const d of [d1, d2]) if (d) failures.push(`${label(c)}: rechunk then reduce: ${d}`);
    expect(failures, `${failures.length} failure(s)`).toEqual([]);
  });
});
