/**
 * The CSV parser: text in, a Frame out. A block's bytes are decoded once (one TextDecoder
 * call), then scanned with charCodeAt in two passes per batch of rows:
 *
 *   1. tokenize: field boundaries of up to BATCH rows into flat Int32Arrays (row * ncols + col),
 *      quoted fields found with indexOf (they may hold separators, "" and line breaks);
 *   2. per output column, one loop of the column's own parser over those boundaries, writing
 *      straight into the column's typed array (csv-columns.ts: no substring for numbers, dates
 *      and bools; strings hashed in place and sliced once per distinct value).
 *
 * Rows end at LF, CRLF or CR. Blank lines are skipped. A row with fewer fields than the header
 * gets nulls for the rest (as pandas does); more fields is an error. After a closing quote only
 * a separator or a line break may follow. Every error names the place: the file and line when
 * the block starts the file, else the byte offset and the line within the block.
 */

import { TesseraError } from "../../errors.js";
import type { ColumnMeta, Frame } from "../frame.js";
import { columnBuilder, CsvValueError, Nulls } from "./csv-columns.js";
import { utf8Length } from "./utf8.js";

export interface Dialect {
  /** Separator and quote as char codes. */
  sep: number;
  quote: number;
}

/** Where a block's text sits in its file, for messages. */
export interface Where {
  file: string;
  /** Byte offset of text[0] in the file. */
  byteStart: number;
  /** Line number of text[0] when known (the block starts the file), else undefined. */
  firstLine?: number;
  /** Bytes per char of the encoding when fixed (1 for latin1), else UTF-8 lengths are counted. */
  bytesPerChar?: number;
}

/** "file.csv: line 12" or "file.csv: byte 40123 (line 3 of the block from byte 40000)". */
export function locate(text: string, pos: number, where: Where): string {
  let line = 0;
  for (let i = 0; i < pos; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) line++;
  }
  if (where.firstLine !== undefined) return `${where.file}: line ${where.firstLine + line}`;
  const before = text.slice(0, pos);
  const byte = where.byteStart + (where.bytesPerChar ? before.length * where.bytesPerChar : utf8Length(before));
  return `${where.file}: byte ${byte} (line ${line + 1} of the block from byte ${where.byteStart})`;
}

/** A syntax problem at text position `pos`; the caller words it with the place. */
export class CsvSyntaxError extends TesseraError {
  override name = "CsvSyntaxError";
  constructor(
    message: string,
    readonly pos: number,
    readonly unterminated = false,
  ) {
    super(message);
  }
}

/** The end of the quoted field whose content starts at `s`: the index of its closing quote. */
function closingQuote(text: string, s: number, quote: string, q: number): { end: number; escaped: boolean } {
  let escaped = false;
  let at = s;
  for (;;) {
    const i = text.indexOf(quote, at);
    if (i < 0) throw new CsvSyntaxError(`a quoted field is not closed`, s - 1, true);
    if (text.charCodeAt(i + 1) === q) {
      escaped = true;
      at = i + 2;
      continue;
    }
    return { end: i, escaped };
  }
}

function afterQuote(text: string, pos: number, d: Dialect): void {
  const c = text.charCodeAt(pos);
  if (pos < text.length && c !== d.sep && c !== 10 && c !== 13) {
    throw new CsvSyntaxError(`unexpected ${JSON.stringify(text[pos])} after a closing quote (quotes inside a quoted field are written twice: "")`, pos);
  }
}

/** Past the line break at `pos` (LF, CRLF or CR). */
function skipBreak(text: string, pos: number): number {
  return text.charCodeAt(pos) === 13 && text.charCodeAt(pos + 1) === 10 ? pos + 2 : pos + 1;
}

export interface RecordRead {
  fields: string[];
  /** Position after the record's line break. */
  next: number;
  /** Some quoted field held a line break. */
  quotedNewline: boolean;
}

/**
 * One record as strings (quotes removed, "" unescaped), for headers and samples; blank lines
 * before it are skipped. Null at the end of the text, or when the text ends inside a quoted
 * field of the record (a sample cut mid-record).
 */
export function readRecord(text: string, pos: number, d: Dialect): RecordRead | null {
  const n = text.length;
  while (pos < n && (text.charCodeAt(pos) === 10 || text.charCodeAt(pos) === 13)) pos = skipBreak(text, pos);
  if (pos >= n) return null;
  const quote = String.fromCharCode(d.quote);
  const fields: string[] = [];
  let quotedNewline = false;
  for (;;) {
    if (text.charCodeAt(pos) === d.quote) {
      let q: { end: number; escaped: boolean };
      try {
        q = closingQuote(text, pos + 1, quote, d.quote);
      } catch (err) {
        if (err instanceof CsvSyntaxError && err.unterminated) return null;
        throw err;
      }
      let v = text.slice(pos + 1, q.end);
      if (!quotedNewline && (v.includes("\n") || v.includes("\r"))) quotedNewline = true;
      if (q.escaped) v = v.replaceAll(quote + quote, quote);
      fields.push(v);
      pos = q.end + 1;
      afterQuote(text, pos, d);
    } else {
      const s = pos;
      while (pos < n) {
        const c = text.charCodeAt(pos);
        if (c === d.sep || c === 10 || c === 13) break;
        pos++;
      }
      fields.push(text.slice(s, pos));
    }
    if (pos >= n) return { fields, next: n, quotedNewline };
    if (text.charCodeAt(pos) === d.sep) {
      pos++;
      continue;
    }
    return { fields, next: skipBreak(text, pos), quotedNewline };
  }
}

