/**
 * One fixed dataframe pipeline over a Parquet source, run unchanged in three places: the browser
 * page (web/dataframe/main.ts) on a 2-worker LocalCluster of Web Workers, once with the file by
 * http URL (range requests) and once with the same file as a File from an <input type=file>; and
 * Node (test/e2e/dataframe.test.ts) on a 2-worker LocalCluster of worker_threads, by path. The
 * test requires all three to give the same results, cell for cell.
 *
 *   readParquet(source)                                  a row group per partition
 *     .select("key", "x", "n", "w")
 *     .filter((x > -0.5) & (n % 4 != 0) & (key != "zeta"))
 *     .assign({ y: x * n + w, big: x > 0.5 })             w has nulls, so y does
 *     .groupby("key").agg({ x: [sum, mean, count], y: [sum, mean, count], n: sum, big: sum })
 *   and len() before and after the filter, head(6) of the filtered rows.
 *
 * Only key, x, n and w are read: the file's other columns (payload) are never fetched by URL.
 * (The select matters for len(): it reads every column its steps output, not only the ones the
 * filter needs; groupby and head project by themselves.)
 *
 * It imports only "tessera", so the page gets the browser build and Node the Node build. Results
 * are plain data: every cell as an exact string (a float64 as JavaScript's shortest round-trip
 * form, so equal strings mean equal bits, -0 and NaN included; an int64 with an "n").
 */

import { dataframe as dd } from "tessera";

type ParquetSource = Parameters<typeof dd.readParquet>[0];

/** The columns the pipeline reads; the test's file has others that must not be read. */
export const USED_COLUMNS = ["key", "x", "n", "w"] as const;

/** How the pipeline reads, for the page's caption. */
export const PIPELINE_TEXT = [
  "readParquet(source)",
  '.select("key", "x", "n", "w")',
  '.filter(col("x").gt(-0.5).and(col("n").mod(4).ne(0)).and(col("key").ne("zeta")))',
  '.assign({ y: col("x").mul(col("n")).add(col("w")), big: col("x").gt(0.5) })',
  '.groupby("key").agg({ x: ["sum", "mean", "count"], y: ["sum", "mean", "count"], n: "sum", big: "sum" })',
].join("\n  ");

export interface TableOut {
  names: string[];
  /** Arrow type of each column, as text (e.g. "Float64", "Dictionary<Int32, Utf8>"). */
  types: string[];
  /** Row-major exact cells (see cell()). */
  rows: string[][];
}

export interface PipelineResult {
  npartitions: number;
  /** len() of the file: from the metadata. */
  rows: number;
  /** len() after filter and assign. */
  kept: number;
  grouped: TableOut;
  head: TableOut;
}

/** One source's run, as the page publishes it. */
export interface PassReport {
  /** "url" or "file". */
  kind: string;
  /** The URL, or the File's name and size. */
  source: string;
  ms: number;
  result?: PipelineResult;
  error?: string;
}

/** What the page publishes on `window.__tesseraDataframe` for the test. */
export interface DataframePageReport {
  /** The cluster started (url pass may follow). */
  ready: boolean;
  crossOriginIsolated: boolean;
  workers: number;
  url?: PassReport;
  file?: PassReport;
  /** True once the page is finished (both passes run, the cluster closed), or gave up. */
  done: boolean;
  error?: string;
}

declare global {
  interface Window {
    __tesseraDataframe?: DataframePageReport;
  }
}

/** A cell as an exact string: null, "-0", "NaN", numbers in shortest round-trip form, int64 as `<digits>n`, strings quoted. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return String(v);
  if (v instanceof Date) return `Date(${v.getTime()})`;
  return `?${Object.prototype.toString.call(v)}:${String(v)}`;
}

interface ArrowLike {
  numRows: number;
  schema: { fields: { name: string; type: { toString(): string } }[] };
  getChildAt(i: number): { get(row: number): unknown } | null;
}

export function tableOut(t: ArrowLike): TableOut {
  const fields = t.schema.fields;
  const cols = fields.map((_, j) => t.getChildAt(j)!);
  return {
    names: fields.map((f) => f.name),
    types: fields.map((f) => String(f.type)),
    rows: Array.from({ length: t.numRows }, (_, i) => cols.map((c) => cell(c.get(i)))),
  };
}

/** Run the pipeline on `source` with the current client (the last LocalCluster started). */
export async function runPipeline(source: ParquetSource): Promise<PipelineResult> {
  const { col } = dd;
  const df = dd.readParquet(source);
  // Projected to the columns used: every reader task below fetches only these.
  const kept = df
    .select(...USED_COLUMNS)
    .filter(col("x").gt(-0.5).and(col("n").mod(4).ne(0)).and(col("key").ne("zeta")))
    .assign({ y: col("x").mul(col("n")).add(col("w")), big: col("x").gt(0.5) });
  const grouped = kept.groupby("key").agg({ x: ["sum", "mean", "count"], y: ["sum", "mean", "count"], n: "sum", big: "sum" });
  const npartitions = await df.npartitions();
  const rows = await df.len();
  const keptRows = await kept.len();
  const groups = await grouped.compute();
  const head = await kept.select("key", "x", "n", "w", "y", "big").head(6);
  return { npartitions, rows, kept: keptRows, grouped: tableOut(groups), head: tableOut(head) };
}
