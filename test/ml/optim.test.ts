// The client-side pieces of the estimators, without workers: L-BFGS, Newton, the small linear
// solves, the seeded random draws and the weighted k-means on candidates.
import { describe, expect, it } from "vitest";
import { lbfgs } from "../../src/ml/lbfgs.js";
import { newton, newtonStep } from "../../src/ml/newton.js";
import { choleskySolve, pinvSolve, solveNormal, symmetricEigen } from "../../src/ml/linalg.js";
import { Stream, uniformAt } from "../../src/ml/random.js";
import { kmeansPlusPlus, lloyd } from "../../src/ml/kmeans-local.js";

describe("newton", () => {
  it("takes the full step on a quadratic (one iteration), and backtracks where it overshoots", async () => {
    const diag = [1, 1e3, 1e6];
    const quad = {
      full: async (x: Float64Array) => ({ f: x.reduce((s, v, i) => s + 0.5 * diag[i]! * (v - i) ** 2, 0), g: x.map((v, i) => diag[i]! * (v - i)), H: Float64Array.from([1, 0, 0, 0, 1e3, 0, 0, 0, 1e6]) }),
      loss: async () => Infinity,
    };
    const q = await newton(quad, new Float64Array(3), { maxIter: 10, gtol: 1e-9, what: "test" });
    expect(q).toMatchObject({ converged: true, nIter: 1, nEval: 2 });
    expect(Array.from(q.x)).toEqual([0, 1, 2]);
    // f = sqrt(1 + x²): the full Newton step from x = 2 lands at -8, where f is larger.
    let losses = 0;
    const hump = {
      full: async (x: Float64Array) => {
        const v = x[0]!;
        const r = Math.sqrt(1 + v * v);
        return { f: r, g: Float64Array.of(v / r), H: Float64Array.of(1 / r ** 3) };
      },
      loss: async (x: Float64Array) => (losses++, Math.sqrt(1 + x[0]! ** 2)),
    };
    const h = await newton(hump, Float64Array.of(2), { maxIter: 50, gtol: 1e-10, what: "test" });
    expect(h.converged).toBe(true);
    expect(Math.abs(h.x[0]!)).toBeLessThan(1e-9);
    expect(losses).toBeGreaterThan(0);
  });

  it("adds a small ridge to a Hessian that rounding left semidefinite, and says what to do when that is not enough", () => {
    const s = newtonStep(Float64Array.from([1, 1, 1, 1]), Float64Array.from([1, 1]), 2, "X.fit");
    expect(s[0]! + s[1]!).toBeCloseTo(-1, 5);
    expect(() => newtonStep(Float64Array.from([1, 0, 0, -1]), Float64Array.from([1, 1]), 2, "X.fit")).toThrow(/X.fit: the Hessian \(2 x 2\) is not positive definite.*use solver "lbfgs"/);
  });
});

describe("lbfgs", () => {
  it("minimizes the Rosenbrock function from (-1.2, 1) to (1, 1)", async () => {
    const objective = async (x: Float64Array) => {
      const [a, b] = [x[0]!, x[1]!];
      const f = 100 * (b - a * a) ** 2 + (1 - a) ** 2;
      const g = Float64Array.from([-400 * a * (b - a * a) - 2 * (1 - a), 200 * (b - a * a)]);
      return { f, g };
    };
    const r = await lbfgs(objective, Float64Array.from([-1.2, 1]), { maxIter: 200, gtol: 1e-10 });
    expect(r.converged).toBe(true);
    expect(r.x[0]).toBeCloseTo(1, 8);
    expect(r.x[1]).toBeCloseTo(1, 8);
    expect(r.nEval).toBeLessThan(120);
  });

  it("solves a convex quadratic in a few iterations, and stops at maxIter otherwise", async () => {
    const diag = [1, 10, 100, 1000];
    const objective = async (x: Float64Array) => ({
      f: x.reduce((s, v, i) => s + 0.5 * diag[i]! * (v - i) ** 2, 0),
      g: x.map((v, i) => diag[i]! * (v - i)),
    });
    const r = await lbfgs(objective, new Float64Array(4), { maxIter: 100, gtol: 1e-9 });
    expect(Array.from(r.x, (v) => Math.round(v * 1e6) / 1e6)).toEqual([0, 1, 2, 3]);
    const short = await lbfgs(objective, new Float64Array(4), { maxIter: 2, gtol: 1e-12 });
    expect(short.converged).toBe(false);
    expect(short.message).toMatch(/maxIter/);
  });
});

describe("linalg", () => {
  it("Cholesky solves an SPD system; a singular one gets the minimum-norm solution", () => {
    const A = Float64Array.from([4, 2, 0, 2, 5, 1, 0, 1, 3]);
    const x = choleskySolve(A, Float64Array.from([2, 3, 4]), 3)!;
    const back = [0, 1, 2].map((i) => A[i * 3]! * x[0]! + A[i * 3 + 1]! * x[1]! + A[i * 3 + 2]! * x[2]!);
    back.forEach((v, i) => expect(v).toBeCloseTo([2, 3, 4][i]!, 12));
    const S = Float64Array.from([1, 1, 1, 1]); // [[1, 1], [1, 1]]
    expect(choleskySolve(S, Float64Array.from([2, 2]), 2)).toBeNull();
    const p = pinvSolve(S, Float64Array.from([2, 2]), 2);
    expect(p[0]).toBeCloseTo(1, 12);
    expect(p[1]).toBeCloseTo(1, 12);
    expect(solveNormal(S, Float64Array.from([2, 2]), 2).singular).toBe(true);
    const { values } = symmetricEigen(A, 3);
    expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(12, 10);
  });
});

describe("random", () => {
  it("draws the same value for the same (seed, stream, index), in [0, 1), and different ones otherwise", () => {
    expect(uniformAt(1, 2, 3)).toBe(uniformAt(1, 2, 3));
    expect(uniformAt(1, 2, 3)).not.toBe(uniformAt(1, 2, 4));
    expect(uniformAt(1, 2, 3)).not.toBe(uniformAt(2, 2, 3));
    expect(uniformAt(1, 2, 2 ** 40)).not.toBe(uniformAt(1, 2, 0));
    const s = new Stream(7, 0);
    const xs = Array.from({ length: 10000 }, () => s.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 1);
  });
});

describe("k-means on weighted candidates", () => {
  it("finds well separated clusters and is deterministic for a seed", () => {
    const pts = Float64Array.from([0, 0, 0.1, 0, 10, 10, 10.1, 10, -10, 5, -10.1, 5]);
    const w = Float64Array.from([5, 5, 3, 3, 1, 1]);
    const start = kmeansPlusPlus(pts, w, 6, 2, 3, new Stream(0, 3));
    expect(start).toEqual(kmeansPlusPlus(pts, w, 6, 2, 3, new Stream(0, 3)));
    const C = lloyd(pts, w, 6, 2, start, 3, { maxIter: 100, tol: 0 });
    const centres = [0, 1, 2].map((c) => [C[2 * c]!, C[2 * c + 1]!].map((v) => Math.round(v * 100) / 100).join(",")).sort();
    expect(centres).toEqual(["-10.05,5", "0.05,0", "10.05,10"]);
  });
});
