/**
 * Partition-level compute kernels of the dataframe: pure functions of Frames (and a Kernels
 * instance, whose wasm memory they stream the columns through). The DataFrame collection builds
 * its groupby, merge, sort and shuffle tasks from these.
 *
 *   groupby.ts    groupbyPartial, combineGroupbyPartials   hash aggregate -> partial states
 *   finalize.ts   finalizeGroupby                          partial -> `<column>_<agg>` columns
 *   partition.ts  hashPartition, splitByPartition          hash shuffles
 *   sort.ts       argsortFrame, sampleQuantiles, rangePartition
 *   join.ts       hashJoin                                 row index pairs of a merge
 */

export { groupbyPartial, combineGroupbyPartials, type GroupbyOptions } from "./groupby.js";
export { finalizeGroupby, type FinalizeOptions } from "./finalize.js";
export { type AggName, type GroupbyAggs, AGG_NAMES } from "./spec.js";
export { hashPartition, splitByPartition } from "./partition.js";
export { argsortFrame, sampleQuantiles, rangePartition, type SortKey, type ScalarValue } from "./sort.js";
export { hashJoin, type JoinHow, type JoinRows } from "./join.js";
export { takeColumn } from "./columns.js";
