/**
 * readParquet, client side: a dataset of Parquet files resolved into partitions.
 *
 * `resolveParquet(source, options)` lists the files (source.ts), reads each footer once
 * (parquet-footer.ts), checks that the files agree on the columns read, skips row groups whose
 * statistics prove the filters match no row (filters.ts), and cuts the rest into parts:
 *
 *   splitRowGroups: true (default)   one row group per partition
 *   splitRowGroups: n                n consecutive (kept) row groups per partition
 *   splitRowGroups: false            one partition per file
 *
 * A part (ParquetPart) is plain data: where the file is (a SourceRef), which row groups, how
 * many rows, and the bit of the footer needed to decode them, so the worker op
 * ("dataframe.readParquet", parquet-read.ts) reads only those bytes and no footer. A dataset
 * whose row groups are all empty or pruned still has one (empty) part, so it has a schema and
 * a partition to compute on.
 */

import type { FileMetaData, SchemaElement } from "hyparquet";
import { TesseraError } from "../../errors.js";
import type { ColumnMeta, Schema, TimeUnit } from "../frame.js";
import { filterColumns, mayMatch, normalizeFilters, type ColumnStats, type Dnf, type FilterColumn, type Filters } from "./filters.js";
import { partRowGroup, readFooter, rowGroupRows, type PartFooter, type PartRowGroup } from "./parquet-footer.js";
import { describeNames, planFields, pruneSchema, type FieldPlan, type PlanOptions } from "./parquet-schema.js";
import { openSource, resolveSources, sourceName, sourceSize, type SourceInput, type SourceRef } from "./source.js";

export type { Filters, FilterOp, FilterScalar, FilterTerm } from "./filters.js";
export type { SourceInput, SourceItem, SourceRef, AsyncBufferLike } from "./source.js";
export type { ColumnMeta } from "../frame.js";

export const WHAT = "readParquet";

export interface ReadParquetOptions {
  /** Columns to read, in this order (default: all, in file order). */
  columns?: readonly string[] | null;
  /** Row filters (DNF, as in dask / pyarrow): prune row groups by statistics, then rows. */
  filters?: Filters | null;
  /** Row groups per partition: true = 1 (default), n, or false = a whole file. */
  splitRowGroups?: boolean | number;
  /** Read BYTE_ARRAY columns without a string annotation as strings, not binary (old Impala / Hive files). */
  binaryAsString?: boolean;
  /**
   * Unit of INT96 timestamps (Impala, Spark): "ns" (default) covers the years 1677 to 2262; a value
   * outside them is an error, and "us" / "ms" / "s" read it (pyarrow's coerce_int96_timestamp_unit).
   */
  int96Unit?: TimeUnit;
  /** Stops reading footers (checked before each file). */
  signal?: AbortSignal;
}

/** One partition: plain data, a task argument. */
export interface ParquetPart {
  source: SourceRef;
  /** The file, for messages. */
  file: string;
  /** Row groups read, by index in the file. */
  rowGroups: number[];
  /** Their rows (before row filters). */
  rows: number;
  /** The dataset's columns: what the op returns when asked for `null` columns. */
  columns: string[];
  /** The schema and chunk locations of the columns this part can read (dataset columns and filter columns). */
  footer: PartFooter;
  binaryAsString: boolean;
  int96Unit: TimeUnit;
}

export interface ParquetDataset {
  schema: Schema;
  parts: ParquetPart[];
  /** Rows per part, before row filters. */
  rows: number[];
}

const FOOTER_CONCURRENCY = 8;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function groupSize(split: ReadParquetOptions["splitRowGroups"]): number {
  if (split === undefined || split === true) return 1;
  if (split === false) return Infinity;
  if (typeof split === "number" && Number.isInteger(split) && split >= 1) return split;
  throw new TesseraError(`${WHAT}: splitRowGroups must be true, false or a whole number of row groups per partition (>= 1), got ${String(split)}`);
}

function sameMeta(a: ColumnMeta, b: ColumnMeta): boolean {
  return a.type === b.type && a.unit === b.unit && a.tz === b.tz;
}

function describeMeta(m: ColumnMeta): string {
  return m.type === "timestamp" ? `timestamp[${m.unit}${m.tz ? `, ${m.tz}` : ""}]` : m.type;
}

interface FileInfo {
  ref: SourceRef;
  name: string;
  meta: FileMetaData;
  plans: FieldPlan[];
}

async function readFile(ref: SourceRef, options: PlanOptions): Promise<FileInfo> {
  const src = await openSource(ref, WHAT);
  const name = sourceName(ref);
  try {
    const meta = await readFooter(src, WHAT);
    let plans: FieldPlan[];
    try {
      plans = planFields(meta.schema, options);
    } catch (err) {
      throw new TesseraError(`${WHAT}: ${name}: ${(err as Error).message}`, { cause: err });
    }
    const seen = new Set<string>();
    for (const p of plans) {
      if (seen.has(p.name)) throw new TesseraError(`${WHAT}: ${name}: the file has two columns named ${JSON.stringify(p.name)}`);
      seen.add(p.name);
    }
    return { ref, name, meta, plans };
  } finally {
    await src.close();
  }
}

const NUMERIC_PHYSICAL = new Set(["BOOLEAN", "INT32", "INT64", "FLOAT", "DOUBLE"]);
const strict = new TextDecoder("utf-8", { fatal: true });

