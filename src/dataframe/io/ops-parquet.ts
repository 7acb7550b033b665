/**
 * The Parquet reader's worker op: `dataframe.readParquet(part, columns, filters)` reads one
 * partition (row groups of one file, as resolveParquet planned them) into a Frame holding
 * `columns` (null: the dataset's columns), keeping the rows `filters` match (null: all). It
 * stops between pages when the task is cancelled.
 */

import { registerOp, type TaskContext } from "../../worker/registry.js";
import type { Filters } from "./filters.js";
import type { ParquetPart } from "./parquet.js";
import { readParquetPart } from "./parquet-read.js";

registerOp("dataframe.readParquet", function (this: TaskContext | undefined, part: ParquetPart, columns: string[] | null, filters: Filters | null) {
  return readParquetPart(part, columns ?? null, filters ?? null, this?.signal);
});
