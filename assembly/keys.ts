/**
 * Key values as u64 words: packing key columns into the rows word-mode group tables read
 * (hash.ts), unpacking the distinct keys back, and the value hashes of shuffles.
 *
 * Words: integers sign- or zero-extended to 64 bits, floats as the bits of the f64 value with
 * -0 made +0; null and NaN keys become word 0 plus a bit in the row's null-mask word, or a skip
 * flag when null keys are dropped.
 *
 * Value hashes (hashColumn, hashCodes) depend only on values, never on a partition's dictionary
 * or a column's width: an int32 5, an int64 5 and a float 5.0 hash alike, -0 as 0, and NaN as
 * null, so equal keys of different partitions or frames meet in one shuffle output.
 */

import { F64, F32, I32, U8, I8, I16, U16, U32 } from "./types";
import { I64, U64, fmix64 } from "./hash";

const NULL_HASH: u64 = 0x6a09e667f3bcc908;

/** Element i of a column of type t as a u64 key word (ints widened, floats as f64 bits). */
// @ts-ignore: decorator
@inline function word<T>(src: usize, i: i32, asFloat: bool): u64 {
  const x = load<T>(src + (<usize>i) * sizeof<T>());
  if (isFloat<T>() || asFloat) return reinterpret<u64>(<f64>x + 0.0); // -0 + 0 = +0
  if (isSigned<T>()) return <u64>(<i64>x);
  return <u64>x;
}

// @ts-ignore: decorator
@inline function isNull<T>(src: usize, valid: usize, i: i32): bool {
  if (valid != 0 && load<u8>(valid + i) == 0) return true;
  if (isFloat<T>()) {
    const x = load<T>(src + (<usize>i) * sizeof<T>());
    return x != x;
  }
  return false;
}

function packT<T>(src: usize, valid: usize, n: i32, dst: usize, w: i32, j: i32, maskWord: i32, bit: u64, skip: usize, asFloat: bool): void {
  const rowBytes = <usize>w << 3;
  for (let i = 0; i < n; i++) {
    const row = dst + (<usize>i) * rowBytes;
    if (isNull<T>(src, valid, i)) {
      store<u64>(row + (<usize>j << 3), 0);
      if (maskWord >= 0) {
        const m = row + (<usize>maskWord << 3);
        store<u64>(m, load<u64>(m) | bit);
      } else store<u8>(skip + i, 1);
    } else store<u64>(row + (<usize>j << 3), word<T>(src, i, asFloat));
  }
}

/**
 * Write column j of n packed key rows: nulls (and NaN) become word 0 plus `bit` in the mask word
 * (maskWord >= 0), or skip[i] = 1 (maskWord < 0). The host zeroes mask words and skip first.
 * asFloat: write integers as f64 bits (to compare with a float key of another frame).
 */
export function packKeys(t: i32, src: usize, valid: usize, n: i32, dst: usize, w: i32, j: i32, maskWord: i32, bit: u64, skip: usize, asFloat: bool): void {
  switch (t) {
    case F64: packT<f64>(src, valid, n, dst, w, j, maskWord, bit, skip, asFloat); break;
    case F32: packT<f32>(src, valid, n, dst, w, j, maskWord, bit, skip, asFloat); break;
    case I32: packT<i32>(src, valid, n, dst, w, j, maskWord, bit, skip, asFloat); break;
    case U8: packT<u8>(src, valid, n, dst, w, j, maskWord, bit, skip, asFloat); break;
    case I8: packT<i8>(src, valid, n, dst, w, j, maskWord, bit, skip, asFloat); break;
    case I16: packT<i16>(src, valid, n, dst, w, j, maskWord, bit, skip, asFloat); break;
    case U16: packT<u16>(src, valid, n, dst, w, j, maskWord, bit, skip, asFloat); break;
    case U32: packT<u32>(src, valid, n, dst, w, j, maskWord, bit, skip, asFloat); break;
    case I64: packT<i64>(src, valid, n, dst, w, j, maskWord, bit, skip, asFloat); break;
    case U64: packT<u64>(src, valid, n, dst, w, j, maskWord, bit, skip, asFloat); break;
    default: unreachable();
  }
}

function unpackT<T>(words: usize, w: i32, j: i32, n: i32, dst: usize): void {
  for (let g = 0; g < n; g++) {
    const x = load<u64>(words + ((<usize>g * <usize>w + <usize>j) << 3));
    if (isFloat<T>()) store<T>(dst + (<usize>g) * sizeof<T>(), <T>reinterpret<f64>(x));
    else store<T>(dst + (<usize>g) * sizeof<T>(), <T>x);
  }
}

