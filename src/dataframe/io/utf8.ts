/**
 * UTF-8 strings in bulk: the byte layout Arrow and Parquet use (one values buffer plus offsets)
 * to and from JS strings, without a TextDecoder call per value.
 *
 * Decoding: the whole values buffer is decoded once; byte offsets are then mapped to string
 * indices (identity when the text is ASCII, else one pass counting the UTF-16 units each byte
 * starts), and each value is a `substring` of the decoded text. Invalid UTF-8 falls back to
 * one decode per value, so replacement characters land where a per-value decoder puts them.
 *
 * Encoding: one TextEncoder call over the joined strings; offsets from each string's UTF-8
 * length as TextEncoder counts it (a lone surrogate becomes U+FFFD, 3 bytes).
 */

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

export type Offsets = Int32Array | BigInt64Array;

/**
 * The strings values[offsets[i]..offsets[i+1]) for i in [0, length). `offsets` holds length+1
 * entries (Int32 for Utf8, BigInt64 for LargeUtf8).
 */
export function decodeStrings(values: Uint8Array, offsets: Offsets, length: number): string[] {
  const out = new Array<string>(length);
  if (length === 0) return out;
  const off = (i: number): number => Number(offsets[i]!);
  const first = off(0);
  const last = off(length);
  const bytes = values.subarray(first, last);
  let text: string;
  try {
    text = fatal.decode(bytes);
  } catch {
    for (let i = 0; i < length; i++) out[i] = lenient.decode(values.subarray(off(i), off(i + 1)));
    return out;
  }
  if (text.length === bytes.length) {
    for (let i = 0; i < length; i++) out[i] = text.substring(off(i) - first, off(i + 1) - first);
    return out;
  }
  // Map each value's byte start to its index in `text`: bytes are walked once, in order.
  let byte = 0;
  let unit = 0;
  let start = 0;
  for (let i = 0; i < length; i++) {
    const end = off(i + 1) - first;
    while (byte < end) {
      const b = bytes[byte++]!;
      if (b < 0x80 || b >= 0xc0) unit += b >= 0xf0 ? 2 : 1;
    }
    out[i] = text.substring(start, unit);
    start = unit;
  }
  return out;
}

/** Bytes TextEncoder writes for s. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Strings as one UTF-8 buffer plus Int32 offsets (length + 1 entries). */
export function encodeStrings(strings: readonly string[]): { values: Uint8Array; offsets: Int32Array } {
  const offsets = new Int32Array(strings.length + 1);
  let total = 0;
  for (let i = 0; i < strings.length; i++) {
    total += utf8Length(strings[i]!);
    offsets[i + 1] = total;
  }
  const values = new Uint8Array(total);
  // One encodeInto per batch of strings keeps the joined temporaries small.
  const BATCH = 4096;
  for (let i = 0; i < strings.length; i += BATCH) {
    const j = Math.min(strings.length, i + BATCH);
    const { written } = encoder.encodeInto(strings.slice(i, j).join(""), values.subarray(offsets[i]!, offsets[j]!));
    // Lone surrogates at the seams would pair up when joined: encode those one by one.
    if (written !== offsets[j]! - offsets[i]!) {
      for (let k = i; k < j; k++) encoder.encodeInto(strings[k]!, values.subarray(offsets[k]!, offsets[k + 1]!));
    }
  }
  return { values, offsets };
}

/**
 * Dictionary-encode strings (null for nulls): codes in first-seen order. Returns the codes,
 * the distinct strings, and validity when some value is null.
 */
export function dictionaryEncode(values: readonly (string | null | undefined)[]): { codes: Int32Array; dictionary: string[]; valid?: Uint8Array } {
  const n = values.length;
  const codes = new Int32Array(n);
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  let valid: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      (valid ??= new Uint8Array(n).fill(1))[i] = 0;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      code = dictionary.length;
      dictionary.push(v);
      index.set(v, code);
    }
    codes[i] = code;
  }
  return valid ? { codes, dictionary, valid } : { codes, dictionary };
}
