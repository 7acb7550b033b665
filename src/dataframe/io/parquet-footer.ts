/**
 * A Parquet file's footer: read once per file on the client, checked, and cut down to what one
 * partition's worker needs (PartFooter: plain data, no bigints, a few hundred bytes per column
 * chunk), so workers never read a footer again.
 *
 * Reading: the last 64 KiB (or the whole file if smaller), then the rest of the metadata if it is
 * longer. The metadata length must fit in the file; "PARE" (an encrypted footer) and anything
 * that does not end in "PAR1" are refused with the reason. hyparquet parses the Thrift.
 *
 * Checking (only for the columns a dataset reads, so damage elsewhere does not stop a read):
 * each row group has one chunk per leaf, in schema order, whose path and physical type match
 * the schema, whose codec is known, and whose bytes lie inside the file; row counts are sane.
 */

import { parquetMetadata, type ColumnChunk, type FileMetaData, type ParquetParsers, type RowGroup, type SchemaElement } from "hyparquet";
import { deserializeTCompactProtocol } from "hyparquet/src/thrift.js";
import { TesseraError } from "../../errors.js";
import { leafPaths, type FieldPlan } from "./parquet-schema.js";
import type { ByteSource } from "./source.js";

/** One column chunk, as a worker reads it. Offsets are byte positions in the file. */
export interface ChunkRef {
  codec: string;
  /** Values (nulls included; for nested columns, leaf entries) the chunk holds. */
  numValues: number;
  /** Bytes [start, end) of the file: dictionary page (if any) and data pages. */
  start: number;
  end: number;
  uncompressedSize: number;
}

export interface PartRowGroup {
  /** Index of the row group in its file. */
  index: number;
  rows: number;
  /** One per leaf of the part's schema, in leaf order. */
  chunks: ChunkRef[];
}

/** What a worker needs of a file's footer to read one partition. */
export interface PartFooter {
  /** Schema elements of the columns the part can read (root first; see pruneSchema). */
  schema: SchemaElement[];
  rowGroups: PartRowGroup[];
}

const FOOTER_FETCH = 64 * 1024;
const MAX_ROWS = 2 ** 31 - 1;

/** Statistics as raw values: timestamps as integers in their unit, dates as days, byte arrays as bytes. */
const statsParsers: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (v: bigint) => v,
  timestampFromMicroseconds: (v: bigint) => v,
  timestampFromNanoseconds: (v: bigint) => v,
  dateFromDays: (d: number) => d,
  stringFromBytes: (b: Uint8Array) => b,
};

function fail(file: string, what: string, msg: string, cause?: unknown): TesseraError {
  return new TesseraError(`${what}: ${file}: ${msg}`, cause === undefined ? undefined : { cause });
}

/** The file's metadata (schema, row groups, statistics), read from its end. */
export async function readFooter(src: ByteSource, what: string): Promise<FileMetaData> {
  const size = src.byteLength;
  if (size < 12) throw fail(src.name, what, `not a Parquet file: ${size} bytes is too small (a Parquet file starts and ends with "PAR1")`);
  const first = Math.min(size, FOOTER_FETCH);
  let tail = await src.read(size - first, size);
  const magic = String.fromCharCode(...tail.subarray(tail.length - 4));
  if (magic === "PARE") throw fail(src.name, what, "the file is encrypted (footer magic PARE); encrypted Parquet files are not supported");
  if (magic !== "PAR1") throw fail(src.name, what, `not a Parquet file: it ends in ${JSON.stringify(magic)}, not "PAR1"`);
  const length = new DataView(tail.buffer, tail.byteOffset, tail.byteLength).getUint32(tail.length - 8, true);
  if (length + 12 > size) throw fail(src.name, what, `the footer claims ${length} bytes of metadata, more than the file holds (${size} bytes); the file is truncated or corrupt`);
  if (length + 8 > tail.length) {
    const rest = await src.read(size - length - 8, size - first);
    const all = new Uint8Array(length + 8);
    all.set(rest);
    all.set(tail, rest.length);
    tail = all;
  }
  const footer = tail.subarray(tail.length - length - 8);
  try {
    return parquetMetadata(footer.slice().buffer, { parsers: statsParsers, geoparquet: false });
  } catch (err) {
    const reason = diagnose(footer.subarray(0, length)) ?? (err as Error).message;
    throw fail(src.name, what, `cannot parse the footer metadata: ${reason} (the file is corrupt)`, err);
  }
}

const PHYSICAL_TYPES = 8;

