// Property test: one pipeline on an inline, a 1-worker and a 2-worker cluster gives the same bytes (NaNs aside).
//
// The pipeline: every unary op, pow, exact chains, random arrays and reductions over a few
// reference cases (issue 3). Seeds and cases: reference-helpers.ts.
import { describe, expect, it } from "vitest";
import { LocalCluster, array as da } from "../../dist/index.js";
import { exactChain, IN, makeInputs } from "./reference-exprs.js";
import {
  bitDiff, cases, chunked, client, computeAll, DTYPES, FIXED, label, useCluster, type ChunkedArray
} from "./reference-helpers.js";
import { build, UN_OPS, type Node } from "./reference-semantics.js";

useCluster();

describe("worker count", () => {
  it("gives the same bytes (any NaN equal to any NaN) on an inline, a 1-worker and a 2-worker cluster", async () => {
    const inline = await LocalCluster.start({ inline: true });
    const one = await LocalCluster.start({ workers: 1 });
    try {
      for (const c of cases(3, 300).slice(FIXED.length - 1)) {
        const r = c.rng;
        const inputs = makeInputs(c, ["float64", r.pick(DTYPES), "float32", r.pick(DTYPES)]);
        const ins = inputs.refs.map((ref, i) => chunked(ref, inputs.chunks[0][i]!, inputs.chunks[0][i]!));
        const exprs: Node[] = [
          ...UN_OPS.map((op): Node => ({ k: "un", op, a: IN(0) })),
          { k: "bin", op: "pow", a: IN(0), b: IN(2) },
          exactChain(r, inputs.refs, 8),
          exactChain(r, inputs.refs, 8),
        ];
        const x = ins[0]!;
        const arrays: ChunkedArray[] = [
          ...exprs.map((e) => build(e, ins) as ChunkedArray),
          da.random.normal(c.shape, { chunks: c.chunksA, seed: c.seed }).mul(3).exp().sum({ axis: 0, splitEvery: 2 }),
          da.random.uniform(c.shape, { chunks: c.chunksB, seed: c.seed, dtype: "float32" }).sigmoid(),
          da.random.integers(c.shape, { low: -5, high: 9, chunks: c.chunksB, seed: c.seed }),
          x.rechunk(c.chunksB).sin().sum(),
          x.tanh().var({ ddof: 1, splitEvery: 3 }),
          ...c.shape.map((_, a) => x.cos().mean({ axis: a, keepdims: true })),
          ...c.shape.map((_, a) => x.argmax({ axis: a })),
          x.prod(),
          ins[2]!.std({ axis: -1 }),
        ];
        const [a, b, d] = await Promise.all([inline, one, client].map((cl) => computeAll(cl, arrays)));
        arrays.forEach((arr, k) => {
          expect(bitDiff(a![k]!, b![k]!), `${label(c)}: output ${k} (${arr.name}) inline vs 1 worker`).toBeUndefined();
          expect(bitDiff(a![k]!, d![k]!), `${label(c)}: output ${k} (${arr.name}) inline vs 2 workers`).toBeUndefined();
        });
      }
    } finally {
      await Promise.all([inline.close(), one.close()]);
    }
  });
});
