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

/** `count` values of `width` bits, LSB first, from bytes at `pos`, into out[at...]. */
function unpack(bytes: Uint8Array, pos: number, width: number, out: Uint8Array | Int32Array, at: number, count: number): void {
  if (width === 0) {
    out.fill(0, at, at + count);
    return;
  }
  if (width <= 24) {
    const mask = (1 << width) - 1;
    let acc = 0;
    let bits = 0;
    for (let k = 0; k < count; k++) {
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
