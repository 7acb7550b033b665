/**
 * Models as JSON: every estimator's `toJSON()` gives
 *
 *   { format: "tessera-ml", version: 1, estimator: "<ClassName>", params, fitted }
 *
 * `params` are the constructor options (so `new Class(params)` checks them again on load) and
 * `fitted` what fit learnt, or null for an unfitted estimator (which then still refuses to
 * predict). Typed arrays become plain number arrays; NaN and ±Infinity, which JSON has no
 * words for, become the strings "NaN", "Infinity" and "-Infinity" wherever a number goes.
 *
 * `fromJSON(obj | string)` looks the class up in a registry that each estimator module fills
 * at load with `registerEstimator(name, fromJSON)`, so this module imports no estimator and
 * any module (SGD, model selection) can add its own.
 */

import { TesseraError } from "../errors.js";

export const FORMAT = "tessera-ml";
export const VERSION = 1;

export interface EstimatorJSON {
  format: typeof FORMAT;
  version: typeof VERSION;
  estimator: string;
  params: Record<string, unknown>;
  fitted: Record<string, unknown> | null;
}

/** Rebuilds an estimator from its (already checked) JSON. */
export type FromJSON = (json: EstimatorJSON) => unknown;

const registry = new Map<string, FromJSON>();

/** Make `fromJSON` know an estimator class by the name its toJSON writes. */
export function registerEstimator(name: string, fromJSON: FromJSON): void {
  if (typeof name !== "string" || name === "") throw new TesseraError(`registerEstimator: name must be a non-empty string, got ${JSON.stringify(name)}`);
  if (typeof fromJSON !== "function") throw new TesseraError(`registerEstimator: fromJSON for ${name} must be a function`);
  registry.set(name, fromJSON);
}

/** The names fromJSON knows. */
export function registeredEstimators(): string[] {
  return [...registry.keys()].sort();
}

/** An estimator's JSON, with its params and fitted state already encoded. */
export function estimatorJSON(estimator: string, params: Record<string, unknown>, fitted: Record<string, unknown> | null): EstimatorJSON {
  return { format: FORMAT, version: VERSION, estimator, params, fitted };
}

/** Rebuild a fitted (or unfitted) estimator from toJSON()'s object or its JSON text. */
export function fromJSON(json: unknown): unknown {
  let obj = json;
  if (typeof json === "string") {
    try {
      obj = JSON.parse(json);
    } catch (err) {
      throw new TesseraError(`ml.fromJSON: the text is not valid JSON (${(err as Error).message})`, { cause: err });
    }
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new TesseraError(`ml.fromJSON: expected an object made by an estimator's toJSON(), got ${obj === null ? "null" : Array.isArray(obj) ? "an array" : typeof obj}`);
  const o = obj as Record<string, unknown>;
  if (o.format !== FORMAT) throw new TesseraError(`ml.fromJSON: format must be ${JSON.stringify(FORMAT)}, got ${JSON.stringify(o.format)}; this is not a tessera model`);
  if (o.version !== VERSION) throw new TesseraError(`ml.fromJSON: version ${JSON.stringify(o.version)} is not supported; this tessera reads version ${VERSION}`);
  if (typeof o.estimator !== "string") throw new TesseraError(`ml.fromJSON: "estimator" must be a class name, got ${JSON.stringify(o.estimator)}`);
  const make = registry.get(o.estimator);
  if (!make) throw new TesseraError(`ml.fromJSON: unknown estimator ${JSON.stringify(o.estimator)}; known: ${registeredEstimators().join(", ")}`);
  if (o.params === null || typeof o.params !== "object" || Array.isArray(o.params)) throw new TesseraError(`ml.fromJSON: ${o.estimator}: "params" must be an object`);
  if (!("fitted" in o) || (o.fitted !== null && (typeof o.fitted !== "object" || Array.isArray(o.fitted)))) {
    throw new TesseraError(`ml.fromJSON: ${o.estimator}: "fitted" must be an object, or null for an unfitted estimator`);
  }
  return make(o as unknown as EstimatorJSON);
}

// ---- numbers ------------------------------------------------------------------------------

export type JsonNumber = number | "NaN" | "Infinity" | "-Infinity";

export function encodeNumber(x: number): JsonNumber {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
}

export function encodeNumbers(a: ArrayLike<number>): JsonNumber[] {
  return Array.from(a, encodeNumber);
}

/** Reads one estimator's `fitted` (or params) object, naming the estimator and field in errors. */
export class Fields {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly what: string,
  ) {}

  has(name: string): boolean {
    return Object.hasOwn(this.obj, name) && this.obj[name] !== undefined;
  }

  raw(name: string): unknown {
    if (!this.has(name)) throw new TesseraError(`ml.fromJSON: ${this.what} lacks the field ${JSON.stringify(name)}`);
    return this.obj[name];
  }

  private bad(name: string, expected: string): TesseraError {
    const v = JSON.stringify(this.obj[name]);
    return new TesseraError(`ml.fromJSON: ${this.what}.${name} must be ${expected}, got ${v && v.length > 60 ? v.slice(0, 60) + "..." : v}`);
  }

  number(name: string): number {
    const v = decodeNumber(this.raw(name));
    if (v === undefined) throw this.bad(name, "a number");
    return v;
  }

  int(name: string): number {
    const v = this.number(name);
    if (!Number.isInteger(v) || v < 0) throw this.bad(name, "a non-negative integer");
    return v;
  }

  bool(name: string): boolean {
    const v = this.raw(name);
    if (typeof v !== "boolean") throw this.bad(name, "true or false");
    return v;
  }

  f64(name: string, length?: number): Float64Array {
    const v = this.raw(name);
    if (!Array.isArray(v)) throw this.bad(name, "an array of numbers");
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = decodeNumber(v[i]);
      if (x === undefined) throw this.bad(name, "an array of numbers");
      out[i] = x;
    }
    if (length !== undefined && out.length !== length) throw new TesseraError(`ml.fromJSON: ${this.what}.${name} must have ${length} values, got ${out.length}`);
    return out;
  }

  /** f64, or null when the field is null. */
  f64OrNull(name: string, length?: number): Float64Array | null {
    return this.raw(name) === null ? null : this.f64(name, length);
  }

  strings(name: string): string[] | null {
    const v = this.raw(name);
    if (v === null) return null;
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) throw this.bad(name, "an array of strings or null");
    return [...v];
  }

  array(name: string): unknown[] {
    const v = this.raw(name);
    if (!Array.isArray(v)) throw this.bad(name, "an array");
    return v;
  }
}

export function decodeNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return undefined;
}

/** The fitted fields of a JSON model (null: not fitted) with the reader for them. */
export function fittedFields(json: EstimatorJSON): Fields | null {
  return json.fitted === null ? null : new Fields(json.fitted, `${json.estimator}.fitted`);
}

/** Params as constructor options: JSON's encoded numbers decoded (one level deep, and in arrays). */
export function decodeParams(params: Record<string, unknown>): Record<string, unknown> {
  const dec = (v: unknown): unknown => (typeof v === "string" && decodeNumber(v) !== undefined ? decodeNumber(v) : Array.isArray(v) ? v.map(dec) : v);
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, dec(v)]));
}