/** A statistic as a comparable value, or undefined when it cannot be trusted. */
function statValue(v: unknown, f: FieldPlan): number | bigint | string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return Number.isNaN(v) ? undefined : v;
  if (typeof v === "bigint" || typeof v === "string") return v;
  if (v instanceof Uint8Array && (f.kind === "string" || f.kind === "uuid")) {
    try {
      return strict.decode(v);
    } catch {
      return undefined; // cut inside a character: no bound
    }
  }
  return undefined;
}

function columnStats(meta: FileMetaData, rg: number, f: FieldPlan, rows: number): ColumnStats | undefined {
  if (f.kind === "nested" || f.kind === "int96") return undefined;
  const st = meta.row_groups[rg]!.columns[f.leaf]?.meta_data?.statistics;
  if (!st) return undefined;
  const leaf: SchemaElement = meta.schema[f.element]!;
  // Legacy min/max were written with signed comparison: only trusted for signed numbers.
  const legacy = NUMERIC_PHYSICAL.has(leaf.type ?? "") && !f.meta.type.startsWith("uint");
  const min = statValue(st.min_value ?? (legacy ? st.min : undefined), f);
  const max = statValue(st.max_value ?? (legacy ? st.max : undefined), f);
  const out: ColumnStats = {
    rows,
    exact: st.is_min_value_exact !== false && st.is_max_value_exact !== false,
    float: f.meta.type === "float32" || f.meta.type === "float64",
  };
  if (st.null_count !== undefined) out.nullCount = Number(st.null_count);
  if (min !== undefined && max !== undefined) {
    out.min = min;
    out.max = max;
  }
  return out;
}

function filterColumnMap(plans: readonly FieldPlan[]): Map<string, FilterColumn> {
  return new Map(plans.map((p) => [p.name, { meta: p.meta, decimal: p.kind === "decimal" }]));
}

/** Resolve a Parquet dataset: its schema and one part per partition. */
export async function resolveParquet(source: SourceInput, options: ReadParquetOptions = {}): Promise<ParquetDataset> {
  const perPart = groupSize(options.splitRowGroups);
  const binaryAsString = options.binaryAsString ?? false;
  const int96Unit = options.int96Unit ?? "ns";
  if (!["s", "ms", "us", "ns"].includes(int96Unit)) throw new TesseraError(`${WHAT}: int96Unit must be "s", "ms", "us" or "ns", got ${JSON.stringify(int96Unit)}`);
  if (options.columns && new Set(options.columns).size !== options.columns.length) {
    throw new TesseraError(`${WHAT}: columns ${JSON.stringify(options.columns)} name a column twice`);
  }
  const refs = await resolveSources(source, WHAT);
  const files = await mapLimit(refs, FOOTER_CONCURRENCY, (ref) => {
    options.signal?.throwIfAborted();
    return readFile(ref, { binaryAsString, int96Unit });
  });
  const first = files[0]!;
  const columns = options.columns ? [...options.columns] : first.plans.map((p) => p.name);
  const wanted = [...new Set([...columns, ...filterColumns(options.filters)])];
  const types = new Map<string, ColumnMeta>();
  const parts: ParquetPart[] = [];
  let fallback: ParquetPart | undefined;

  for (const file of files) {
    const byName = new Map(file.plans.map((p) => [p.name, p]));
    const describe = () => `${file.name} has columns ${describeNames(file.plans.map((p) => p.name))}`;
    for (const c of columns) {
      const p = byName.get(c);
      if (!p) throw new TesseraError(`${WHAT}: no column ${JSON.stringify(c)} in ${file.name}; its columns are ${describeNames(file.plans.map((q) => q.name))}`);
      const known = types.get(c);
      if (!known) types.set(c, p.meta);
      else if (!sameMeta(known, p.meta)) {
        throw new TesseraError(`${WHAT}: column ${JSON.stringify(c)} is ${describeMeta(known)} in ${first.name} but ${describeMeta(p.meta)} in ${file.name}; the files must agree on the columns read`);
      }
    }
    let dnf: Dnf = [];
    try {
      if (options.filters) dnf = normalizeFilters(options.filters, filterColumnMap(file.plans), describe);
    } catch (err) {
      throw new TesseraError(`${WHAT}: ${(err as Error).message}`, { cause: err });
    }
    const fields = file.plans.filter((p) => wanted.includes(p.name));
    const schema = pruneSchema(file.meta.schema, fields);
    const rowCounts = rowGroupRows(file.meta, file.name, WHAT);
    const kept: PartRowGroup[] = [];
    for (let rg = 0; rg < rowCounts.length; rg++) {
      const rows = rowCounts[rg]!;
      if (rows === 0) continue;
      if (dnf.length && !mayMatch(dnf, (name) => columnStats(file.meta, rg, byName.get(name)!, rows))) continue;
      kept.push(partRowGroup(file.meta, fields, rg, rows, sourceSize(file.ref), file.name, WHAT));
    }
    const make = (groups: PartRowGroup[]): ParquetPart => ({
      source: file.ref,
      file: file.name,
      rowGroups: groups.map((g) => g.index),
      rows: groups.reduce((s, g) => s + g.rows, 0),
      columns,
      footer: { schema, rowGroups: groups },
      binaryAsString,
      int96Unit,
    });
    fallback ??= make([]);
    const size = Math.min(perPart, Math.max(kept.length, 1));
    for (let i = 0; i < kept.length; i += size) parts.push(make(kept.slice(i, i + size)));
  }
  if (parts.length === 0) parts.push(fallback!);
  return {
    schema: { names: columns, types: columns.map((c) => ({ ...types.get(c)! })) },
    parts,
    rows: parts.map((p) => p.rows),
  };
}
