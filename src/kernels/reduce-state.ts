/**
 * Reduction partials: what a kernel returns for one chunk, how two chunks' partials combine
 * (so the array layer can tree-reduce them in any grouping), and how a partial becomes the
 * answer. Pure functions over plain data: partials are structured-clonable and tiny.
 *
 *   op              value               extra                 combine(a, b), a before b
 *   sum, mean       sum                 compensation          Neumaier (error-compensated)
 *   prod            product             -                     a * b
 *   min, max        value (NaN wins)    -                     min / max
 *   argmin, argmax  best value          its global index      b if strictly better, else a
 *   var, std        mean                M2 = sum (x-mean)^2   Chan et al.'s parallel update
 *   any, all        0 / 1               -                     or / and
 *
 * count is the number of elements folded in. Axis partials hold the same two fields as
 * Float64Arrays, one entry per output element, with one count for all (the axis length).
 */

import type { Dtype } from "./dtypes.js";
import { KernelError } from "./errors.js";

export type ReduceOp = "sum" | "prod" | "min" | "max" | "argmin" | "argmax" | "mean" | "var" | "std" | "any" | "all";

export const REDUCE_OPS: readonly ReduceOp[] = ["sum", "prod", "min", "max", "argmin", "argmax", "mean", "var", "std", "any", "all"];

export interface Partial {
  op: ReduceOp;
  /** Dtype of the reduced elements. */
  dtype: Dtype;
  count: number;
  value: number;
  extra: number;
}

export interface AxisPartial {
  op: ReduceOp;
  dtype: Dtype;
  /** Elements folded into every output (the reduced axis' length so far). */
  count: number;
  value: Float64Array;
  extra: Float64Array;
}

/**
 * Dtype of a reduction's result (numpy's, except that int64 results are float64 here):
 * sum/prod of f32 -> f32, of f64 and integers -> f64; min/max keep the dtype; argmin/argmax ->
 * float64 (an index); mean/var/std of f32 -> f32, else f64; any/all -> bool.
 */
export function reduceResultDtype(op: ReduceOp, dtype: Dtype): Dtype {
  switch (op) {
    case "min":
    case "max":
      return dtype;
    case "any":
    case "all":
      return "bool";
    case "argmin":
    case "argmax":
      return "float64";
    default:
      return dtype === "float32" ? "float32" : "float64";
  }
}

/** The state of no elements. */
export function emptyPartial(op: ReduceOp, dtype: Dtype): Partial {
  return { op, dtype, count: 0, value: op === "prod" || op === "all" ? 1 : 0, extra: 0 };
}

const isNaN = Number.isNaN;

function better(x: number, best: number, isMax: boolean): boolean {
  if (isNaN(best)) return false;
  if (isNaN(x)) return true;
  return isMax ? x > best : x < best;
}

/** Combine the scalar fields of two states (a covers earlier elements than b). */
function combineFields(op: ReduceOp, na: number, va: number, ea: number, nb: number, vb: number, eb: number): [number, number] {
  if (nb === 0) return [va, ea];
  if (na === 0) return [vb, eb];
  switch (op) {
    case "sum":
    case "mean": {
      const t = va + vb;
      const c = Math.abs(va) >= Math.abs(vb) ? va - t + vb : vb - t + va;
      return [t, ea + eb + c];
    }
    case "prod":
      return [va * vb, 0];
    case "min":
      return [isNaN(va) || isNaN(vb) ? NaN : Math.min(va, vb), 0];
    case "max":
      return [isNaN(va) || isNaN(vb) ? NaN : Math.max(va, vb), 0];
    case "argmin":
    case "argmax":
      // Equal values (or two NaNs): the first occurrence wins, whatever order blocks combine in.
      if (va === vb || (isNaN(va) && isNaN(vb))) return eb < ea ? [vb, eb] : [va, ea];
      return better(vb, va, op === "argmax") ? [vb, eb] : [va, ea];
    case "var":
    case "std": {
      const n = na + nb;
      const delta = vb - va;
      return [va + (delta * nb) / n, ea + eb + (delta * delta * na * nb) / n];
    }
    case "any":
      return [va || vb ? 1 : 0, 0];
    case "all":
      return [va && vb ? 1 : 0, 0];
  }
}

