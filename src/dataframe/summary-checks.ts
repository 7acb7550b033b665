/** Checks of the columns a summary names, against the schema, before any graph is built. */

import { TesseraError } from "../errors.js";
import type { ColumnMeta, Schema } from "./frame.js";

export function checkColumn(schema: Schema, name: string, what: string): ColumnMeta {
  const i = schema.names.indexOf(name);
  if (i < 0) throw new TesseraError(`${what}: no column ${JSON.stringify(name)}; columns are ${schema.names.map((n) => JSON.stringify(n)).join(", ")}`);
  return schema.types[i]!;
}

/** Reject object columns (lists, structs, decimals): their values have no identity to count. */
export function checkHashable(name: string, m: ColumnMeta, what: string): void {
  if (m.type === "object") throw new TesseraError(`${what}: column ${JSON.stringify(name)} is an object column (lists, structs, decimals); its values cannot be compared`);
}
