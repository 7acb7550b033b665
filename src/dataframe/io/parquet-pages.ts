/**
 * One flat column chunk (a top-level, non-repeated leaf) decoded page by page into a
 * ColumnBuilder. hyparquet parses the page headers (Thrift) and decodes PLAIN, DELTA_* ,
 * BYTE_STREAM_SPLIT and ALP values; definition levels, dictionary indices and RLE booleans go
 * through our bounded RLE decoder, and every length read from the file is checked before it
 * sizes anything:
 *
 *   - a page's compressed size must fit in what remains of its chunk;
 *   - a page's uncompressed size must be at most MAX_PAGE_BYTES (256 MiB) before it is
 *     decompressed (so a corrupt size is not an allocation, and a page whose one string cannot
 *     be a JS string fails with the reason);
 *   - a data page's value count must fit in the rows left in its row group;
 *   - a dictionary page's value count must fit in its bytes, and indices in the dictionary;
 *   - PLAIN and BYTE_STREAM_SPLIT values must fit in the page's bytes.
 *
 * Uncompressed pages are copied out of the chunk first: hyparquet makes typed-array views over
 * the page's buffer, and a page that owns its buffer cannot be read past its end by a bad length.
 * The signal is checked before every page, so a cancelled task stops within one page.
 *
 * The chunk's bytes come through a ChunkBytes (parquet-chunk.ts): whole, or read a window at a
 * time from a local file, so a page is asked for as it is decoded (headers with what the window
 * holds, re-read with more bytes if cut off). Two common pages skip the page buffer (each pass
 * over tens of MB of a row group costs as much as the decoding): snappy PLAIN fixed-width pages
 * without nulls are decompressed straight into the column (readPlainInPlace), their compressed
 * bytes taken window by window, and dictionary pages without nulls are decoded and looked up in
 * wasm (parquet-dict.ts). Either falls back to the path above when the page is not what it looks
 * like, so errors are the same.
 */

import type { PageHeader, SchemaElement } from "hyparquet";
import { decompressZstd, compressors } from "hyparquet-compressors";
import { alpDecode } from "hyparquet/src/alp.js";
import { parquetHeader } from "hyparquet/src/column.js";
import { decompressPage } from "hyparquet/src/datapage.js";
import { deltaBinaryUnpack } from "hyparquet/src/delta.js";
import { byteStreamSplit } from "hyparquet/src/encoding.js";
import { readPlain } from "hyparquet/src/plain.js";
import { TesseraError } from "../../errors.js";
import type { ColumnBuilder, PageValues } from "./parquet-convert.js";
import { shown, type ChunkRef } from "./parquet-footer.js";
import { dictDecodeInto, dictPageTarget, dictPrepare } from "./parquet-dict.js";
import { decodeBitPackedLevels, decodeDefinitionLevels, decodeHybrid } from "./parquet-rle.js";
import type { ChunkBytes } from "./parquet-chunk.js";
import { snappyDecompress, snappyDecompressSplit, type PageStream } from "./parquet-snappy.js";

/** The largest page (uncompressed) this reader decompresses. */
export const MAX_PAGE_BYTES = 256 * 1024 * 1024;

/** A page may decompress to at most MAX_PAGE_BYTES: checked before anything is allocated for it. */
export function checkPageSize(size: number, what: string): void {
  if (size > MAX_PAGE_BYTES) {
    throw new TesseraError(`${what} is ${size} bytes uncompressed, over this reader's limit of ${MAX_PAGE_BYTES} bytes per page (values that large cannot be read)`);
  }
}

/**
 * hyparquet-compressors, with zstd writing into a buffer of the size the page header gives, and
 * our snappy (parquet-snappy.ts: theirs instantiates a wasm module per page).
 */
export const guardedCompressors: typeof compressors = {
  ...compressors,
  SNAPPY: snappyDecompress,
  ZSTD: (input: Uint8Array, length: number) => decompressZstd(input, new Uint8Array(length)),
};

type Compressors = typeof compressors;
type Codec = keyof Compressors;

/** A page's own bytes (a fresh buffer, so views over `.buffer` stay inside the page). */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

export function decompress(body: Uint8Array, size: number, codec: string, what: string): Uint8Array {
  if (codec === "UNCOMPRESSED") return own(body);
  checkPageSize(size, what);
  if (!guardedCompressors[codec as Codec]) throw new TesseraError(`compression codec ${codec} is not supported (supported: SNAPPY, GZIP, ZSTD, BROTLI, LZ4, LZ4_RAW)`);
  return own(decompressPage(body, size, codec as Codec, guardedCompressors));
}

