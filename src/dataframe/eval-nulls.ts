/**
 * Nulls (SQL/Arrow rules: any null operand gives null) where they are not simply carried along:
 * the null tests, Kleene `and`/`or` (null & false is false), and filling them in.
 */

import { TesseraError } from "../errors.js";
import { missingMask, type Column, type ColumnData } from "./frame.js";
import { show, type ExprNode, type Literal } from "./expr.js";
import { col, type Value } from "./eval-value.js";

/** isnull / notnull as a bool column with no nulls (pandas' isna: nulls, and NaN in float columns). */
export function nullTest(op: "isnull" | "notnull", a: Value, n: number): Value {
  const out = new Uint8Array(n);
  if (a.kind === "scalar") {
    const missing = a.value === null || (typeof a.value === "number" && Number.isNaN(a.value));
    out.fill(+(missing === (op === "isnull")));
    return col("bool", out);
  }
  const m = missingMask(a.col);
  if (!m) out.fill(op === "isnull" ? 0 : 1);
  else for (let i = 0; i < n; i++) out[i] = op === "isnull" ? m[i]! : 1 - m[i]!;
  return col("bool", out);
}

export function logic(op: "and" | "or", a: Column, b: Column, e: ExprNode): Value {
  if (a.type !== "bool" || b.type !== "bool") throw new TesseraError(`${show(e)}: & and | need bool operands, got ${a.type} and ${b.type}`);
  const x = a.data as Uint8Array;
  const y = b.data as Uint8Array;
  const n = x.length;
  const out = new Uint8Array(n);
  if (!a.valid && !b.valid) {
    if (op === "and") for (let i = 0; i < n; i++) out[i] = x[i]! & y[i]!;
    else for (let i = 0; i < n; i++) out[i] = x[i]! | y[i]!;
    return col("bool", out);
  }
  // Kleene logic: a known false decides `and`, a known true decides `or`.
  const valid = new Uint8Array(n);
  const va = a.valid;
  const vb = b.valid;
  for (let i = 0; i < n; i++) {
    const ka = va ? va[i]! : 1;
    const kb = vb ? vb[i]! : 1;
    if (op === "and") {
      const f = (ka && !x[i]) || (kb && !y[i]);
      out[i] = f ? 0 : x[i]! & y[i]!;
      valid[i] = f || (ka && kb) ? 1 : 0;
    } else {
      const t = (ka && x[i]) || (kb && y[i]);
      out[i] = t ? 1 : 0;
      valid[i] = t || (ka && kb) ? 1 : 0;
    }
  }
  return col("bool", out, valid);
}

/** Replace missing values (nulls, and NaN in float columns: pandas' fillna) with a value. */
export function fillNull(c: Column, value: Literal, where: string): Column {
  const missing = missingMask(c);
  if (!missing || value === null) return c;
  const n = c.data.length;
  if (c.type === "string") {
    if (typeof value !== "string") throw new TesseraError(`${where}: fill a string column with a string, not ${JSON.stringify(value)}`);
    const dict = [...(c.dictionary ?? [])];
    let code = dict.indexOf(value);
    if (code < 0) code = dict.push(value) - 1;
    const codes = (c.data as Int32Array).slice();
    for (let i = 0; i < n; i++) if (missing[i]) codes[i] = code;
    return { type: "string", data: codes, dictionary: dict };
  }
  const data = (c.data as Float64Array).slice() as unknown as { [i: number]: unknown };
  const fill = c.type === "int64" || c.type === "timestamp" || c.type === "uint64" ? BigInt(value as number) : typeof value === "boolean" ? +value : value;
  if (typeof fill === "string") throw new TesseraError(`${where}: cannot fill a ${c.type} column with a string`);
  for (let i = 0; i < n; i++) if (missing[i]) data[i] = fill;
  const out: Column = { ...c, data: data as ColumnData };
  delete out.valid;
  return out;
}
