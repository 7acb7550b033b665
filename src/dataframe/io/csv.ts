/**
 * readCsv: CSV files split into partitions by byte ranges, parsed in parallel on the workers.
 *
 * The client (resolveCsv) reads the first file's header and a sample from its start (256 KiB)
 * to infer column types (csv-infer.ts), then cuts every file into blocks of `blocksize` bytes.
 * A worker ("dataframe.readCsv", readCsvPart) reads its block's rows:
 *
 *   a block [start, end) starts after the first LF at or after `start` (a file's first block
 *   starts at 0) and ends after the first LF at or after `end` (or at the end of the file).
 *
 * Neighbours apply the same rule to the same LF, so every row is read by exactly one block. The
 * rule does not know about quotes, so a quoted field holding a line break can be cut. Strategy:
 *
 *   1. if the sample shows a quoted line break (or CR-only line ends), each file is read as one
 *      block: always correct, parallel across files only;
 *   2. otherwise blocks are cut at LFs, and a cut inside quotes is detected, never read wrong:
 *      the first block whose end lands inside quotes starts at a true row start (the cuts before
 *      it are fine), so it parses with the right quote state and finds a quote still open at
 *      its end. It fails with an error naming the file and byte and the fix (blocksize: null).
 *
 * Missing values (nullValues) default to pandas' list: "", "#N/A", "#N/A N/A", "#NA",
 * "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL",
 * "NaN", "None", "n/a", "nan", "null". Matching is exact (no trimming) and applies to quoted
 * fields too, as in pandas: "" is null. Giving `nullValues` replaces the list.
 */

import { TesseraError } from "../../errors.js";
import type { ColumnMeta, Frame, Schema } from "../frame.js";
import { inferColumn, parseDtype, type DtypeSpec } from "./csv-infer.js";
import { Nulls } from "./csv-columns.js";
import { CsvSyntaxError, locate, parseBlock, readRecord, type Dialect, type OutputColumn } from "./csv-parse.js";
import { fileName, listFiles, openFile, type ByteReader, type CsvSource, type FileRef } from "./csv-source.js";

export type { CsvSource, FileRef } from "./csv-source.js";
export type { DtypeSpec } from "./csv-infer.js";

export const DEFAULT_NULL_VALUES: readonly string[] = Object.freeze(
  ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"],
);

export interface ReadCsvOptions {
  /** true (default): the first row names the columns; false: no header, columns "0", "1", ...; names: no header row, these names. */
  header?: boolean | string[];
  /** Field separator, one character (default ","). */
  sep?: string;
  /** Quote character (default '"'); inside quotes it is written twice. */
  quote?: string;
  /** Strings read as null (default DEFAULT_NULL_VALUES); replaces the defaults. */
  nullValues?: readonly string[];
  /** Columns to read, by name or position (kept in file order). */
  usecols?: readonly (string | number)[];
  /** Declared column types, overriding inference. */
  dtypes?: Record<string, DtypeSpec>;
  /** Bytes per partition (default 64 MiB); null or 0: one partition per file. */
  blocksize?: number | null;
  /** Bytes read from the first file to infer types (default 256 KiB). */
  sampleSize?: number;
  /** Text encoding (default "utf-8"); single-byte encodings like "latin1" work too. */
  encoding?: string;
}

/** How every block of a dataset is parsed (the same for all its parts). */
export interface CsvFormat {
  sep: string;
  quote: string;
  nullValues: string[];
  encoding: string;
  /** The header row each file starts with (checked on every file), or null for no header row. */
  header: string[] | null;
  /** Names of the columns read, and their positions and types in each row. */
  names: string[];
  positions: number[];
  types: ColumnMeta[];
  /** Fields per row. */
  ncols: number;
}

/** One partition: a byte range of one file (plain data: a task argument). */
export interface CsvPart {
  file: FileRef;
  start: number;
  end: number;
  /** The file's size when the dataset was resolved. */
  size: number;
  format: CsvFormat;
}

