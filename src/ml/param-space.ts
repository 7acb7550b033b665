/**
 * Parameter spaces of the searches: parameterGrid (scikit-learn's order: names sorted, the
 * last varying fastest) and parameterSampler (lists: uniform choices, without repeats when
 * every entry is a list; distributions: uniform, logUniform, randint, or a function of a
 * uniform draw), seeded.
 */

import { TesseraError } from "../errors.js";
import { Stream } from "./random.js";


export type ParamGrid = Record<string, readonly unknown[]> | readonly Record<string, readonly unknown[]>[];

/** Every combination, in scikit-learn's ParameterGrid order. */
export function parameterGrid(grid: ParamGrid, what = "parameterGrid"): Record<string, unknown>[] {
  const grids = Array.isArray(grid) ? grid : [grid];
  const out: Record<string, unknown>[] = [];
  for (const g of grids as Record<string, readonly unknown[]>[]) {
    if (g === null || typeof g !== "object") throw new TesseraError(`${what}: a parameter grid must be an object of name -> list of values`);
    const keys = Object.keys(g).sort();
    for (const k of keys) {
      if (!Array.isArray(g[k]) || g[k]!.length === 0) throw new TesseraError(`${what}: parameter ${JSON.stringify(k)} must have a non-empty list of values; got ${JSON.stringify(g[k])}`);
    }
    const rec = (i: number, acc: Record<string, unknown>) => {
      if (i === keys.length) return void out.push({ ...acc });
      for (const v of g[keys[i]!]!) rec(i + 1, { ...acc, [keys[i]!]: v });
    };
    rec(0, {});
  }
  return out;
}

/** A distribution to draw a parameter from: draw(u) maps uniform draws in [0, 1) to a value. */
export interface Distribution {
  draw(next: () => number): unknown;
}

export const uniform = (lo: number, hi: number): Distribution => ({ draw: (next) => lo + (hi - lo) * next() });
export const logUniform = (lo: number, hi: number): Distribution => {
  if (!(lo > 0 && hi > lo)) throw new TesseraError(`logUniform: need 0 < lo < hi, got ${lo}, ${hi}`);
  return { draw: (next) => Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * next()) };
};
/** An integer in [lo, hi). */
export const randint = (lo: number, hi: number): Distribution => ({ draw: (next) => lo + Math.floor((hi - lo) * next()) });

export type ParamDistributions = Record<string, readonly unknown[] | Distribution | ((next: () => number) => unknown)>;

/** nIter draws (scikit-learn's ParameterSampler: without repeats when every entry is a list). */
export function parameterSampler(space: ParamDistributions, nIter: number, seed: number, what = "parameterSampler"): Record<string, unknown>[] {
  if (space === null || typeof space !== "object" || Array.isArray(space)) throw new TesseraError(`${what}: parameter distributions must be an object of name -> list, distribution or function`);
  const keys = Object.keys(space).sort();
  const rng = new Stream(seed, 4000);
  const next = () => rng.next();
  if (keys.every((k) => Array.isArray(space[k]))) {
    const grid = parameterGrid(space as Record<string, readonly unknown[]>, what);
    const order = grid.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order.slice(0, Math.min(nIter, grid.length)).map((i) => grid[i]!);
  }
  return Array.from({ length: nIter }, () => {
    const p: Record<string, unknown> = {};
    for (const k of keys) {
      const d = space[k]!;
      if (Array.isArray(d)) {
        if (d.length === 0) throw new TesseraError(`${what}: parameter ${JSON.stringify(k)} has an empty list`);
        p[k] = d[rng.int(d.length)];
      } else if (typeof d === "function") p[k] = d(next);
      else if (d && typeof (d as Distribution).draw === "function") p[k] = (d as Distribution).draw(next);
      else throw new TesseraError(`${what}: parameter ${JSON.stringify(k)} must be a list, a distribution (uniform, logUniform, randint) or a function; got ${JSON.stringify(d)}`);
    }
    return p;
  });
}
