/**
 * The RLE / bit-packing hybrid of the Parquet spec (definition levels, dictionary indices,
 * booleans), decoded into a typed array of exactly the expected length.
 *
 *   run := varint header, then
 *     header & 1 == 0: an RLE run of (header >> 1) copies of one value (ceil(width / 8) bytes, LE)
 *     header & 1 == 1: (header >> 1) groups of 8 values, bit-packed LSB first, width bits each
 *
 * Written here rather than taken from hyparquet because the counts come from the file: a run
 * claiming two billion values must not become two billion writes or a two-billion-entry array.
 * Runs are clipped to the output, every byte read is bounds-checked against [start, end), and a
 * run that is cut short by the end of its data is an error naming how far it got.
 */

import { TesseraError } from "../../errors.js";

/**
 * Decode `out.length` values of `bitWidth` bits from bytes[start, end) into `out`. Returns the
 * position after the last run read.
 */
export function decodeHybrid(bytes: Uint8Array, start: number, end: number, bitWidth: number, out: Uint8Array | Int32Array, what: string): number {
  if (bitWidth < 0 || bitWidth > 32) throw new TesseraError(`${what}: bit width ${bitWidth} is out of range (0 to 32)`);
  const n = out.length;
  if (end > bytes.length) end = bytes.length;
  let pos = start;
  let i = 0;
  const byteWidth = (bitWidth + 7) >> 3;
  while (i < n) {
    if (pos >= end) throw new TesseraError(`${what}: the encoded data ends after ${i} of ${n} values`);
    let header = 0;
    let scale = 1;
    for (;;) {
      if (pos >= end) throw new TesseraError(`${what}: a run header is cut off after ${i} of ${n} values`);
      const b = bytes[pos++]!;
      header += (b & 0x7f) * scale;
      if (!(b & 0x80)) break;
      scale *= 128;
      if (scale > 2 ** 35) throw new TesseraError(`${what}: a run header is longer than 5 bytes (corrupt data)`);
    }
    const count = Math.floor(header / 2);
    if (header % 2 === 0) {
      if (pos + byteWidth > end) throw new TesseraError(`${what}: an RLE run's value is cut off after ${i} of ${n} values`);
      let value = 0;
      for (let k = 0; k < byteWidth; k++) value += bytes[pos + k]! * 2 ** (8 * k);
      pos += byteWidth;
      const take = Math.min(count, n - i);
      out.fill(value | 0, i, i + take);
      i += take;
    } else {
      const values = count * 8;
      const take = Math.min(values, n - i);
      const need = Math.ceil((take * bitWidth) / 8);
      if (pos + need > end) throw new TesseraError(`${what}: a bit-packed run is cut off after ${i} of ${n} values`);
      unpack(bytes, pos, bitWidth, out, i, take);
      i += take;
      pos = Math.min(end, pos + count * bitWidth);
    }
  }
  return pos;
}

/**
 * Definition levels of a column whose maximum level is 1 (a flat OPTIONAL column), from the
 * hybrid encoding (bit width 1): `defs` has 1 where a row has a value, and is null (nothing
 * allocated) when every row has one, which is the common case of a column without nulls written
 * as one RLE run or as bit-packed runs of all ones. `nonNull` counts the rows with a value.
 */