/** Buffers reused page after page by this thread (only by code that bounds every read itself). */
const SCRATCH_KEEP = 64 * 1024 * 1024;
let scratchBytes = new Uint8Array(0);
let scratchIndices = new Int32Array(0);

function scratch(size: number): Uint8Array {
  if (size > scratchBytes.length) {
    const b = new Uint8Array(Math.max(size, Math.min(SCRATCH_KEEP, scratchBytes.length * 2)));
    if (b.length > SCRATCH_KEEP) return b.subarray(0, size);
    scratchBytes = b;
  }
  return scratchBytes.subarray(0, size);
}

function indexBuffer(n: number): Int32Array {
  if (n > scratchIndices.length) {
    const b = new Int32Array(Math.max(n, Math.min(SCRATCH_KEEP >> 2, scratchIndices.length * 2)));
    if (b.length > SCRATCH_KEEP >> 2) return b.subarray(0, n);
    scratchIndices = b;
  }
  return scratchIndices.subarray(0, n);
}

const FIXED_WIDTH = new Set(["INT32", "FLOAT", "DOUBLE", "INT64"]);
const DICTIONARY = new Set(["PLAIN_DICTIONARY", "RLE_DICTIONARY"]);

/**
 * A data page that only this file's own, bounds-checked code reads (PLAIN fixed-width values and
 * the levels before them): decompressed into the thread's scratch buffer (or read in place when
 * uncompressed) instead of a buffer of its own, since its bytes are copied out at once.
 */
function decompressTransient(body: Uint8Array, size: number, codec: string, what: string): Uint8Array {
  if (codec === "UNCOMPRESSED") return body;
  if (codec !== "SNAPPY") return decompress(body, size, codec, what);
  checkPageSize(size, what);
  return snappyDecompress(body, size, scratch);
}

/** Bytes that `count` PLAIN values take at least (BYTE_ARRAY: their 4-byte lengths). */
function plainBytes(type: string, count: number, typeLength: number | undefined): number {
  switch (type) {
    case "BOOLEAN":
      return Math.ceil(count / 8);
    case "INT32":
    case "FLOAT":
      return 4 * count;
    case "INT64":
    case "DOUBLE":
      return 8 * count;
    case "INT96":
      return 12 * count;
    case "FIXED_LEN_BYTE_ARRAY":
      return (typeLength ?? 0) * count;
    default:
      return 4 * count;
  }
}

function readerAt(page: Uint8Array, pos: number, end: number) {
  return { view: new DataView(page.buffer, page.byteOffset + pos, end - pos), offset: 0 };
}

function checkFits(need: number, have: number, count: number, what: string): void {
  if (need > have) throw new TesseraError(`the page holds ${have} bytes of values, too few for ${count} ${what} (the file is corrupt)`);
}

/** DELTA_LENGTH_BYTE_ARRAY: all lengths (delta-packed), then all bytes. */
function deltaLengths(page: Uint8Array, pos: number, end: number, count: number): Uint8Array[] {
  const r = readerAt(page, pos, end);
  const lengths = new Int32Array(count);
  deltaBinaryUnpack(r, count, lengths);
  let at = pos + r.offset;
  const out = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) {
    const len = lengths[i]!;
    if (len < 0 || at + len > end) throw new TesseraError(`value ${i} claims ${len} bytes, past the end of the page`);
    out[i] = page.subarray(at, at + len);
    at += len;
  }
  return out;
}

/** DELTA_BYTE_ARRAY: prefix lengths, suffix lengths, then suffixes; each value shares a prefix with the one before. */
function deltaStrings(page: Uint8Array, pos: number, end: number, count: number): Uint8Array[] {
  const r = readerAt(page, pos, end);
  const prefixes = new Int32Array(count);
  deltaBinaryUnpack(r, count, prefixes);
  const suffixes = new Int32Array(count);
  deltaBinaryUnpack(r, count, suffixes);
  let at = pos + r.offset;
  const out = new Array<Uint8Array>(count);
  let prev = new Uint8Array(0);
  for (let i = 0; i < count; i++) {
    const p = prefixes[i]!;
    const s = suffixes[i]!;
    if (p < 0 || p > prev.length) throw new TesseraError(`value ${i} shares ${p} bytes with a value of ${prev.length} bytes`);
    if (s < 0 || at + s > end) throw new TesseraError(`value ${i} claims ${s} suffix bytes, past the end of the page`);
    const v = new Uint8Array(p + s);
    v.set(prev.subarray(0, p));
    v.set(page.subarray(at, at + s), p);
    at += s;
    out[i] = prev = v;
  }
  return out;
}

