/** Parsing cluster options: byte sizes like "2GB", worker counts, memory thresholds. */

import { TesseraError } from "../errors.js";
import { DEFAULT_THRESHOLDS, type MemoryOptions } from "../worker/memory-types.js";

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  k: 1e3,
  m: 1e6,
  g: 1e9,
};

/** Bytes from a number or a string such as "512MB", "2 GiB", "1.5gb". */
export function parseBytes(v: number | string, what = "memoryLimit"): number {
  if (typeof v === "number") {
    if (!Number.isFinite(v) || v <= 0) throw new TesseraError(`${what} must be a positive number of bytes, got ${v}`);
    return Math.floor(v);
  }
  const m = /^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$/.exec(v);
  const unit = m ? (m[2] || "b").toLowerCase() : "";
  if (!m || !(unit in UNITS)) throw new TesseraError(`${what}: cannot parse ${JSON.stringify(v)} (expected e.g. 536870912, "512MB" or "2GiB")`);
  const n = Number(m[1]) * UNITS[unit]!;
  if (!(n > 0)) throw new TesseraError(`${what} must be positive, got ${JSON.stringify(v)}`);
  return Math.floor(n);
}

export function checkWorkers(n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 1024) {
    throw new TesseraError(`workers must be an integer from 1 to 1024, got ${String(n)}`);
  }
  return n;
}

const THRESHOLDS = ["target", "spill", "pause", "terminate"] as const;

/**
 * Memory thresholds, as fractions of the memory limit: Dask's defaults, overridden by `given`
 * (`false` turns one off). Each is a number in (0, 1]; those set must rise in the order
 * target <= spill <= pause <= terminate. `spillCompression` (a boolean) passes through.
 */
export function parseThresholds(given: Partial<MemoryOptions> | undefined, what = "memory"): MemoryOptions {
  if (given === undefined) return { ...DEFAULT_THRESHOLDS };
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    throw new TesseraError(`${what} must be an object such as { target: 0.6, spill: 0.7, pause: 0.8, terminate: 0.95 }, got ${JSON.stringify(given)}`);
  }
  for (const k of Object.keys(given)) {
    if (!(THRESHOLDS as readonly string[]).includes(k) && k !== "spillCompression") {
      throw new TesseraError(`${what}.${k} is not a memory threshold; the thresholds are ${THRESHOLDS.join(", ")} (and spillCompression)`);
    }
  }
  const out: MemoryOptions = { ...DEFAULT_THRESHOLDS };
  if (given.spillCompression !== undefined) {
    if (typeof given.spillCompression !== "boolean") throw new TesseraError(`${what}.spillCompression must be true or false, got ${JSON.stringify(given.spillCompression)}`);
    out.spillCompression = given.spillCompression;
  }
  for (const k of THRESHOLDS) {
    const v = given[k];
    if (v === undefined) continue;
    if (v !== false && (typeof v !== "number" || !(v > 0 && v <= 1))) {
      throw new TesseraError(`${what}.${k} must be a fraction of memoryLimit in (0, 1], or false to turn it off; got ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  let prev: (typeof THRESHOLDS)[number] | undefined;
  for (const k of THRESHOLDS) {
    const v = out[k];
    if (v === false) continue;
    if (prev !== undefined && (out[prev] as number) > v) {
      throw new TesseraError(`${what}.${prev} (${out[prev]}) must not be above ${what}.${k} (${v}): thresholds rise as target <= spill <= pause <= terminate`);
    }
    prev = k;
  }
  return out;
}