/** Field boundaries of a batch of rows: field k = row * ncols + col; start -1 = absent. */
export interface FieldTable {
  ncols: number;
  starts: Int32Array;
  ends: Int32Array;
  /** 1 where a quoted field holds "" (to unescape). */
  escaped: Uint8Array;
  /** Text position where each row starts. */
  rowStarts: Int32Array;
  rows: number;
}

export const BATCH = 8192;

export function fieldTable(ncols: number, rows = BATCH): FieldTable {
  const n = Math.max(1, ncols) * rows;
  return { ncols, starts: new Int32Array(n), ends: new Int32Array(n), escaped: new Uint8Array(n), rowStarts: new Int32Array(rows), rows: 0 };
}

/** Tokenize up to a batch of rows from `pos`; returns the position after them. */
export function tokenize(text: string, pos: number, d: Dialect, t: FieldTable): number {
  const n = text.length;
  const { sep, quote: q } = d;
  const quote = String.fromCharCode(q);
  const { ncols, starts, ends, escaped, rowStarts } = t;
  const capacity = rowStarts.length;
  // Every special char is <= hi: most chars are passed over by one comparison.
  const hi = Math.max(sep, 13);
  let rows = 0;
  while (pos < n && rows < capacity) {
    let c = text.charCodeAt(pos);
    if (c === 10 || c === 13) {
      pos = skipBreak(text, pos);
      continue;
    }
    rowStarts[rows] = pos;
    const base = rows * ncols;
    let col = 0;
    for (;;) {
      if (col === ncols) throw new CsvSyntaxError(`expected ${ncols} fields, saw ${countFields(text, rowStarts[rows]!, d)}`, rowStarts[rows]!);
      const k = base + col;
      if (c === q) {
        const r = closingQuote(text, pos + 1, quote, q);
        starts[k] = pos + 1;
        ends[k] = r.end;
        escaped[k] = r.escaped ? 1 : 0;
        pos = r.end + 1;
        afterQuote(text, pos, d);
      } else {
        starts[k] = pos;
        while (pos < n) {
          c = text.charCodeAt(pos);
          if (c <= hi && (c === sep || c === 10 || c === 13)) break;
          pos++;
        }
        ends[k] = pos;
        escaped[k] = 0;
      }
      col++;
      if (pos >= n) break;
      c = text.charCodeAt(pos);
      if (c === sep) {
        c = text.charCodeAt(++pos);
        continue;
      }
      pos = skipBreak(text, pos);
      break;
    }
    for (; col < ncols; col++) starts[base + col] = -1;
    rows++;
  }
  t.rows = rows;
  return pos;
}

function countFields(text: string, pos: number, d: Dialect): number {
  try {
    return readRecord(text, pos, d)?.fields.length ?? 0;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------

export interface OutputColumn {
  /** Position of the field in each row. */
  index: number;
  name: string;
  meta: ColumnMeta;
}

export interface BlockSpec {
  dialect: Dialect;
  nullValues: readonly string[];
  /** Fields per row in the file. */
  ncols: number;
  columns: readonly OutputColumn[];
  where: Where;
}

/** Rows at most: line breaks + 1 (quoted line breaks and blank lines only over-count). */
function rowBound(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  if (n === 0) for (let i = text.indexOf("\r"); i >= 0; i = text.indexOf("\r", i + 1)) n++;
  return n + 1;
}

/** Parse text[pos..] (whole rows) into a Frame with `spec.columns`. */
export function parseBlock(text: string, spec: BlockSpec, pos = 0): Frame {
  const { dialect, columns, where } = spec;
  const nulls = new Nulls(spec.nullValues);
  const bound = rowBound(text);
  const builders = columns.map((c) => columnBuilder(c.meta, nulls, bound));
  const table = fieldTable(spec.ncols, Math.min(BATCH, bound));
  const quote = String.fromCharCode(dialect.quote);
  const unescape = (s: string) => s.replaceAll(quote + quote, quote);
  let rows = 0;
  while (pos < text.length) {
    const rowPos = pos;
    try {
      pos = tokenize(text, pos, dialect, table);
    } catch (err) {
      if (err instanceof CsvSyntaxError) {
        const e = new CsvSyntaxError(`readCsv ${locate(text, err.pos, where)}: ${err.message}`, err.pos, err.unterminated);
        e.cause = err;
        throw e;
      }
      throw err;
    }
    if (table.rows === 0) break;
    for (let j = 0; j < builders.length; j++) {
      try {
        builders[j]!.fill(text, table, columns[j]!.index, unescape);
      } catch (err) {
        if (!(err instanceof CsvValueError)) throw err;
        const c = columns[j]!;
        const hint = c.meta.type === "string" ? "" : `; declare the column's type with dtypes: { ${JSON.stringify(c.name)}: ... } (e.g. "string"), or add the value to nullValues`;
        throw new TesseraError(`readCsv ${locate(text, table.rowStarts[err.row] ?? rowPos, where)}, column ${JSON.stringify(c.name)}: ${err.message}${hint}`, { cause: err });
      }
    }
    rows += table.rows;
  }
  return { length: rows, names: columns.map((c) => c.name), columns: builders.map((b) => b.column()) };
}
