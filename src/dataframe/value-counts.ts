/**
 * pandas' value_counts, lazily: a groupby size into one partition, then a task that renames,
 * normalizes and sorts the counts. It is planned when a computation starts, because the
 * groupby needs its source's schema.
 */

import { PREPARE } from "../client/collection.js";
import { TesseraError } from "../errors.js";
import { MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { opSpec } from "../graph/spec.js";
import { withKernels } from "../kernels/instance.js";
import { registerOp } from "../worker/registry.js";
import { DataFrame } from "./dataframe.js";
import { asFrame, column, concatFrames, makeFrame, takeRows, type Column, type ColumnMeta, type Schema } from "./frame.js";
import { PlannedInput, type Plan } from "./input.js";
import { argsortFrame } from "./kernels/index.js";
import { deriveSchema } from "./steps.js";
import { checkColumn, checkHashable } from "./summary-checks.js";

export interface ValueCountsOptions {
  /** Leave out nulls and NaN (default true); otherwise they are counted as one value. */
  dropna?: boolean;
  /** Order by count (default true); false keeps the order of first appearance. */
  sort?: boolean;
  /** Smallest counts first (default false). Equal counts are ordered by value, ascending, either way. */
  ascending?: boolean;
  /** A `proportion` column (count / total counted) instead of `count` (default false). */
  normalize?: boolean;
}

/** An input planned when a computation starts (the groupby under it needs its source's schema). */
class ValueCountsInput extends PlannedInput {
  protected readonly verb = "valueCounts";
  constructor(
    private readonly df: DataFrame,
    private readonly name: string,
    private readonly options: Required<ValueCountsOptions>,
  ) {
    super();
  }

  protected async plan(): Promise<Plan> {
    await this.df[PREPARE]();
    const m = checkValueColumn(await this.df.schema(), this.name);
    const { dropna, sort, ascending, normalize } = this.options;
    // One output partition: the counts are sorted as a whole anyway, and a tree needs no
    // look at the partials first (groupby's "auto").
    const counted = this.df.groupby(this.name, { dropna, sort: false, splitOut: 1 }).agg({ [this.name]: ["size"] });
    await counted[PREPARE]();
    await counted.schema();
    const low = counted.lowered();
    const out = normalize ? "proportion" : "count";
    const spec = { column: this.name, size: `${this.name}_size`, out, sort, ascending };
    const name = `value-counts-${tokenize(low.name, spec)}`;
    const refs = Array.from({ length: low.npartitions }, (_, i) => new TaskRef(blockKey(low.name, [i])));
    const node = new Task(blockKey(name, [0]), "dataframe.value-counts-finish", [opSpec(spec), ...refs]);
    return {
      graph: low.graph.withLayer(new MaterializedLayer(name, [node], [low.name])),
      name,
      count: 1,
      schema: { names: [this.name, out], types: [{ ...m }, { type: normalize ? "float64" : "int64" }] },
      external: low.external,
    };
  }

  token(): string {
    return tokenize("value-counts", this.df.input.token(), this.df.steps, this.name, this.options);
  }
}

function checkValueColumn(schema: Schema, name: string): ColumnMeta {
  const m = checkColumn(schema, name, "valueCounts");
  checkHashable(name, m, "valueCounts");
  return m;
}

/** pandas' value_counts: `<column>` and `count` (or `proportion`), one row per distinct value. */
export function valueCounts(df: DataFrame, name: string, options: ValueCountsOptions = {}): DataFrame {
  if (typeof name !== "string") throw new TesseraError("valueCounts: name one column");
  const o: Required<ValueCountsOptions> = { dropna: options.dropna ?? true, sort: options.sort ?? true, ascending: options.ascending ?? false, normalize: options.normalize ?? false };
  const out = o.normalize ? "proportion" : "count";
  if (name === out) throw new TesseraError(`valueCounts: column ${JSON.stringify(name)} has the name of the result column ${JSON.stringify(out)}; rename it first`);
  if (df.input.prepared) checkValueColumn(deriveSchema(df.input.schema(), df.steps), name); // fail early where we can
  return new DataFrame(new ValueCountsInput(df, name, o));
}

registerOp("dataframe.value-counts-finish", (spec: { column: string; size: string; out: string; sort: boolean; ascending: boolean }, ...parts: unknown[]) => {
  const f = parts.length === 1 ? asFrame(parts[0], "valueCounts") : concatFrames(parts.map((p, i) => asFrame(p, `valueCounts partition ${i}`)));
  const sizes = column(f, spec.size, "valueCounts").data as BigInt64Array;
  let counts: Column = { type: "int64", data: sizes };
  if (spec.out === "proportion") {
    let total = 0;
    for (const s of sizes) total += Number(s);
    counts = { type: "float64", data: Float64Array.from(sizes, (s) => Number(s) / total) };
  }
  const frame = makeFrame([spec.column, spec.out], [column(f, spec.column, "valueCounts"), counts], f.length);
  if (!spec.sort || frame.length < 2) return frame;
  return withKernels((k) => takeRows(frame, argsortFrame(k, frame, [{ column: spec.out, ascending: spec.ascending }, { column: spec.column }])));
});
