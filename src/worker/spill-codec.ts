/**
 * Spill compression, as Dask's spill-compression "auto" (lz4): each large buffer of a spilled
 * value is cut into blocks of BLOCK bytes; each block is byte-shuffled (Blosc: byte k of every
 * element grouped together, so the constant high bytes of small ints and the zero low bytes of
 * short floats become long runs) and LZ4-compressed (the block format, written here: no
 * dependency, and the decoder checks every length against both ends, so a corrupt block is an
 * error, never a write out of bounds).
 *
 * A compressed buffer on disk: its blocks back to back, each a u32 LE word (stored length; the
 * top bit set: the block is stored raw, unshuffled) and then its bytes. A buffer whose first
 * block saves less than 1/8 (random floats) is stored raw as a whole: the cost of trying is one
 * block.
 */

import { TesseraError } from "../errors.js";

/** Input bytes per block (a multiple of 8, so every element size divides it). */
export const BLOCK = 1 << 17;
/** Buffers smaller than this are stored raw: the saving would not pay for the work. */
export const MIN_COMPRESS = 1 << 12;
const RAW = 0x80000000;
const HASH_LOG = 14;

/** A spill file that does not read back as written (corrupt or truncated). */
export class SpillCorruptError extends TesseraError {
  override name = "SpillCorruptError";
}

// Scratch reused across blocks (spilling is synchronous; one worker, one thread).
const shuffled = new Uint8Array(BLOCK);
const packed = new Uint8Array(BLOCK + (BLOCK >>> 8) + 64);
const table = new Int32Array(1 << HASH_LOG);

/** The blocks of `bytes` compressed (words and payloads as parts), or undefined: store it raw. */
export function compressBuffer(bytes: Uint8Array, elem: number): { parts: Uint8Array[]; byteLength: number } | undefined {
  const n = bytes.byteLength;
  if (n < MIN_COMPRESS) return undefined;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let at = 0; at < n; at += BLOCK) {
    const len = Math.min(BLOCK, n - at);
    const src = bytes.subarray(at, at + len);
    shuffle(src, shuffled, elem);
    const c = lz4Compress(shuffled, len, packed);
    const word = new Uint8Array(4);
    const dv = new DataView(word.buffer);
    if (c > len - (len >>> 3)) {
      // Bail out early: a first block that does not compress says the buffer will not.
      if (at === 0) return undefined;
      dv.setUint32(0, (RAW | len) >>> 0, true);
      parts.push(word, src);
      total += 4 + len;
    } else {
      dv.setUint32(0, c, true);
      parts.push(word, packed.slice(0, c));
      total += 4 + c;
    }
  }
  if (total > n - (n >>> 3)) return undefined;
  return { parts, byteLength: total };
}

/** Reads `stored` bytes at `at` (blocks of a buffer of `out.byteLength` bytes) into `out`. */
export function decompressBuffer(read: (at: number, into: Uint8Array) => void, at: number, stored: number, out: Uint8Array, elem: number): void {
  const n = out.byteLength;
  const end = at + stored;
  const word = new Uint8Array(4);
  for (let o = 0; o < n; o += BLOCK) {
    const len = Math.min(BLOCK, n - o);
    if (at + 4 > end) throw new SpillCorruptError(`spill: compressed buffer ends early at byte ${at}`);
    read(at, word);
    const w = (word[0]! | (word[1]! << 8) | (word[2]! << 16) | (word[3]! << 24)) >>> 0;
    at += 4;
    const raw = (w & RAW) !== 0;
    const size = w & ~RAW;
    if (raw ? size !== len : size > packed.byteLength || size === 0) throw new SpillCorruptError(`spill: bad block length ${size} at byte ${at - 4}`);
    if (at + size > end) throw new SpillCorruptError(`spill: block at byte ${at - 4} runs past its buffer`);
    if (raw) {
      read(at, out.subarray(o, o + len));
    } else {
      const src = packed.subarray(0, size);
      read(at, src);
      const got = lz4Decompress(src, shuffled, len);
      if (got !== len) throw new SpillCorruptError(`spill: block at byte ${at - 4} is corrupt (${got < 0 ? "malformed LZ4" : `${got} bytes, not ${len}`})`);
      unshuffle(shuffled, out.subarray(o, o + len), elem);
    }
    at += size;
  }
  if (at !== end) throw new SpillCorruptError(`spill: compressed buffer has ${end - at} stray bytes at byte ${at}`);
}