/** The non-null values of a data page, from bytes [pos, end). */
function decodeValues(page: Uint8Array, pos: number, end: number, encoding: string, count: number, leaf: SchemaElement, dictSize: number | undefined): PageValues {
  const type = leaf.type!;
  const have = end - pos;
  if (count === 0) return { raw: [] };
  switch (encoding) {
    case "PLAIN": {
      const bytes = plainBytes(type, count, leaf.type_length);
      checkFits(bytes, have, count, `PLAIN ${type} values`);
      if (type === "INT32" || type === "FLOAT" || type === "DOUBLE" || type === "INT64") return { plain: page.subarray(pos, pos + bytes), physical: type };
      const r = readerAt(page, pos, end);
      const raw = readPlain(r, type, count, leaf.type_length);
      if (r.offset > have) throw new TesseraError(`the values run past the end of the page`);
      return { raw };
    }
    case "PLAIN_DICTIONARY":
    case "RLE_DICTIONARY": {
      if (dictSize === undefined) throw new TesseraError("a data page refers to a dictionary, but its column chunk has no dictionary page");
      if (have < 1) throw new TesseraError("the dictionary indices are missing");
      // Reused page after page: ColumnBuilder.append reads them at once, and checks each against
      // the dictionary's size as it uses it.
      const indices = indexBuffer(count);
      decodeHybrid(page, pos + 1, end, page[pos]!, indices, "dictionary indices");
      return { indices };
    }
    case "RLE": {
      if (type !== "BOOLEAN") throw new TesseraError(`RLE-encoded ${type} values are not supported`);
      checkFits(4, have, count, "RLE booleans");
      const len = new DataView(page.buffer, page.byteOffset + pos, 4).getUint32(0, true);
      const out = new Uint8Array(count);
      decodeHybrid(page, pos + 4, Math.min(end, pos + 4 + len), 1, out, "RLE booleans");
      for (let i = 0; i < count; i++) if (out[i]! > 1) throw new TesseraError(`RLE boolean value ${out[i]} is not 0 or 1`);
      return { raw: out };
    }
    case "DELTA_BINARY_PACKED": {
      if (type !== "INT32" && type !== "INT64") throw new TesseraError(`DELTA_BINARY_PACKED ${type} values are not supported`);
      const out = type === "INT32" ? new Int32Array(count) : new BigInt64Array(count);
      deltaBinaryUnpack(readerAt(page, pos, end), count, out);
      return { raw: out };
    }
    case "DELTA_LENGTH_BYTE_ARRAY":
      return { raw: deltaLengths(page, pos, end, count) };
    case "DELTA_BYTE_ARRAY": {
      const raw = deltaStrings(page, pos, end, count);
      if (type === "FIXED_LEN_BYTE_ARRAY" && raw.some((v) => v.length !== leaf.type_length)) {
        throw new TesseraError(`a DELTA_BYTE_ARRAY value is not ${leaf.type_length} bytes long`);
      }
      return { raw };
    }
    case "BYTE_STREAM_SPLIT":
      checkFits(plainBytes(type, count, leaf.type_length), have, count, `BYTE_STREAM_SPLIT ${type} values`);
      return { raw: byteStreamSplit(readerAt(page, pos, end), count, type, leaf.type_length) };
    case "ALP":
      return { raw: alpDecode(readerAt(page, pos, end), count, type) };
    default:
      throw new TesseraError(`encoding ${encoding} is not supported`);
  }
}

/** Definition levels (max level 1) of n rows: 1 = value. Null when every row has one. */
function levelsOf(page: Uint8Array, start: number, end: number, n: number, encoding: string): { defs: Uint8Array | null; nonNull: number } {
  if (encoding !== "BIT_PACKED") return decodeDefinitionLevels(page, start, end, n, "definition levels");
  const levels = new Uint8Array(n);
  decodeBitPackedLevels(page, start, end, 1, levels, "definition levels");
  let nonNull = 0;
  for (let i = 0; i < n; i++) nonNull += levels[i]!;
  return { defs: nonNull === n ? null : levels, nonNull };
}

