/**
 * Summaries of whole columns (pandas' describe, value_counts, nunique, unique). Each is one
 * graph: a partial per partition, a combine tree that keeps partition order, the answer on the
 * client (reduce.ts), except valueCounts, which stays lazy (a groupby size plus a sort).
 *
 * One file each: describe.ts (with quantile-sketch.ts, its approximate percentiles), nunique.ts,
 * unique.ts, value-counts.ts. Importing this module registers their ops.
 */

export { describe, type DescribeOptions } from "./describe.js";
export { mergeSketches, sketchQuantile, sketchSorted, type QuantileSketch } from "./quantile-sketch.js";
export { nunique } from "./nunique.js";
export { unique } from "./unique.js";
export { valueCounts, type ValueCountsOptions } from "./value-counts.js";
