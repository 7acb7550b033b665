/**
 * Readers: dataframes whose partitions come from files (readParquet, readCsv) or from Arrow
 * data the client holds (fromArrow). File readers are lazy: the dataframe is returned at once,
 * and the footers / header are read when a computation first needs the schema (PREPARE), so
 * `dd.readParquet(url).filter(...).groupby(...)` builds without I/O, as in Dask.
 */

import type * as arrow from "apache-arrow";
import { TesseraError } from "../errors.js";
import { tokenize } from "../graph/tokenize.js";
import { DataFrame } from "./dataframe.js";
import { concatFrames, schemaOf, type Frame } from "./frame.js";
import { FramesInput, SourceInput, type Reader } from "./input.js";
import { arrowToFrame, ipcToFrames } from "./io/arrow.js";
import { resolveCsv, type CsvPart, type CsvSource, type ReadCsvOptions } from "./io/csv.js";
import { resolveParquet, type ParquetPart, type ReadParquetOptions, type SourceInput as ParquetSource } from "./io/parquet.js";
import { partitionFrame, type PartitionOptions } from "./create.js";

// Blobs and AsyncBuffers have no name that is unique: number each object once.
const objectIds = new WeakMap<object, number>();
let nextObject = 0;

/** A stable description of what a source names, for task keys (equal sources, equal keys). */
function sourceId(source: unknown): unknown {
  if (Array.isArray(source)) return source.map(sourceId);
  if (typeof source === "string") return source;
  if (source instanceof URL) return source.href;
  if (source !== null && typeof source === "object") {
    let id = objectIds.get(source);
    if (id === undefined) objectIds.set(source, (id = ++nextObject));
    const b = source as { name?: unknown; size?: unknown; byteLength?: unknown; lastModified?: unknown };
    return { object: id, name: b.name ?? null, size: b.size ?? b.byteLength ?? null, lastModified: b.lastModified ?? null };
  }
  throw new TesseraError(`expected a path, glob, URL, File, Blob or AsyncBuffer (or a list of them), got ${source === null ? "null" : typeof source}`);
}

/**
 * Parquet files as a dataframe: a row group per partition (or `splitRowGroups` of them), only
 * the columns the computation uses are read, and `filters` prune row groups by their
 * statistics before rows are filtered.
 */
export function readParquet(source: ParquetSource, options: Omit<ReadParquetOptions, "signal"> = {}): DataFrame {
  const opts = { ...options };
  const reader: Reader<ParquetPart> = {
    prefix: "read-parquet",
    op: "dataframe.readParquet",
    id: tokenize("parquet", sourceId(source), opts.columns ?? null, opts.filters ?? null, opts.splitRowGroups ?? true, opts.binaryAsString ?? false, opts.int96Unit ?? "ns"),
    resolve: () => resolveParquet(source, opts),
    extraArgs: () => [opts.filters ?? null],
  };
  return new DataFrame(new SourceInput(reader));
}

/** CSV files as a dataframe, cut into byte ranges of `blocksize` parsed in parallel. */
export function readCsv(source: CsvSource, options: ReadCsvOptions = {}): DataFrame {
  const opts = { ...options };
  const reader: Reader<CsvPart> = {
    prefix: "read-csv",
    op: "dataframe.readCsv",
    id: tokenize("csv", sourceId(source), JSON.stringify(opts)),
    resolve: () => resolveCsv(source, opts),
    extraArgs: () => [],
  };
  return new DataFrame(new SourceInput(reader));
}

/**
 * An Arrow Table, RecordBatch or IPC bytes (stream or file) as a dataframe. Without options a
 * table keeps its record batches as partitions; `chunksize` / `npartitions` re-cut it.
 */
export function fromArrow(source: arrow.Table | arrow.RecordBatch | Uint8Array | ArrayBuffer, options?: PartitionOptions): DataFrame {
  let frames = source instanceof Uint8Array || source instanceof ArrayBuffer ? ipcToFrames(source) : batchesOf(source);
  if (options && (options.chunksize !== undefined || options.npartitions !== undefined)) {
    frames = partitionFrame(frames.length === 1 ? frames[0]! : concatFrames(frames), options);
  }
  return new DataFrame(new FramesInput(frames, schemaOf(frames[0]!), tokenize(frames)));
}

function batchesOf(source: arrow.Table | arrow.RecordBatch): Frame[] {
  const batches = (source as arrow.Table).batches;
  if (Array.isArray(batches) && batches.length > 1) return batches.map((b) => arrowToFrame(b));
  return [arrowToFrame(source)];
}
