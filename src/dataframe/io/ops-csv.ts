/**
 * The CSV reader's worker op: `dataframe.readCsv(part, columns)` parses one partition (a byte
 * range of one file, as resolveCsv planned it) into a Frame holding `columns` (null: all).
 */

import { registerOp, type TaskContext } from "../../worker/registry.js";
import { readCsvPart, type CsvPart } from "./csv.js";

registerOp("dataframe.readCsv", function (this: TaskContext, part: CsvPart, columns: string[] | null) {
  return readCsvPart(part, columns);
});
