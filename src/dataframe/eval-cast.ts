/** Casting a column to another type (astype, and merge's key alignment). */

import { TesseraError } from "../errors.js";
import { allocColumnData, type Column, type ColumnType } from "./frame.js";

/** Convert a column's type; integer targets check that every value fits. */
export function castColumn(c: Column, to: ColumnType, where: string): Column {
  if (c.type === to) return c;
  const n = c.data.length;
  if (to === "string") {
    const strings = Array.from({ length: n }, (_, i) => (c.valid && !c.valid[i] ? null : String((c.data as unknown[])[i])));
    const dict: string[] = [];
    const index = new Map<string, number>();
    const codes = new Int32Array(n);
    strings.forEach((s, i) => {
      if (s === null) return;
      let k = index.get(s);
      if (k === undefined) index.set(s, (k = dict.push(s) - 1));
      codes[i] = k;
    });
    return c.valid ? { type: "string", data: codes, dictionary: dict, valid: c.valid } : { type: "string", data: codes, dictionary: dict };
  }
  if (c.type === "string" || c.type === "object" || to === "object" || to === "timestamp" || to === "date32") {
    throw new TesseraError(`${where}: cannot cast a ${c.type} column to ${to}`);
  }
  const out = allocColumnData(to, n);
  const src = c.data as ArrayLike<number | bigint>;
  if (to === "int64" || to === "uint64") {
    const o = out as BigInt64Array;
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (typeof v === "bigint") o[i] = v;
      else if (c.valid && !c.valid[i]) o[i] = 0n;
      else if (!Number.isFinite(v) || !Number.isInteger(v)) throw new TesseraError(`${where}: row ${i} holds ${v}, which is not an integer`);
      else o[i] = BigInt(v);
    }
  } else {
    const o = out as Float64Array;
    const [lo, hi] = RANGE[to] ?? [-Infinity, Infinity];
    const integer = to !== "float64" && to !== "float32";
    for (let i = 0; i < n; i++) {
      const v = Number(src[i]!);
      if (integer && !(c.valid && !c.valid[i]) && (!(v >= lo && v <= hi) || (!Number.isInteger(v) && to !== "bool"))) {
        throw new TesseraError(`${where}: row ${i} holds ${src[i]}, which does not fit ${to}${Number.isInteger(v) ? " (overflow)" : ""}`);
      }
      o[i] = to === "bool" ? +(v !== 0) : v;
    }
  }
  return c.valid ? { type: to, data: out, valid: c.valid } : { type: to, data: out };
}

const RANGE: Partial<Record<ColumnType, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 2 ** 32 - 1],
  bool: [-Infinity, Infinity],
};