/** Column j of n packed key rows back into values of type t (the inverse of packKeys). */
export function unpackKeys(t: i32, words: usize, w: i32, j: i32, n: i32, dst: usize): void {
  switch (t) {
    case F64: unpackT<f64>(words, w, j, n, dst); break;
    case F32: unpackT<f32>(words, w, j, n, dst); break;
    case I32: unpackT<i32>(words, w, j, n, dst); break;
    case U8: unpackT<u8>(words, w, j, n, dst); break;
    case I8: unpackT<i8>(words, w, j, n, dst); break;
    case I16: unpackT<i16>(words, w, j, n, dst); break;
    case U16: unpackT<u16>(words, w, j, n, dst); break;
    case U32: unpackT<u32>(words, w, j, n, dst); break;
    case I64: unpackT<i64>(words, w, j, n, dst); break;
    case U64: unpackT<u64>(words, w, j, n, dst); break;
    default: unreachable();
  }
}

/** valid[g] = 1 unless `bit` is set in mask word `maskWord` of packed row g. */
export function unpackValid(words: usize, w: i32, maskWord: i32, bit: u64, n: i32, valid: usize): void {
  for (let g = 0; g < n; g++) {
    const m = load<u64>(words + ((<usize>g * <usize>w + <usize>maskWord) << 3));
    store<u8>(valid + g, (m & bit) == 0 ? 1 : 0);
  }
}

// @ts-ignore: decorator
@inline function valueHash<T>(src: usize, valid: usize, i: i32): u64 {
  if (isNull<T>(src, valid, i)) return NULL_HASH;
  const x = load<T>(src + (<usize>i) * sizeof<T>());
  if (isFloat<T>()) {
    const f = <f64>x;
    // Integral floats hash as the integer (2^63 is outside i64: its bits are hashed instead).
    if (f == Math.trunc(f) && abs(f) < 9223372036854775808.0) return fmix64(<u64>(<i64>f));
    return fmix64(reinterpret<u64>(f));
  }
  if (isSigned<T>()) return fmix64(<u64>(<i64>x));
  return fmix64(<u64>x);
}

// @ts-ignore: decorator
@inline function mixInto(h: usize, i: i32, v: u64, first: bool): void {
  const p = h + (<usize>i << 2);
  const v32 = <u32>(v >> 32);
  if (first) store<u32>(p, v32);
  else {
    const a = load<u32>(p);
    store<u32>(p, <u32>(fmix64((<u64>a << 32) ^ <u64>v32 ^ 0x9e3779b97f4a7c15) >> 32));
  }
}

function hashT<T>(src: usize, valid: usize, n: i32, h: usize, first: bool): void {
  for (let i = 0; i < n; i++) mixInto(h, i, valueHash<T>(src, valid, i), first);
}

/** h[i] = hash of value i (first) or h[i] combined with it: the row hash of several columns. */
export function hashColumn(t: i32, src: usize, valid: usize, n: i32, h: usize, first: bool): void {
  switch (t) {
    case F64: hashT<f64>(src, valid, n, h, first); break;
    case F32: hashT<f32>(src, valid, n, h, first); break;
    case I32: hashT<i32>(src, valid, n, h, first); break;
    case U8: hashT<u8>(src, valid, n, h, first); break;
    case I8: hashT<i8>(src, valid, n, h, first); break;
    case I16: hashT<i16>(src, valid, n, h, first); break;
    case U16: hashT<u16>(src, valid, n, h, first); break;
    case U32: hashT<u32>(src, valid, n, h, first); break;
    case I64: hashT<i64>(src, valid, n, h, first); break;
    case U64: hashT<u64>(src, valid, n, h, first); break;
    default: unreachable();
  }
}

/** Like hashColumn for dictionary codes: dictHash[code] is the (64-bit) hash of the string. */
export function hashCodes(codes: usize, valid: usize, n: i32, dictHash: usize, h: usize, first: bool): void {
  for (let i = 0; i < n; i++) {
    const v = valid != 0 && load<u8>(valid + i) == 0 ? NULL_HASH : load<u64>(dictHash + (<usize>load<i32>(codes + (<usize>i << 2)) << 3));
    mixInto(h, i, v, first);
  }
}

/** out[i] = partition of row hash h[i] among np (multiply-shift over a remixed hash). */
export function partitionIds(h: usize, n: i32, np: i32, out: usize): void {
  for (let i = 0; i < n; i++) {
    const x = <u32>(fmix64(<u64>load<u32>(h + (<usize>i << 2))) >> 32);
    store<i32>(out + (<usize>i << 2), <i32>((<u64>x * <u64>np) >> 32));
  }
}