export interface FlatChunk {
  /** The chunk's bytes (parquet-chunk.ts: in memory, or read a window at a time). */
  bytes: ChunkBytes;
  chunk: ChunkRef;
  /** The column's schema element (physical type, length, repetition). */
  leaf: SchemaElement;
  /** Rows in the row group (= values in the chunk). */
  rows: number;
  /** "readParquet: file: row group 2, column "x"": prefixes every error. */
  where: string;
  signal?: AbortSignal;
}

/**
 * A page's bytes from `from` on (v2 pages: the levels, then the compressed values): all at once,
 * or as a stream of windows (snappy's in-place path). Each call may read again: use what it
 * gives before the next.
 */
interface PageBody {
  readonly length: number;
  bytes(from?: number, to?: number): Uint8Array;
  stream(from?: number): PageStream;
}

function pageBody(chunk: ChunkBytes, at: number, size: number): PageBody {
  return {
    length: size,
    bytes: (from = 0, to = size) => chunk.bytes(at + from, to - from),
    stream: (from = 0) => {
      const scatter = chunk.scatter;
      return {
        length: size - from,
        window: (pos) => chunk.some(at + from + pos, size - from - pos),
        ...(scatter ? { scatter: (pos: number, into: Uint8Array[]) => scatter(at + from + pos, into) } : {}),
      };
    },
  };
}

/** Page headers longer than this (large statistics) are read with the rest of the chunk. */
const HEADER_PROBE = 64 * 1024;

/**
 * The page header at byte `at` of the chunk, and its length. A header cut off by the end of the
 * bytes at hand is read again from more of them (parsing the same bytes gives the same header,
 * so only a header that does not fit in the whole chunk is an error).
 */
function pageHeader(bytes: ChunkBytes, at: number): { header: PageHeader; length: number } {
  const rest = bytes.length - at;
  for (const view of [() => bytes.some(at, rest), () => bytes.bytes(at, Math.min(rest, HEADER_PROBE)), () => bytes.bytes(at, rest)]) {
    const v = view();
    const reader = { view: new DataView(v.buffer, v.byteOffset, v.byteLength), offset: 0 };
    try {
      return { header: parquetHeader(reader), length: reader.offset };
    } catch (err) {
      if (v.length === rest) throw err;
    }
  }
  throw new TesseraError("internal: no page header read");
}

/** Decode every page of a flat column chunk into `out`. */
export function decodeFlatChunk(input: FlatChunk, out: ColumnBuilder): void {
  const { bytes, chunk, leaf, rows, where, signal } = input;
  const optional = leaf.repetition_type !== "REQUIRED";
  out.startChunk();
  let seen = 0;
  let offset = 0;
  for (let page = 0; seen < rows; page++) {
    signal?.throwIfAborted();
    const at = offset;
    const here = `${where}: page ${page} (byte ${chunk.start + at} of the file)`;
    if (at >= bytes.length) throw new TesseraError(`${where}: the column chunk ends after ${seen} of ${rows} rows (the file is truncated or corrupt)`);
    let header: PageHeader;
    try {
      const h = pageHeader(bytes, at);
      header = h.header;
      offset += h.length;
    } catch (err) {
      throw new TesseraError(`${here}: cannot read the page header: ${(err as Error).message} (the file is corrupt)`, { cause: err });
    }
    try {
      const size = header.compressed_page_size;
      const usize = header.uncompressed_page_size;
      if (!Number.isInteger(size) || size < 0 || offset + size > bytes.length) {
        throw new TesseraError(`the page header's size is ${shown(size)} bytes, but ${bytes.length - offset} remain in the column chunk (the file is corrupt)`);
      }
      if (!Number.isInteger(usize) || usize < 0) throw new TesseraError(`the page header's uncompressed size is ${shown(usize)} bytes (the file is corrupt)`);
      const body = pageBody(bytes, offset, size);
      offset += size;
      if (header.type === "DICTIONARY_PAGE") readDictionary(header, body.bytes(), chunk.codec, leaf, out);
      else if (header.type === "DATA_PAGE") seen += readPageV1(header, body, chunk.codec, leaf, optional, rows - seen, out);
      else if (header.type === "DATA_PAGE_V2") seen += readPageV2(header, body, chunk.codec, leaf, optional, rows - seen, out);
      // Index pages and page types newer than this reader carry no values: skipped.
    } catch (err) {
      if (signal?.aborted || (err as Error).name === "AbortError") throw err;
      const reason = err instanceof TesseraError ? (err as Error).message : `${(err as Error).message} (the page is corrupt or truncated)`;
      throw new TesseraError(`${here}: ${reason}`, { cause: err });
    }
  }
}

