/**
 * What every estimator shares: checking its options when it is made (so a bad option fails at
 * `new`, not minutes into a fit) and refusing to predict before it is fitted.
 */

import { TesseraError } from "../errors.js";

export function notFitted(estimator: string, method: string): TesseraError {
  return new TesseraError(`${estimator}.${method}: this ${estimator} is not fitted yet; call fit() first`);
}

/** A finite number within [lo, hi] (exclusive where `open`), or the default. */
export function numberOption(estimator: string, name: string, value: unknown, dflt: number, lo: number, hi: number, open: { lo?: boolean; hi?: boolean } = {}): number {
  if (value === undefined) return dflt;
  const ok =
    typeof value === "number" && Number.isFinite(value) && (open.lo ? value > lo : value >= lo) && (open.hi ? value < hi : value <= hi);
  if (!ok) {
    const range = `${open.lo ? "(" : "["}${lo}, ${hi === Infinity ? "inf" : hi}${open.hi || hi === Infinity ? ")" : "]"}`;
    throw new TesseraError(`${estimator}: ${name} must be a number in ${range}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function intOption(estimator: string, name: string, value: unknown, dflt: number, lo: number): number {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !Number.isInteger(value) || value < lo) throw new TesseraError(`${estimator}: ${name} must be an integer >= ${lo}, got ${JSON.stringify(value)}`);
  return value;
}

export function boolOption(estimator: string, name: string, value: unknown, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== "boolean") throw new TesseraError(`${estimator}: ${name} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** Unknown option names are typos: say which, and what there is. */
export function checkKeys(estimator: string, options: object, known: readonly string[]): void {
  if (options === null || typeof options !== "object") throw new TesseraError(`${estimator}: options must be an object, got ${JSON.stringify(options)}`);
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new TesseraError(`${estimator}: unknown option ${JSON.stringify(k)}; options are ${known.join(", ")}`);
  }
}