/** Blosc's shuffle: dst[k*E + i] = src[i*s + k] for E whole elements; the tail as is. */
export function shuffle(src: Uint8Array, dst: Uint8Array, s: number): void {
  const len = src.byteLength;
  const e = Math.floor(len / s);
  if (s === 1 || e === 0) {
    dst.set(src);
    return;
  }
  // Whole words in, bytes out: one load per element (or two), not s (the views are aligned:
  // a typed array's offset is a multiple of its element size, and blocks of BLOCK bytes keep it).
  if (s === 2 && src.byteOffset % 2 === 0) {
    const w = new Uint16Array(src.buffer, src.byteOffset, e);
    for (let i = 0; i < e; i++) {
      const x = w[i]!;
      dst[i] = x;
      dst[e + i] = x >>> 8;
    }
  } else if ((s === 4 || s === 8) && src.byteOffset % 4 === 0) {
    const w = new Uint32Array(src.buffer, src.byteOffset, (e * s) >>> 2);
    const q = s >>> 2;
    for (let h = 0; h < q; h++) {
      const b0 = 4 * h * e;
      const b1 = b0 + e;
      const b2 = b1 + e;
      const b3 = b2 + e;
      for (let i = 0, j = h; i < e; i++, j += q) {
        const x = w[j]!;
        dst[b0 + i] = x;
        dst[b1 + i] = x >>> 8;
        dst[b2 + i] = x >>> 16;
        dst[b3 + i] = x >>> 24;
      }
    }
  } else {
    for (let k = 0; k < s; k++) {
      const base = k * e;
      for (let i = 0, j = k; i < e; i++, j += s) dst[base + i] = src[j]!;
    }
  }
  for (let j = e * s; j < len; j++) dst[j] = src[j]!;
}

export function unshuffle(src: Uint8Array, dst: Uint8Array, s: number): void {
  const len = dst.byteLength;
  const e = Math.floor(len / s);
  if (s === 1 || e === 0) {
    dst.set(src.subarray(0, len));
    return;
  }
  if (s === 2 && dst.byteOffset % 2 === 0) {
    const w = new Uint16Array(dst.buffer, dst.byteOffset, e);
    for (let i = 0; i < e; i++) w[i] = src[i]! | (src[e + i]! << 8);
  } else if ((s === 4 || s === 8) && dst.byteOffset % 4 === 0) {
    const w = new Uint32Array(dst.buffer, dst.byteOffset, (e * s) >>> 2);
    const q = s >>> 2;
    for (let h = 0; h < q; h++) {
      const b0 = 4 * h * e;
      const b1 = b0 + e;
      const b2 = b1 + e;
      const b3 = b2 + e;
      for (let i = 0, j = h; i < e; i++, j += q) w[j] = src[b0 + i]! | (src[b1 + i]! << 8) | (src[b2 + i]! << 16) | (src[b3 + i]! << 24);
    }
  } else {
    for (let k = 0; k < s; k++) {
      const base = k * e;
      for (let i = 0, j = k; i < e; i++, j += s) dst[j] = src[base + i]!;
    }
  }
  for (let j = e * s; j < len; j++) dst[j] = src[j]!;
}