/** Combine two partials of the same reduction; `a` must cover elements before `b`'s. */
export function combine(a: Partial, b: Partial): Partial {
  if (a.op !== b.op) throw new KernelError(`combine: cannot combine a ${a.op} partial with a ${b.op} partial`);
  const [value, extra] = combineFields(a.op, a.count, a.value, a.extra, b.count, b.value, b.extra);
  return { op: a.op, dtype: a.dtype, count: a.count + b.count, value, extra };
}

function finalizeFields(op: ReduceOp, dtype: Dtype, count: number, value: number, extra: number, ddof: number): number {
  const f32 = dtype === "float32";
  const round = (x: number) => (f32 ? Math.fround(x) : x);
  switch (op) {
    case "sum":
      // An infinite sum makes the compensation inf - inf: the sum itself is the answer.
      return round(Number.isFinite(value) ? value + extra : value);
    case "mean":
      return round(count === 0 ? NaN : (Number.isFinite(value) ? value + extra : value) / count);
    case "prod":
      return round(value);
    case "min":
    case "max":
    case "argmin":
    case "argmax":
      if (count === 0) throw new KernelError(`${op} of an empty array (numpy raises too: the reduction has no identity)`);
      return op === "argmin" || op === "argmax" ? extra : value;
    case "var":
    case "std": {
      const v = count - ddof <= 0 ? NaN : Math.max(0, extra) / (count - ddof);
      return round(op === "std" ? Math.sqrt(v) : v);
    }
    case "any":
    case "all":
      return value;
  }
}

/** The answer a partial stands for. `ddof` (var/std) divides M2 by count - ddof, as numpy. */
export function finalize(p: Partial, options: { ddof?: number } = {}): number {
  return finalizeFields(p.op, p.dtype, p.count, p.value, p.extra, options.ddof ?? 0);
}

/** Combine two axis partials elementwise; `a` covers the earlier part of the axis. */
export function combineAxis(a: AxisPartial, b: AxisPartial): AxisPartial {
  if (a.op !== b.op) throw new KernelError(`combineAxis: cannot combine a ${a.op} partial with a ${b.op} partial`);
  if (a.value.length !== b.value.length) {
    throw new KernelError(`combineAxis: partials have ${a.value.length} and ${b.value.length} outputs; they must come from blocks of the same shape off the axis`);
  }
  const value = new Float64Array(a.value.length), extra = new Float64Array(a.value.length);
  for (let i = 0; i < value.length; i++) {
    const [v, e] = combineFields(a.op, a.count, a.value[i]!, a.extra[i]!, b.count, b.value[i]!, b.extra[i]!);
    value[i] = v;
    extra[i] = e;
  }
  return { op: a.op, dtype: a.dtype, count: a.count + b.count, value, extra };
}

/** The answers of an axis partial, as float64 (cast to reduceResultDtype as needed). */
export function finalizeAxis(p: AxisPartial, options: { ddof?: number } = {}): Float64Array {
  const out = new Float64Array(p.value.length);
  for (let i = 0; i < out.length; i++) out[i] = finalizeFields(p.op, p.dtype, p.count, p.value[i]!, p.extra[i]!, options.ddof ?? 0);
  return out;
}

/** Add `offset` to the indices of an argmin/argmax partial (a chunk's position in the array). */
export function offsetIndex<P extends Partial | AxisPartial>(p: P, offset: number): P {
  if (p.op !== "argmin" && p.op !== "argmax") return p;
  if (typeof p.extra === "number") return { ...p, extra: p.extra + offset };
  return { ...p, extra: (p.extra as Float64Array).map((x) => x + offset) };
}