/** A clearer reason for a footer hyparquet cannot parse: a schema element with an impossible type. */
function diagnose(metadata: Uint8Array): string | undefined {
  try {
    const raw = deserializeTCompactProtocol({ view: new DataView(metadata.buffer, metadata.byteOffset, metadata.byteLength), offset: 0 });
    const schema = raw.field_2 as { field_1?: number; field_4?: Uint8Array; field_5?: number }[] | undefined;
    if (!Array.isArray(schema)) return "the footer has no schema";
    for (const el of schema) {
      if (el.field_5) continue;
      const type = el.field_1;
      if (type === undefined || type < 0 || type >= PHYSICAL_TYPES) {
        const name = el.field_4 ? new TextDecoder().decode(el.field_4) : "?";
        return `schema column ${JSON.stringify(name)} has an invalid physical type (${type ?? "none"})`;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

const CODECS = new Set(["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"]);

/** A number read from a file, for a message (a corrupt footer can put anything where a number goes). */
export function shown(v: unknown): string {
  return typeof v === "number" || typeof v === "bigint" ? String(v) : v === undefined ? "missing" : `not a number (${Array.isArray(v) ? "a list" : typeof v})`;
}

function toSafe(v: bigint | number | undefined, what: () => string): number {
  const n = typeof v === "bigint" || typeof v === "number" ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new TesseraError(`${what()} is ${shown(v)}, which is not a valid size or offset (the footer is corrupt)`);
  return n;
}

/** Row counts of every row group, checked. */
export function rowGroupRows(meta: FileMetaData, file: string, what: string): number[] {
  return meta.row_groups.map((rg, i) => {
    const rows = typeof rg.num_rows === "bigint" || typeof rg.num_rows === "number" ? Number(rg.num_rows) : NaN;
    if (!Number.isSafeInteger(rows) || rows < 0) throw fail(file, what, `row group ${i}'s row count is ${shown(rg.num_rows)} (the footer is corrupt)`);
    if (rows > MAX_ROWS) throw fail(file, what, `row group ${i} has ${rows} rows, more than one partition can hold (${MAX_ROWS})`);
    return rows;
  });
}

function chunkRef(chunk: ColumnChunk | undefined, leaf: SchemaElement, path: string[], fileSize: number, where: () => string): ChunkRef {
  const md = chunk?.meta_data;
  if (!chunk || !md) throw new TesseraError(`${where()}: the column chunk has no metadata (the footer is corrupt)`);
  if (chunk.file_path) throw new TesseraError(`${where()}: the column chunk lives in another file (${JSON.stringify(chunk.file_path)}); external column chunks are not supported`);
  const got = md.path_in_schema.join(".");
  if (got !== path.join(".")) {
    throw new TesseraError(`${where()}: the column chunk is for ${JSON.stringify(got)} but the schema puts ${JSON.stringify(path.join("."))} here (the footer is corrupt)`);
  }
  if (md.type !== leaf.type) throw new TesseraError(`${where()}: the column chunk holds ${md.type} values but the schema says ${leaf.type} (the footer is corrupt)`);
  if (!CODECS.has(md.codec)) throw new TesseraError(`${where()}: unknown compression codec ${JSON.stringify(md.codec ?? null)} (the footer is corrupt)`);
  const dataOffset = toSafe(md.data_page_offset, () => `${where()}: data_page_offset`);
  const dictOffset = md.dictionary_page_offset === undefined ? 0 : toSafe(md.dictionary_page_offset, () => `${where()}: dictionary_page_offset`);
  // A dictionary page comes first; writers that set its offset to 0 mean "none" (see dict-page-offset-zero).
  const start = dictOffset > 0 && dictOffset < dataOffset ? dictOffset : dataOffset;
  const length = toSafe(md.total_compressed_size, () => `${where()}: total_compressed_size`);
  const end = start + length;
  if (start < 4 || end > fileSize) {
    throw new TesseraError(`${where()}: the column chunk spans bytes ${start}-${end} but the file has ${fileSize} bytes (the file is truncated or the footer corrupt)`);
  }
  const numValues = toSafe(md.num_values, () => `${where()}: num_values`);
  if (numValues > MAX_ROWS) throw new TesseraError(`${where()}: the column chunk claims ${numValues} values, more than can be read (at most ${MAX_ROWS})`);
  return { codec: md.codec, numValues, start, end, uncompressedSize: toSafe(md.total_uncompressed_size, () => `${where()}: total_uncompressed_size`) };
}

/** The chunks of `fields` in one row group, checked (one per leaf, in leaf order). */
export function partRowGroup(
  meta: FileMetaData,
  fields: readonly FieldPlan[],
  index: number,
  rows: number,
  fileSize: number,
  file: string,
  what: string,
): PartRowGroup {
  const rg: RowGroup = meta.row_groups[index]!;
  const chunks: ChunkRef[] = [];
  for (const f of fields) {
    const paths = leafPaths(meta.schema, f);
    const leaves = leafElements(meta.schema, f);
    for (let k = 0; k < f.leaves; k++) {
      const where = () => `${what}: ${file}: row group ${index}, column ${JSON.stringify(f.name)}${f.leaves > 1 ? ` (leaf ${paths[k]!.join(".")})` : ""}`;
      const chunk = chunkRef(rg.columns[f.leaf + k], leaves[k]!, paths[k]!, fileSize, where);
      if (f.kind !== "nested" && chunk.numValues !== rows) {
        throw new TesseraError(`${where()}: the column chunk holds ${chunk.numValues} values but the row group has ${rows} rows (the footer is corrupt)`);
      }
      chunks.push(chunk);
    }
  }
  return { index, rows, chunks };
}

/** The leaf schema elements of a field, in order. */
export function leafElements(schema: readonly SchemaElement[], f: FieldPlan): SchemaElement[] {
  const out: SchemaElement[] = [];
  for (let i = f.element; i < f.element + f.span; i++) if (!(schema[i]!.num_children ?? 0)) out.push(schema[i]!);
  return out;
}