export function decodeDefinitionLevels(bytes: Uint8Array, start: number, end: number, n: number, what: string): { defs: Uint8Array | null; nonNull: number } {
  if (end > bytes.length) end = bytes.length;
  let defs: Uint8Array | null = null;
  const materialize = (upTo: number): Uint8Array => {
    const d = new Uint8Array(n);
    d.fill(1, 0, upTo);
    return d;
  };
  let pos = start;
  let i = 0;
  let nonNull = 0;
  while (i < n) {
    if (pos >= end) throw new TesseraError(`${what}: the encoded data ends after ${i} of ${n} values`);
    let header = 0;
    let scale = 1;
    for (;;) {
      if (pos >= end) throw new TesseraError(`${what}: a run header is cut off after ${i} of ${n} values`);
      const b = bytes[pos++]!;
      header += (b & 0x7f) * scale;
      if (!(b & 0x80)) break;
      scale *= 128;
      if (scale > 2 ** 35) throw new TesseraError(`${what}: a run header is longer than 5 bytes (corrupt data)`);
    }
    const count = Math.floor(header / 2);
    if (header % 2 === 0) {
      if (pos >= end) throw new TesseraError(`${what}: an RLE run's value is cut off after ${i} of ${n} values`);
      const value = bytes[pos++]!;
      if (value > 1) throw new TesseraError(`definition level ${value} is above the column's maximum of 1`);
      const take = Math.min(count, n - i);
      if (value === 1) {
        nonNull += take;
        if (defs) defs.fill(1, i, i + take);
      } else if (take > 0) defs ??= materialize(i); // zeros: nulls
      i += take;
    } else {
      const take = Math.min(count * 8, n - i);
      const need = (take + 7) >> 3;
      if (pos + need > end) throw new TesseraError(`${what}: a bit-packed run is cut off after ${i} of ${n} values`);
      const full = take >> 3;
      let ones = true;
      for (let k = 0; k < full && ones; k++) ones = bytes[pos + k] === 0xff;
      const rest = take & 7;
      if (ones && rest) ones = (bytes[pos + full]! & ((1 << rest) - 1)) === (1 << rest) - 1;
      if (ones) {
        nonNull += take;
        if (defs) defs.fill(1, i, i + take);
      } else {
        defs ??= materialize(i);
        for (let k = 0; k < take; k++) {
          const bit = (bytes[pos + (k >> 3)]! >> (k & 7)) & 1;
          defs[i + k] = bit;
          nonNull += bit;
        }
      }
      i += take;
      pos = Math.min(end, pos + count);
    }
  }
  return { defs: nonNull === n ? null : defs, nonNull };
}

/** `count` values of `width` bits, LSB first, from bytes at `pos`, into out[at...]. */
function unpack(bytes: Uint8Array, pos: number, width: number, out: Uint8Array | Int32Array, at: number, count: number): void {
  if (width === 0) {
    out.fill(0, at, at + count);
    return;
  }
  if (width <= 24) {
    const mask = (1 << width) - 1;
    // Fast path: each value from the 4 bytes that hold it (bit offset <= 7, + width <= 31 bits),
    // while those 4 bytes are inside the buffer. Bytes past the run only feed masked-off bits.
    let bit = pos * 8;
    const last = bytes.length - 4;
    let k = 0;
    if (width <= 16) {
      // 3 bytes hold any value of up to 16 bits (offset <= 7 + 16 <= 24 bits).
      for (; k < count; k++) {
        const p = bit >>> 3;
        if (p > last) break;
        const v = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16);
        out[at + k] = (v >>> (bit & 7)) & mask;
        bit += width;
      }
    } else {
      for (; k < count; k++) {
        const p = bit >>> 3;
        if (p > last) break;
        const v = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
        out[at + k] = (v >>> (bit & 7)) & mask;
        bit += width;
      }
    }
    if (k === count) return;
    // The last few values of the buffer: bit by bit from here.
    pos = bit >>> 3;
    let acc = bytes[pos++]! >>> (bit & 7);
    let bits = 8 - (bit & 7);
    for (; k < count; k++) {
      while (bits < width) {
        acc |= bytes[pos++]! << bits;
        bits += 8;
      }
      out[at + k] = acc & mask;
      acc >>>= width;
      bits -= width;
    }
    return;
  }
  // 25 to 32 bits: float arithmetic keeps up to 53 bits exact.
  const base = 2 ** width;
  let acc = 0;
  let scale = 1;
  for (let k = 0; k < count; k++) {
    while (scale < base) {
      acc += bytes[pos++]! * scale;
      scale *= 256;
    }
    out[at + k] = acc % base | 0;
    acc = Math.floor(acc / base);
    scale /= base;
  }
}

/** The deprecated BIT_PACKED level encoding: `out.length` values, MSB first, no run headers. */
export function decodeBitPackedLevels(bytes: Uint8Array, start: number, end: number, bitWidth: number, out: Uint8Array, what: string): number {
  const need = Math.ceil((out.length * bitWidth) / 8);
  if (start + need > end) throw new TesseraError(`${what}: BIT_PACKED levels need ${need} bytes, the page has ${end - start}`);
  for (let k = 0; k < out.length; k++) {
    let v = 0;
    for (let b = 0; b < bitWidth; b++) {
      const bit = k * bitWidth + b;
      v = (v << 1) | ((bytes[start + (bit >> 3)]! >> (7 - (bit & 7))) & 1);
    }
    out[k] = v;
  }
  return start + need;
}