function readDictionary(header: PageHeader, body: Uint8Array, codec: string, leaf: SchemaElement, out: ColumnBuilder): void {
  const n = header.dictionary_page_header?.num_values;
  if (n === undefined) throw new TesseraError("the dictionary page has no dictionary page header");
  if (!Number.isInteger(n) || n < 0) throw new TesseraError(`the dictionary page's value count is ${shown(n)} (the file is corrupt)`);
  const page = decompress(body, header.uncompressed_page_size, codec, "the dictionary page");
  checkFits(plainBytes(leaf.type!, n, leaf.type_length), page.length, n, `${leaf.type} dictionary values`);
  const r = readerAt(page, 0, page.length);
  const raw = readPlain(r, leaf.type!, n, leaf.type_length);
  if (r.offset > page.length) throw new TesseraError("the dictionary values run past the end of the page");
  out.setDictionary(raw);
}

function checkCount(n: number | undefined, left: number): number {
  if (n === undefined || !Number.isInteger(n) || n < 0) throw new TesseraError(`the page's value count is ${shown(n)} (the file is corrupt)`);
  if (n > left) throw new TesseraError(`the page claims ${n} values but only ${left} rows remain in the row group (the file is corrupt)`);
  return n;
}

/** Levels this short fit the split decoder's head: a page without nulls (one RLE run, or a few). */
const MAX_HEAD = 64;
const headBuffer = new Uint8Array(MAX_HEAD);

/**
 * A snappy PLAIN page of fixed-width values that the column stores as they are, with no nulls:
 * its values decoded straight into the column's memory (no page buffer, no copy), its levels
 * into a small buffer. False (nothing counted) when the page is not such a page, which its
 * sizes tell before decoding: `usize - n * width` bytes of levels, at most MAX_HEAD. Levels
 * that turn out to hold nulls also give false: the caller then decodes the page as usual.
 */
function readPlainInPlace(header: PageHeader, body: PageBody, leaf: SchemaElement, optional: boolean, levelEncoding: string, n: number, out: ColumnBuilder): boolean {
  const type = leaf.type!;
  if (!FIXED_WIDTH.has(type) || n === 0 || (optional && levelEncoding === "BIT_PACKED")) return false;
  const width = type === "INT32" || type === "FLOAT" ? 4 : 8;
  const usize = header.uncompressed_page_size;
  const levels = usize - n * width;
  if (optional ? levels < 4 || levels > MAX_HEAD : levels !== 0) return false;
  checkPageSize(usize, "the data page");
  const target = out.plainTarget(n, width);
  if (!target) return false;
  const head = headBuffer.subarray(0, levels);
  if (!snappyDecompressSplit(body.stream(), usize, head, target)) return false;
  if (optional) {
    const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
    if (4 + len !== levels) return false;
    const { defs } = levelsOf(head, 4, levels, n, levelEncoding);
    if (defs) return false;
  }
  out.commitRows(n);
  return true;
}

/** readPlainInPlace for a v2 page, whose levels are outside its compressed bytes. */
function readValuesInPlace(body: PageStream, size: number, leaf: SchemaElement, n: number, out: ColumnBuilder): boolean {
  const type = leaf.type!;
  if (!FIXED_WIDTH.has(type) || n === 0) return false;
  const width = type === "INT32" || type === "FLOAT" ? 4 : 8;
  if (size !== n * width) return false;
  checkPageSize(size, "the data page");
  const target = out.plainTarget(n, width);
  if (!target || !snappyDecompressSplit(body, size, headBuffer.subarray(0, 0), target)) return false;
  out.commitRows(n);
  return true;
}

/**
 * A snappy dictionary page that is almost all literal (random indices) decompressed straight into
 * the wasm region dictDecodeInto reads (from a local file, read there directly: parquet-scatter.ts),
 * not through the window, a scratch page and a copy in; null when the page is one for the wasm
 * snappy decoder.
 */
