/** Parsing cluster options: byte sizes like "2GB", worker counts. */

import { TesseraError } from "../errors.js";

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
