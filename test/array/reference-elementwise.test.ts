// Property tests: elementwise ops on random shapes and chunkings against the plain-JS reference.
//
// What must hold (issue 3): the same expression computed with two chunkings is bit-identical (raw
// bytes, except that any NaN equals any NaN: see bitDiff); against the reference it is exact
// (Object.is per element: -0 and +0 differ, any NaN equals any NaN), except transcendentals (exp,
// log, sin, cos, tanh, sigmoid, pow), where the kernels run musl's math and the reference Math.*:
// those agree within MAX_ULPS units in the last place. Seeds and cases: reference-helpers.ts.
import { describe, expect, it } from "vitest";
import type { Client } from "../../dist/index.js";
import { exactChain, IN, makeInputs, scalarFor, type Inputs } from "./reference-exprs.js";
import {
  bitDiff, cases, chunked, client, computeAll, DTYPES, label, refDiff, SEED, useCluster, type Case,
  type ChunkedArray, type Ref, type Rng
} from "./reference-helpers.js";
import {
  approx, BIN_OPS, build, evalRef, RefError, SCALAR_FIRST, show, UN_OPS, type Node
} from "./reference-semantics.js";

useCluster();

/** The single-op expressions of a case: every op with array, scalar and broadcast operands. */
function singleOps(r: Rng, refs: readonly Ref[]): Node[] {
  const [x, y, z, w, m] = [0, 1, 2, 3, 4].map(IN) as [Node, Node, Node, Node, Node];
  const dx = refs[0]!.dtype;
  const out: Node[] = [];
  for (const op of BIN_OPS) {
    out.push({ k: "bin", op, a: x, b: y });
    out.push({ k: "bin", op, a: x, b: scalarFor(r, dx, op) });
    if (SCALAR_FIRST[op]) out.push({ k: "bin", op, a: scalarFor(r, dx, op), b: x });
    out.push({ k: "bin", op, a: x, b: z });
    out.push({ k: "bin", op, a: z, b: x });
    out.push({ k: "bin", op, a: z, b: w });
  }
  // An exact expression of x and y: unary ops applied to it read a fused input.
  const inner: Node = { k: "bin", op: "sub", a: { k: "bin", op: "mul", a: { k: "astype", a: x, d: "float64" }, b: 0.5 }, b: { k: "astype", a: y, d: "float64" } };
  for (const op of UN_OPS) {
    out.push({ k: "un", op, a: x }, { k: "un", op, a: y }, { k: "un", op, a: z }, { k: "un", op, a: inner });
  }
  const [lo, hi] = [scalarFor(r, dx, "clip"), scalarFor(r, dx, "clip")].sort((p, q) => p - q) as [number, number];
  out.push({ k: "clip", a: x, lo, hi }, { k: "clip", a: x, lo: z, hi }, { k: "clip", a: x, lo, hi: y }, { k: "clip", a: z, lo: w, hi: y });
  out.push(
    { k: "where", c: m, a: x, b: y },
    { k: "where", c: { k: "bin", op: "gt", a: x, b: 0 }, a: x, b: scalarFor(r, dx, "where") },
    { k: "where", c: x, a: z, b: y },
    { k: "where", c: m, a: scalarFor(r, dx, "where"), b: w },
  );
  for (const d of DTYPES) out.push({ k: "astype", a: x, d }, { k: "astype", a: y, d }, { k: "astype", a: { k: "astype", a: x, d: "float32" }, d });
  return out;
}


interface Built {
  expr: Node;
  ref?: Ref;
  /** The reference throws: building the array must throw too. */
  refError?: string;
  arrays?: [ChunkedArray, ChunkedArray];
  buildError?: string;
}

/** Build each expression with both chunkings; compute them all; compare. Returns failure messages. */
async function checkElementwise(c: Case, inputs: Inputs, exprs: readonly Node[], on: Client): Promise<string[]> {
  const boolFrom = (i: number) => inputs.chunks[0][i]!;
  const ins = [0, 1].map((k) => inputs.refs.map((ref, i) => chunked(ref, inputs.chunks[k as 0 | 1][i]!, boolFrom(i))));
  const built: Built[] = exprs.map((expr) => {
    const b: Built = { expr };
    try {
      b.ref = evalRef(expr, inputs.refs) as Ref;
    } catch (err) {
      if (!(err instanceof RefError)) throw err;
      b.refError = err.message;
    }
    try {
      b.arrays = [build(expr, ins[0]!) as ChunkedArray, build(expr, ins[1]!) as ChunkedArray];
    } catch (err) {
      b.buildError = (err as Error).message;
    }
    return b;
  });
  const failures: string[] = [];
  const fail = (b: Built, msg: string) => failures.push(`${label(c)}: ${show(b.expr)} [${inputs.refs.map((r) => `${r.dtype}[${r.shape}]`).join(", ")}]: ${msg}`);
  for (const b of built) {
    if (b.refError && !b.buildError) fail(b, `the reference rejects it (${b.refError}) but the array API accepted it`);
    if (!b.refError && b.buildError) fail(b, `the array API threw: ${b.buildError}`);
    if (b.arrays && b.ref && (b.arrays[0].dtype !== b.ref.dtype || JSON.stringify(b.arrays[0].shape) !== JSON.stringify(b.ref.shape))) {
      fail(b, `lazy array is ${b.arrays[0].dtype}[${b.arrays[0].shape}], want ${b.ref.dtype}[${b.ref.shape}]`);
    }
  }
  const ok = built.filter((b) => b.arrays && b.ref);
  const [resA, resB] = await Promise.all([0, 1].map((k) => computeAll(on, ok.map((b) => b.arrays![k]!))));
  ok.forEach((b, i) => {
    const a = resA![i]!, bb = resB![i]!;
    const bits = bitDiff(a, bb);
    if (bits) fail(b, `chunkings differ: ${bits}`);
    const diff = refDiff(a, b.ref!, approx(b.expr));
    if (diff) fail(b, `vs reference: ${diff}`);
  });
  return failures;
}


const ELEMENTWISE = cases(14, 0);

describe(`elementwise ops against the reference (seed ${SEED})`, () => {
  it.each(ELEMENTWISE.map((c, i) => [label(c), c, i] as const))("%s", async (_, c, i) => {
    const r = c.rng;
    // x cycles through the dtypes; y, z, w are random (mixed-dtype promotion).
    const dtypes = [DTYPES[i % DTYPES.length]!, r.pick(DTYPES), r.pick(DTYPES), r.pick(DTYPES)];
    const inputs = makeInputs(c, dtypes);
    const exprs = singleOps(r, inputs.refs);
    for (let j = 0; j < 4; j++) exprs.push(exactChain(r, inputs.refs, 3 + r.int(6)));
    // One long chain: past the inlining limit the expression is cut into several fused arrays.
    if (i % 4 === 0) exprs.push(exactChain(r, inputs.refs, 60));
    const failures = await checkElementwise(c, inputs, exprs, client);
    expect(failures.slice(0, 20), `${failures.length} failure(s)`).toEqual([]);
  });
});