export interface CsvDataset {
  schema: Schema;
  parts: CsvPart[];
}

const DEFAULT_BLOCKSIZE = 64 * 2 ** 20;
const DEFAULT_SAMPLE = 256 * 2 ** 10;
const LOOKAHEAD = 64 * 2 ** 10;

function oneChar(v: string, what: string): string {
  if (typeof v !== "string" || v.length !== 1 || v === "\n" || v === "\r") {
    throw new TesseraError(`readCsv: ${what} must be one character other than a line break, got ${JSON.stringify(v)}`);
  }
  return v;
}

function checkEncoding(encoding: string): void {
  let canonical: string;
  try {
    canonical = new TextDecoder(encoding).encoding;
  } catch (err) {
    throw new TesseraError(`readCsv: unknown encoding ${JSON.stringify(encoding)}`, { cause: err });
  }
  if (canonical.startsWith("utf-16")) throw new TesseraError(`readCsv: ${encoding} is not supported (blocks are cut at LF bytes); convert the file to UTF-8`);
}

/** pandas' names for a header: empty ones "Unnamed: i", repeats "a.1", "a.2". */
function columnNames(raw: readonly string[]): string[] {
  const seen = new Set<string>();
  return raw.map((n, i) => {
    let name = n === "" ? `Unnamed: ${i}` : n;
    for (let k = 1; seen.has(name); k++) name = `${n}.${k}`;
    seen.add(name);
    return name;
  });
}

/** Client side: the dataset's schema and partitions, from the first file's header and sample. */
export async function resolveCsv(source: CsvSource, options: ReadCsvOptions = {}): Promise<CsvDataset> {
  const sep = oneChar(options.sep ?? ",", "sep");
  const quote = oneChar(options.quote ?? '"', "quote");
  if (sep === quote) throw new TesseraError(`readCsv: sep and quote are both ${JSON.stringify(sep)}`);
  const encoding = options.encoding ?? "utf-8";
  checkEncoding(encoding);
  const blocksize = options.blocksize === undefined ? DEFAULT_BLOCKSIZE : options.blocksize ?? 0;
  if (!Number.isInteger(blocksize) || blocksize < 0) throw new TesseraError(`readCsv: blocksize must be a whole number of bytes, or null for one partition per file; got ${options.blocksize}`);
  const nullValues = [...(options.nullValues ?? DEFAULT_NULL_VALUES)];
  const nulls = new Nulls(nullValues);
  const dialect: Dialect = { sep: sep.charCodeAt(0), quote: quote.charCodeAt(0) };
  const header = options.header ?? true;

  const files = await listFiles(source);
  const first = await openFile(files[0]!);
  const sizes: number[] = [first.size];
  let sample: string;
  let whole: boolean;
  try {
    const bytes = await first.read(0, options.sampleSize ?? DEFAULT_SAMPLE);
    whole = bytes.length >= first.size;
    sample = new TextDecoder(encoding).decode(bytes, { stream: !whole });
  } finally {
    await first.close();
  }

  // Records of the sample: a last one that may be cut off is dropped.
  const records: string[][] = [];
  let splittable = !(sample.includes("\r") && !sample.includes("\n"));
  try {
    for (let pos = 0; ; ) {
      const r = readRecord(sample, pos, dialect);
      if (!r) break;
      if (r.quotedNewline) splittable = false;
      if (r.next >= sample.length && !whole) break;
      records.push(r.fields);
      pos = r.next;
    }
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new TesseraError(`readCsv ${locate(sample, err.pos, { file: fileName(files[0]!), byteStart: 0, firstLine: 1 })}: ${err.message}`, { cause: err });
    throw err;
  }

  let raw: string[];
  let headerRow: string[] | null = null;
  if (header === true) {
    if (records.length === 0) throw new TesseraError(`readCsv ${fileName(files[0]!)}: no header row (the file is empty, or its first row is longer than sampleSize)`);
    headerRow = records.shift()!;
    raw = headerRow;
  } else if (Array.isArray(header)) raw = header.map(String);
  else raw = Array.from({ length: records[0]?.length ?? 0 }, (_, i) => String(i));
  const all = columnNames(raw);
  if (all.length === 0) throw new TesseraError(`readCsv ${fileName(files[0]!)}: no columns`);

  const positions = usePositions(all, options.usecols);
  const dtypes = options.dtypes ?? {};
  for (const name of Object.keys(dtypes)) {
    if (!all.includes(name)) throw new TesseraError(`readCsv: dtypes names column ${JSON.stringify(name)}, but the columns are ${all.map((n) => JSON.stringify(n)).join(", ")}`);
  }
  const types = positions.map((p) => {
    const name = all[p]!;
    if (dtypes[name] !== undefined) return parseDtype(dtypes[name]!, name);
    const values: string[] = [];
    for (const r of records) {
      const v = r[p];
      if (v !== undefined && !nulls.is(v, 0, v.length)) values.push(v);
    }
    return inferColumn(values);
  });

  const others = await Promise.all(
    files.slice(1).map(async (f) => {
      const r = await openFile(f);
      await r.close();
      return r.size;
    }),
  );
  sizes.push(...others);
  const names = positions.map((p) => all[p]!);
  const format: CsvFormat = { sep, quote, nullValues, encoding, header: headerRow, names, positions, types, ncols: all.length };
  const parts: CsvPart[] = [];
  files.forEach((file, i) => {
    const size = sizes[i]!;
    const step = splittable && blocksize > 0 ? blocksize : Math.max(1, size);
    for (let start = 0; start < size || start === 0; start += step) parts.push({ file, start, end: Math.min(size, start + step), size, format });
  });
  return { schema: { names, types }, parts };
}

