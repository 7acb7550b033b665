/** unique: each partition's first appearances, concatenated in partition order and deduplicated again. */

import type { Table } from "apache-arrow";
import { TesseraError } from "../errors.js";
import { registerOp } from "../worker/registry.js";
import type { DataFrame } from "./dataframe.js";
import { asFrame, column, concatFrames, takeRows, type Column, type Frame } from "./frame.js";
import { frameToArrow } from "./io/arrow.js";
import { reducePartitions } from "./reduce.js";
import { checkColumn, checkHashable } from "./summary-checks.js";

const MISSING = Symbol("missing");

/** Rows of c holding a value for the first time (missing values, null or NaN, count as one value). */
function firstAppearances(c: Column): Int32Array {
  const rows: number[] = [];
  const seen = new Set<unknown>();
  const d = c.data as ArrayLike<unknown>;
  const dict = c.dictionary ?? [];
  for (let i = 0; i < d.length; i++) {
    let x: unknown = c.valid && !c.valid[i] ? MISSING : c.type === "string" ? dict[d[i] as number] : d[i];
    if (x !== x) x = MISSING;
    if (seen.has(x)) continue;
    seen.add(x);
    rows.push(i);
  }
  return Int32Array.from(rows);
}

function distinctRows(f: Frame): Frame {
  return takeRows(f, firstAppearances(f.columns[0]!));
}

registerOp("dataframe.unique-partial", (spec: { column: string }, frame: unknown) => {
  const f = asFrame(frame, "unique");
  return distinctRows({ length: f.length, names: [spec.column], columns: [column(f, spec.column, "unique")] });
});

// Partials arrive in partition order, so concatenating keeps the order of first appearance.
registerOp("dataframe.unique-combine", (...parts: unknown[]) => distinctRows(concatFrames(parts.map((p, i) => asFrame(p, `unique partial ${i}`)))));

/**
 * A column's distinct values as a one-column Arrow Table, in order of first appearance (in
 * partition order); a missing value (null, or NaN) is kept once, where it first appears, as pandas.
 */
export async function unique(df: DataFrame, name: string): Promise<Table> {
  if (typeof name !== "string") throw new TesseraError("unique: name one column");
  const schema = await df.schema();
  checkHashable(name, checkColumn(schema, name, "unique"), "unique");
  const f = await reducePartitions<Frame>(df.select(name), "dataframe.unique-partial", { column: name }, "dataframe.unique-combine");
  return frameToArrow(f);
}
