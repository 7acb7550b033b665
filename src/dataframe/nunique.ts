/** nunique: each partition's distinct values, unioned up a combine tree, counted on the client. */

import { TesseraError } from "../errors.js";
import { registerOp } from "../worker/registry.js";
import type { DataFrame } from "./dataframe.js";
import { asFrame, column, type Column } from "./frame.js";
import { reducePartitions } from "./reduce.js";
import { checkColumn, checkHashable } from "./summary-checks.js";

/**
 * A column's distinct non-missing values: strings by value; numbers (NaN left out) and 64-bit
 * integers as sorted typed arrays, so a union is a linear merge, not a Set of boxed numbers.
 */
type Distinct = string[] | Float64Array | BigInt64Array | BigUint64Array;

// The sorted-array helpers read bigint arrays through the Float64Array type: <, === and sort()
// behave alike on both, and the values never mix within one column.
type Sorted = Float64Array;

function dedupeSorted(a: Sorted): Sorted {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (m === 0 || a[i] !== a[m - 1]) a[m++] = a[i]!;
  return a.slice(0, m);
}

function mergeSorted(a: Sorted, b: Sorted): Sorted {
  const out = new (a.constructor as new (n: number) => Sorted)(a.length + b.length);
  let i = 0, j = 0, m = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!, y = b[j]!;
    if (x === y) (out[m++] = x), i++, j++;
    else if (x < y) (out[m++] = x), i++;
    else (out[m++] = y), j++;
  }
  while (i < a.length) out[m++] = a[i++]!;
  while (j < b.length) out[m++] = b[j++]!;
  return out.slice(0, m);
}

function distinctOf(c: Column): Distinct {
  if (c.type === "string") {
    const dict = c.dictionary ?? [];
    const used = new Uint8Array(dict.length);
    const codes = c.data as Int32Array;
    for (let i = 0; i < codes.length; i++) if (!c.valid || c.valid[i]) used[codes[i]!] = 1;
    return [...new Set(dict.filter((_, code) => used[code]))];
  }
  const d = c.data as unknown as Sorted;
  const bigints = c.type === "int64" || c.type === "uint64" || c.type === "timestamp";
  const out = bigints ? d.slice() : new Float64Array(d.length);
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    if (c.valid && !c.valid[i]) continue;
    const x = d[i]!;
    if (x !== x) continue; // NaN is missing, as pandas' isna
    out[m++] = x;
  }
  return dedupeSorted(out.subarray(0, m).sort());
}

function unionDistinct(parts: readonly Distinct[]): Distinct {
  if (Array.isArray(parts[0])) {
    const seen = new Set<string>();
    for (const p of parts as string[][]) for (const s of p) seen.add(s);
    return [...seen];
  }
  // Pairwise, so each value is copied log(parts) times.
  let level = parts as Sorted[];
  while (level.length > 1) {
    const next: Sorted[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? mergeSorted(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0]!;
}

registerOp("dataframe.nunique-partial", (spec: { columns: string[] }, frame: unknown) => {
  const f = asFrame(frame, "nunique");
  return Object.fromEntries(spec.columns.map((name) => [name, distinctOf(column(f, name, "nunique"))]));
});

registerOp("dataframe.nunique-combine", (...parts: Record<string, Distinct>[]) =>
  Object.fromEntries(Object.keys(parts[0]!).map((name) => [name, unionDistinct(parts.map((p) => p[name]!))])),
);

/** Distinct non-null (and non-NaN) values per column (all but object columns by default). */
export async function nunique(df: DataFrame, columns?: readonly string[]): Promise<Record<string, number>> {
  const schema = await df.schema();
  let names: string[];
  if (columns) {
    names = [...columns];
    if (names.length === 0) throw new TesseraError("nunique: name at least one column, or none for all");
    for (const n of names) checkHashable(n, checkColumn(schema, n, "nunique"), "nunique");
  } else {
    names = schema.names.filter((_, i) => schema.types[i]!.type !== "object");
    if (names.length === 0) return {};
  }
  const parts = await reducePartitions<Record<string, Distinct>>(df.select(names), "dataframe.nunique-partial", { columns: names }, "dataframe.nunique-combine");
  return Object.fromEntries(names.map((n) => [n, parts[n]!.length]));
}