function dictPageInPlace(body: PageBody, usize: number, out: ColumnBuilder): Uint8Array | null {
  checkPageSize(usize, "the data page");
  const into = dictPageTarget(out, usize);
  return into && snappyDecompressSplit(body.stream(), usize, NO_LEVELS, into) ? into : null;
}

const NO_LEVELS = new Uint8Array(0);

function readPageV1(header: PageHeader, body: PageBody, codec: string, leaf: SchemaElement, optional: boolean, left: number, out: ColumnBuilder): number {
  const h = header.data_page_header;
  if (!h) throw new TesseraError("the data page has no data page header");
  const n = checkCount(h.num_values, left);
  if (h.encoding === "PLAIN" && codec === "SNAPPY" && readPlainInPlace(header, body, leaf, optional, h.definition_level_encoding, n, out)) return n;
  const dictionary = DICTIONARY.has(h.encoding);
  const inWasm = dictionary && n > 0 && dictPrepare(out, header.uncompressed_page_size, n);
  const transient = dictionary || (h.encoding === "PLAIN" && FIXED_WIDTH.has(leaf.type!));
  const page = (inWasm && codec === "SNAPPY" && dictPageInPlace(body, header.uncompressed_page_size, out)) || (transient ? decompressTransient : decompress)(body.bytes(), header.uncompressed_page_size, codec, "the data page");
  let pos = 0;
  let defs: Uint8Array | null = null;
  let nonNull = n;
  if (optional && n > 0) {
    let end = page.length;
    if (h.definition_level_encoding !== "BIT_PACKED") {
      if (page.length < 4) throw new TesseraError("the definition levels are missing");
      const len = new DataView(page.buffer, page.byteOffset, 4).getUint32(0, true);
      if (4 + len > page.length) throw new TesseraError(`the definition levels claim ${len} bytes, the page has ${page.length - 4}`);
      pos = 4;
      end = 4 + len;
    }
    ({ defs, nonNull } = levelsOf(page, pos, end, n, h.definition_level_encoding));
    pos = h.definition_level_encoding === "BIT_PACKED" ? Math.ceil(n / 8) : end;
  }
  if (inWasm && !defs && dictDecodeInto(page, pos, page.length, n, out)) return n;
  out.append(n, defs, decodeValues(page, pos, page.length, h.encoding, nonNull, leaf, out.dictionarySize));
  return n;
}

function readPageV2(header: PageHeader, body: PageBody, codec: string, leaf: SchemaElement, optional: boolean, left: number, out: ColumnBuilder): number {
  const h = header.data_page_header_v2;
  if (!h) throw new TesseraError("the data page has no data page v2 header");
  const n = checkCount(h.num_values, left);
  const rl = h.repetition_levels_byte_length ?? 0;
  const dl = h.definition_levels_byte_length ?? 0;
  if (rl < 0 || dl < 0 || rl + dl > body.length) throw new TesseraError(`the levels claim ${rl + dl} bytes, the page has ${body.length}`);
  let defs: Uint8Array | null = null;
  let nonNull = n;
  if (optional && n > 0 && dl > 0) ({ defs, nonNull } = levelsOf(body.bytes(0, rl + dl), rl, rl + dl, n, "RLE"));
  const size = header.uncompressed_page_size - rl - dl;
  if (size < 0) throw new TesseraError(`the page's uncompressed size ${header.uncompressed_page_size} is smaller than its levels (${rl + dl} bytes)`);
  const compressed = h.is_compressed !== false && codec !== "UNCOMPRESSED" && size > 0;
  if (!defs && compressed && codec === "SNAPPY" && h.encoding === "PLAIN" && readValuesInPlace(body.stream(rl + dl), size, leaf, n, out)) return n;
  const dictionary = DICTIONARY.has(h.encoding);
  const inWasm = dictionary && !defs && n > 0 && dictPrepare(out, size, n);
  const transient = dictionary || (h.encoding === "PLAIN" && FIXED_WIDTH.has(leaf.type!));
  const valueBytes = body.bytes(rl + dl);
  const page = compressed ? (transient ? decompressTransient : decompress)(valueBytes, size, codec, "the data page") : transient ? valueBytes : own(valueBytes);
  if (inWasm && dictDecodeInto(page, 0, page.length, n, out)) return n;
  out.append(n, defs, decodeValues(page, 0, page.length, h.encoding, nonNull, leaf, out.dictionarySize));
  return n;
}