function usePositions(all: readonly string[], usecols: ReadCsvOptions["usecols"]): number[] {
  if (!usecols) return all.map((_, i) => i);
  const set = new Set<number>();
  for (const u of usecols) {
    const p = typeof u === "number" ? u : all.indexOf(u);
    if (!Number.isInteger(p) || p < 0 || p >= all.length) {
      throw new TesseraError(`readCsv: usecols names ${JSON.stringify(u)}, but the columns are ${all.map((n) => JSON.stringify(n)).join(", ")}`);
    }
    set.add(p);
  }
  return [...set].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Worker side

/** Bytes of a file from `start` on, read as needed (one contiguous window). */
class Window {
  bytes: Uint8Array = new Uint8Array(0);
  constructor(
    private readonly reader: ByteReader,
    readonly start: number,
  ) {}
  get end(): number {
    return this.start + this.bytes.length;
  }
  async extend(to: number): Promise<void> {
    to = Math.min(to, this.reader.size);
    if (to <= this.end) return;
    const more = await this.reader.read(this.end, to);
    if (this.bytes.length === 0) this.bytes = more;
    else {
      const b = new Uint8Array(this.bytes.length + more.length);
      b.set(this.bytes);
      b.set(more, this.bytes.length);
      this.bytes = b;
    }
  }
  /** The first LF at or after `from` (absolute), or -1 if none before the end of the file. */
  async lf(from: number): Promise<number> {
    for (;;) {
      const at = from < this.end ? this.bytes.indexOf(10, from - this.start) : -1;
      if (at >= 0) return this.start + at;
      if (this.end >= this.reader.size) return -1;
      from = Math.max(from, this.end);
      await this.extend(this.end + Math.max(LOOKAHEAD, this.bytes.length));
    }
  }
}

function emptyFrame(out: readonly OutputColumn[]): Frame {
  return parseBlock("", { dialect: { sep: 44, quote: 34 }, nullValues: [], ncols: 1, columns: out, where: { file: "", byteStart: 0 } });
}

/** Worker side: the rows of one partition, with `columns` (null: all) in that order. */
export async function readCsvPart(part: CsvPart, columns: readonly string[] | null): Promise<Frame> {
  const f = part.format;
  const name = fileName(part.file);
  const out: OutputColumn[] = (columns ?? f.names).map((c) => {
    const i = f.names.indexOf(c);
    if (i < 0) throw new TesseraError(`readCsv ${name}: no column ${JSON.stringify(c)}; columns are ${f.names.map((n) => JSON.stringify(n)).join(", ")}`);
    return { index: f.positions[i]!, name: c, meta: f.types[i]! };
  });
  const reader = await openFile(part.file);
  let bytes: Uint8Array;
  let rowStart: number;
  let rowEnd: number;
  try {
    if (reader.size !== part.size) throw new TesseraError(`readCsv ${name}: the file is ${reader.size} bytes now, but was ${part.size} when the dataset was read (it changed)`);
    const win = new Window(reader, part.start);
    await win.extend(part.end + LOOKAHEAD);
    const startLF = part.start === 0 ? -1 : await win.lf(part.start);
    if (part.start > 0 && startLF < 0) return emptyFrame(out);
    rowStart = startLF + 1;
    const endLF = part.end >= part.size ? -1 : startLF >= part.end ? startLF : await win.lf(part.end);
    rowEnd = endLF < 0 ? part.size : endLF + 1;
    if (rowStart >= rowEnd) return emptyFrame(out);
    bytes = win.bytes.subarray(rowStart - part.start, rowEnd - part.start);
  } finally {
    await reader.close();
  }

  const atFileStart = rowStart === 0;
  const text = new TextDecoder(f.encoding, { ignoreBOM: !atFileStart }).decode(bytes);
  const bom = atFileStart && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const single = new TextDecoder(f.encoding).encoding !== "utf-8";
  const where = { file: name, byteStart: rowStart + bom, ...(atFileStart ? { firstLine: 1 } : {}), ...(single ? { bytesPerChar: 1 } : {}) };
  const dialect: Dialect = { sep: f.sep.charCodeAt(0), quote: f.quote.charCodeAt(0) };
  let pos = 0;
  if (atFileStart && f.header) {
    const h = readRecord(text, 0, dialect);
    if (!h || h.fields.length !== f.header.length || h.fields.some((v, i) => v !== f.header![i])) {
      throw new TesseraError(
        `readCsv ${name}: the header is ${h ? JSON.stringify(h.fields) : "missing"}, but the first file's is ${JSON.stringify(f.header)}; files read together must have the same columns`,
      );
    }
    pos = h.next;
  }
  try {
    return parseBlock(text, { dialect, nullValues: f.nullValues, ncols: f.ncols, columns: out, where }, pos);
  } catch (err) {
    if (!(err instanceof TesseraError)) throw err;
    if (err instanceof CsvSyntaxError && err.unterminated && rowEnd < part.size) {
      throw new TesseraError(
        `${err.message} before this partition's end at byte ${rowEnd}: a quoted field holds a line break, so the file cannot be split into blocks at line breaks. ` +
          `Read it with blocksize: null (one partition per file)`,
        { cause: err },
      );
    }
    const inside = err instanceof CsvSyntaxError && err.unterminated ? ": the file ends inside quotes" : "";
    // A block cut inside a quoted field misparses; the block before it reports the cut, but this
    // error may arrive first. Say so wherever it could be the cause.
    const maybeCut = !atFileStart && text.includes(f.quote)
      ? `${inside ? ", or" : " (or"} this partition starts inside a quoted field that holds a line break: then read the file with blocksize: null, one partition per file${inside ? "" : ")"}`
      : "";
    throw new TesseraError(`${err.message}${inside}${maybeCut}`, { cause: err });
  }
}
