/**
 * Partitioned dataframes (dask.dataframe) over Apache Arrow: `import { dataframe as dd } from "tessera"`.
 *
 *   const df = dd.fromArrays({ key: keys, x: values }, { npartitions: 4 });
 *   await df.filter(dd.col("x").gt(0)).len();
 */

export { DataFrame, type DropnaOptions } from "./dataframe.js";
export { col, lit, ColExpr, type ExprLike, type Literal } from "./expr.js";
export { fromArrays, fromFrame, type ColumnInput, type PartitionOptions } from "./create.js";
export type { Column, ColumnMeta, ColumnType, Frame, Schema, TimeUnit } from "./frame.js";
export { concat, repartition, mapPartitions, type MapPartitionsOptions, type RepartitionOptions } from "./partitions.js";
export { readParquet, readCsv, fromArrow } from "./read.js";
export { GroupBy, type GroupbyOptions, type AggOptions, type AggSpec } from "./groupby.js";
export type { AggName } from "./kernels/index.js";
export type { ReadParquetOptions, Filters, FilterOp, FilterScalar, FilterTerm, AsyncBufferLike } from "./io/parquet.js";
export type { ReadCsvOptions, DtypeSpec } from "./io/csv.js";
export type { CsvWriteOptions, ParquetWriteOptions } from "./io/writers.js";
// merge.ts
export { merge, join, BROADCAST_ROWS, type MergeOptions, type JoinOptions, type MergeHow } from "./merge.js";
// sort-values.ts, dummies.ts
export { sortValues, setIndex, type SortValuesOptions, type SetIndexOptions, type Divisions } from "./sort-values.js";
export { categorize, getDummies, type GetDummiesOptions, type DummyType, type Categories } from "./dummies.js";
export type { ScalarValue } from "./kernels/index.js";
// summary.ts
export type { DescribeOptions, ValueCountsOptions } from "./summary.js";
