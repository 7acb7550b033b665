/**
 * Nested columns (structs, lists, maps, repeated fields): one "object" column of plain JS values
 * per top-level field, assembled by hyparquet from the leaf chunks (Dremel levels), then made
 * plain and owned:
 *
 *   struct -> object with the field names     list / repeated field -> array
 *   map    -> Map (keys keep their type)      null -> null
 *   leaves as the flat column kinds give them, with Frame conventions: timestamps are bigints
 *   in their unit, dates numbers of days, decimals numbers, binary Uint8Array copies, strings
 *   (STRING, ENUM, JSON text) strings; VARIANT values as hyparquet decodes them.
 *
 * Maps: hyparquet turns a map into an object keyed by `String(key)`, which loses key types and
 * the order of integer-like keys. So the MAP annotation is taken off before hyparquet sees the
 * schema: the map reads as a struct holding a list of {key, value} entries, which becomes a Map.
 *
 * hyparquet reads from a buffer of this row group's chunks only (fetched and checked by the
 * caller), so its reads stay inside bytes already bounded by the file. Page headers are checked
 * first (sizes inside the chunk, value counts within the chunk's, pages under MAX_PAGE_BYTES
 * uncompressed), and every decompression checks the size and the abort signal.
 */

import { parquetRead, type ColumnData, type FileMetaData, type PageHeader, type ParquetParsers, type SchemaElement } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { TesseraError } from "../../errors.js";
import { leafElements, shown, type ChunkRef } from "./parquet-footer.js";
import { checkPageSize, decompress, guardedCompressors } from "./parquet-pages.js";
import { decodeHybrid } from "./parquet-rle.js";
import { leafPaths, type FieldPlan } from "./parquet-schema.js";

export interface NestedChunks {
  /** The part's schema (as planFields saw it). */
  schema: readonly SchemaElement[];
  field: FieldPlan;
  /** The field's leaf chunks and their bytes, in leaf order. */
  chunks: { ref: ChunkRef; bytes: Uint8Array }[];
  rows: number;
  binaryAsString: boolean;
  where: string;
  signal?: AbortSignal;
}

interface Node {
  el: SchemaElement;
  children: Node[];
  /** Set on a map whose annotation was taken off: the names of its entry group, key and value. */
  map?: { entries: string; key: string; value: string | undefined };
}

const utf8 = new TextDecoder();

const parsers: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (v: bigint) => v,
  timestampFromMicroseconds: (v: bigint) => v,
  timestampFromNanoseconds: (v: bigint) => v,
  dateFromDays: (d: number) => d,
  stringFromBytes: (b: Uint8Array) => b && utf8.decode(b),
  jsonFromBytes: (b: Uint8Array) => b && utf8.decode(b),
  geometryFromBytes: (b: Uint8Array) => b && b.slice(),
  geographyFromBytes: (b: Uint8Array) => b && b.slice(),
};

/** The field's subtree as nodes, maps recognised (entries: one repeated group whose first child is the key). */
function buildTree(schema: readonly SchemaElement[], at: number): { node: Node; next: number } {
  const el = schema[at]!;
  const children: Node[] = [];
  let next = at + 1;
  for (let c = 0; c < (el.num_children ?? 0); c++) {
    const sub = buildTree(schema, next);
    children.push(sub.node);
    next = sub.next;
  }
  const node: Node = { el, children };
  const annotated = el.converted_type === "MAP" || (el.logical_type as { type?: string } | undefined)?.type === "MAP";
  const entries = children[0];
  if (annotated && children.length === 1 && entries!.el.repetition_type === "REPEATED" && entries!.children.length >= 1 && entries!.children.length <= 2) {
    node.map = { entries: entries!.el.name, key: entries!.children[0]!.el.name, value: entries!.children[1]?.el.name };
  }
  return { node, next };
}

/** Schema elements of the tree for hyparquet: maps without their annotation. */
function flatten(node: Node, out: SchemaElement[]): void {
  out.push(node.map ? { ...node.el, converted_type: undefined, logical_type: undefined } : node.el);
  for (const c of node.children) flatten(c, out);
}

/** hyparquet's rule for a list: LIST-annotated, one repeated child with at most one child of its own. */
function listElement(node: Node): Node | undefined {
  if (node.el.converted_type !== "LIST" || node.children.length !== 1) return undefined;
  const child = node.children[0]!;
  if (child.el.repetition_type !== "REPEATED" || child.children.length > 1) return undefined;
  return child.children.length === 1 ? child.children[0] : child;
}