function read32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/** LZ4 block format; `dst` must hold len + len/255 + 16 bytes. Returns the compressed length. */
export function lz4Compress(src: Uint8Array, len: number, dst: Uint8Array): number {
  let op = 0;
  let anchor = 0;
  if (len >= 13) {
    table.fill(0);
    const mflimit = len - 16;
    const matchlimit = len - 5;
    let ip = 0;
    for (;;) {
      // Find a match; the step grows while none is found, so incompressible bytes pass quickly.
      let ref = -1;
      let skip = 64;
      while (ip <= mflimit) {
        const seq = read32(src, ip);
        const h = Math.imul(seq, -1640531535) >>> (32 - HASH_LOG);
        ref = table[h]! - 1;
        table[h] = ip + 1;
        // 8 bytes must match, not LZ4's 4: short matches in a plane of near-random bytes
        // (an int's second byte) cost a sequence each and save next to nothing.
        if (ref >= 0 && ip - ref < 65536 && read32(src, ref) === seq && read32(src, ref + 4) === read32(src, ip + 4)) break;
        ref = -1;
        ip += skip++ >>> 6;
      }
      if (ref < 0) break;
      while (ip > anchor && ref > 0 && src[ip - 1] === src[ref - 1]) {
        ip--;
        ref--;
      }
      let m = ip + 8;
      let r = ref + 8;
      while (m < matchlimit && src[m] === src[r]) {
        m++;
        r++;
      }
      op = emit(dst, op, src, anchor, ip - anchor, ip - ref, m - ip - 4);
      ip = m;
      anchor = ip;
    }
  }
  // The last literals (LZ4 ends every block with at least 5 of them).
  const lit = len - anchor;
  let o = op;
  if (lit >= 15) {
    dst[o++] = 0xf0;
    let l = lit - 15;
    for (; l >= 255; l -= 255) dst[o++] = 255;
    dst[o++] = l;
  } else dst[o++] = lit << 4;
  dst.set(src.subarray(anchor, len), o);
  return o + lit;
}

function emit(dst: Uint8Array, op: number, src: Uint8Array, from: number, lit: number, offset: number, mlen: number): number {
  const tok = op++;
  let t = 0;
  if (lit >= 15) {
    t = 0xf0;
    let l = lit - 15;
    for (; l >= 255; l -= 255) dst[op++] = 255;
    dst[op++] = l;
  } else t = lit << 4;
  if (lit < 32) for (let i = 0; i < lit; i++) dst[op++] = src[from + i]!;
  else {
    dst.set(src.subarray(from, from + lit), op);
    op += lit;
  }
  dst[op++] = offset & 255;
  dst[op++] = offset >>> 8;
  if (mlen >= 15) {
    t |= 15;
    let l = mlen - 15;
    for (; l >= 255; l -= 255) dst[op++] = 255;
    dst[op++] = l;
  } else t |= mlen;
  dst[tok] = t;
  return op;
}

/** Decodes an LZ4 block into dst[0, cap); returns the bytes written, or -1 if the block is malformed. */
export function lz4Decompress(src: Uint8Array, dst: Uint8Array, cap: number): number {
  const end = src.byteLength;
  let ip = 0;
  let op = 0;
  for (;;) {
    if (ip >= end) return -1;
    const tok = src[ip++]!;
    let lit = tok >>> 4;
    if (lit === 15) {
      let b;
      do {
        if (ip >= end) return -1;
        b = src[ip++]!;
        lit += b;
      } while (b === 255);
    }
    if (ip + lit > end || op + lit > cap) return -1;
    if (lit < 32) for (let i = 0; i < lit; i++) dst[op++] = src[ip++]!;
    else {
      dst.set(src.subarray(ip, ip + lit), op);
      ip += lit;
      op += lit;
    }
    if (ip === end) return op;
    if (ip + 2 > end) return -1;
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op) return -1;
    let mlen = (tok & 15) + 4;
    if ((tok & 15) === 15) {
      let b;
      do {
        if (ip >= end) return -1;
        b = src[ip++]!;
        mlen += b;
      } while (b === 255);
    }
    if (op + mlen > cap) return -1;
    const from = op - offset;
    if (offset === 1) dst.fill(dst[from]!, op, op + mlen);
    else if (offset >= mlen && mlen >= 32) dst.copyWithin(op, from, from + mlen);
    else for (let i = 0; i < mlen; i++) dst[op + i] = dst[from + i]!;
    op += mlen;
  }
}