function isStringLeaf(el: SchemaElement, binaryAsString: boolean): boolean {
  const t = (el.logical_type as { type?: string } | undefined)?.type;
  if (t === "STRING" || t === "ENUM" || t === "JSON" || el.converted_type === "UTF8" || el.converted_type === "ENUM" || el.converted_type === "JSON") return true;
  return binaryAsString && el.type === "BYTE_ARRAY" && !el.converted_type && !el.logical_type;
}

/** hyparquet's value at `node` as plain, owned data; `unwrapped` once a repeated node's array is consumed. */
function plain(v: unknown, node: Node, binaryAsString: boolean, unwrapped = false): unknown {
  if (v === undefined || v === null) return null;
  if (node.el.repetition_type === "REPEATED" && !unwrapped && Array.isArray(v)) {
    return v.map((x) => plain(x, node, binaryAsString, true));
  }
  if ((node.el.logical_type as { type?: string } | undefined)?.type === "VARIANT") return v;
  if (node.children.length === 0) {
    if (v instanceof Uint8Array) return isStringLeaf(node.el, binaryAsString) ? utf8.decode(v) : v.slice();
    return v;
  }
  const element = listElement(node);
  if (element && Array.isArray(v)) return v.map((x) => plain(x, element, binaryAsString, element.el.repetition_type === "REPEATED"));
  const obj = v as Record<string, unknown>;
  if (node.map) {
    const { entries, key, value } = node.map;
    const entryNode = node.children[0]!;
    const list = obj[entries];
    const out = new Map<unknown, unknown>();
    if (!Array.isArray(list)) return list === undefined || list === null ? null : out;
    for (const e of list as Record<string, unknown>[]) {
      if (e === null || e === undefined) continue;
      const k = plain(e[key], entryNode.children[0]!, binaryAsString);
      out.set(k, value === undefined ? null : plain(e[value], entryNode.children[1]!, binaryAsString));
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const c of node.children) out[c.el.name] = plain(obj[c.el.name], c, binaryAsString);
  return out;
}

/** Repeated levels on the way from the field down to each leaf, in leaf order. */
function maxRepetition(node: Node, above = 0, out: number[] = []): number[] {
  const level = above + (node.el.repetition_type === "REPEATED" ? 1 : 0);
  if (node.children.length === 0) out.push(level);
  for (const c of node.children) maxRepetition(c, level, out);
  return out;
}

/** The first repetition level of a data page (0 when the page begins a row, as the first page must). */
function firstRepetitionLevel(h: PageHeader, body: Uint8Array, codec: string, maxRep: number): number {
  const level = new Uint8Array(1);
  const width = 32 - Math.clz32(maxRep);
  if (h.type === "DATA_PAGE_V2") {
    decodeHybrid(body, 0, h.data_page_header_v2?.repetition_levels_byte_length ?? 0, width, level, "repetition levels");
  } else {
    const page = decompress(body, h.uncompressed_page_size, codec, "the page");
    if (page.length < 4) throw new TesseraError("the repetition levels are missing");
    const len = new DataView(page.buffer, page.byteOffset, 4).getUint32(0, true);
    decodeHybrid(page, 4, Math.min(page.length, 4 + len), width, level, "repetition levels");
  }
  return level[0]!;
}

/** Page headers of a chunk checked before hyparquet decodes it (hyparquet reads every page up to the chunk's end). */
function checkPages(bytes: Uint8Array, ref: ChunkRef, maxRep: number, where: string): void {
  let first = true;
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  for (let page = 0; reader.offset < bytes.length - 1; page++) {
    const at = reader.offset;
    const here = `${where}: page ${page} (byte ${ref.start + at} of the file)`;
    let h;
    try {
      h = parquetHeader(reader);
    } catch (err) {
      throw new TesseraError(`${here}: cannot read the page header: ${(err as Error).message} (the file is corrupt)`, { cause: err });
    }
    const size = h.compressed_page_size;
    if (!Number.isInteger(size) || size < 0 || reader.offset + size > bytes.length) {
      throw new TesseraError(`${here}: the page header's size is ${shown(size)} bytes, but ${bytes.length - reader.offset} remain in the column chunk (the file is corrupt)`);
    }
    if (!Number.isInteger(h.uncompressed_page_size) || h.uncompressed_page_size < 0) {
      throw new TesseraError(`${here}: the page header's uncompressed size is ${shown(h.uncompressed_page_size)} bytes (the file is corrupt)`);
    }
    if (ref.codec !== "UNCOMPRESSED") checkPageSize(h.uncompressed_page_size, `${here}: the page`);
    const values = h.data_page_header?.num_values ?? h.data_page_header_v2?.num_values ?? h.dictionary_page_header?.num_values ?? 0;
    if (!Number.isInteger(values) || values < 0 || (h.type !== "DICTIONARY_PAGE" && values > ref.numValues)) {
      throw new TesseraError(`${here}: the page claims ${shown(values)} values, but its column chunk holds ${ref.numValues} (the file is corrupt)`);
    }
    if (first && maxRep > 0 && values > 0 && (h.type === "DATA_PAGE" || h.type === "DATA_PAGE_V2")) {
      first = false;
      let level: number;
      try {
        level = firstRepetitionLevel(h, bytes.subarray(reader.offset, reader.offset + size), ref.codec, maxRep);
      } catch (err) {
        throw new TesseraError(`${here}: ${(err as Error).message}`, { cause: err });
      }
      if (level !== 0) throw new TesseraError(`${here}: the first repetition level is ${level}, but a column chunk must begin with a new row (level 0); the file is corrupt`);
    }
    reader.offset += size;
  }
}

/** One nested field of one row group: `rows` plain values. */
export async function readNestedChunks(input: NestedChunks): Promise<unknown[]> {
  const { schema, field, chunks, rows, where, signal } = input;
  const paths = leafPaths(schema, field);
  const leaves = leafElements(schema, field);
  const { node } = buildTree(schema, field.element);
  const reps = maxRepetition(node);
  chunks.forEach((c, k) => checkPages(c.bytes, c.ref, reps[k]!, `${where} (leaf ${paths[k]!.join(".")})`));
  const elements: SchemaElement[] = [{ ...schema[0]!, num_children: 1 }];
  flatten(node, elements);
  // The chunks laid end to end: a small file of this row group and field only.
  const total = chunks.reduce((s, c) => s + c.bytes.length, 0);
  const file = new Uint8Array(total);
  let offset = 0;
  const columns = chunks.map((c, k) => {
    file.set(c.bytes, offset);
    const at = BigInt(offset);
    offset += c.bytes.length;
    return {
      file_offset: at,
      meta_data: {
        type: leaves[k]!.type!,
        encodings: [],
        path_in_schema: paths[k]!,
        codec: c.ref.codec as "SNAPPY",
        num_values: BigInt(c.ref.numValues),
        total_uncompressed_size: BigInt(c.ref.uncompressedSize),
        total_compressed_size: BigInt(c.bytes.length),
        data_page_offset: at,
      },
    };
  });
  const metadata: FileMetaData = {
    version: 1,
    schema: elements,
    num_rows: BigInt(rows),
    row_groups: [{ columns, total_byte_size: BigInt(total), num_rows: BigInt(rows) }],
    metadata_length: 0,
  };
  const compressors = Object.fromEntries(
    Object.entries(guardedCompressors).map(([codec, fn]) => [
      codec,
      (bytes: Uint8Array, length: number) => {
        signal?.throwIfAborted();
        checkPageSize(length, "a page");
        return fn!(bytes, length);
      },
    ]),
  );
  const got: ColumnData[] = [];
  try {
    await parquetRead({
      file: { byteLength: total, slice: (s: number, e?: number) => file.slice(s, e).buffer },
      metadata,
      columns: [field.name],
      compressors,
      parsers,
      utf8: input.binaryAsString,
      onChunk: (c) => got.push(c),
    });
  } catch (err) {
    if (signal?.aborted || (err as Error).name === "AbortError") throw err;
    const reason = err instanceof TesseraError ? (err as Error).message : `cannot assemble the nested values: ${(err as Error).message} (the file is corrupt, or uses a nesting this reader does not support)`;
    throw new TesseraError(`${where}: ${reason}`, { cause: err });
  }
  got.sort((a, b) => a.rowStart - b.rowStart);
  const values: unknown[] = [];
  for (const c of got) for (let i = 0; i < c.columnData.length; i++) values.push(plain(c.columnData[i], node, input.binaryAsString));
  if (values.length !== rows) throw new TesseraError(`${where}: assembled ${values.length} values, but the row group has ${rows} rows (the file is corrupt)`);
  return values;
}
