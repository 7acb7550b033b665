/**
 * Sorting support: a stable LSD radix sort of (u32 key, i32 row) pairs, and the transforms
 * that turn column values into u32 words whose unsigned order is the value order.
 *
 * The host sorts a frame by several columns, least significant first: for each column (last
 * `by` first) and each 32-bit part of it (low part first), it gathers the column's words in the
 * current row order and sorts the pairs. Stability makes the earlier passes the tie-breakers.
 *
 * radixSortPairs sorts by 11-bit digits (3 passes); the three histograms come from one read,
 * and a pass whose digit is the same for every row is skipped (small-range keys cost 1 pass).
 *
 * sortWords: ints are biased (x ^ sign bit), floats map to their IEEE order (negatives
 * inverted), 64-bit values give a low (part 0) and a high (part 1) word. Null and NaN rows get
 * word 0: the host orders them by a separate null-flag pass, and equal words keep row order.
 * `desc` inverts the words of non-null rows.
 */

import { F64, F32, I32, U8, I8, I16, U16, U32 } from "./types";
import { I64, U64 } from "./hash";

const BITS = 11;
const RADIX = 1 << BITS;
const DIGIT_MASK: u32 = RADIX - 1;

/**
 * Sort n (key, row) pairs in place by key (stable). tmpK/tmpI: n-element scratch; hist: 3*RADIX
 * u32 scratch.
 */
export function radixSortPairs(keys: usize, rows: usize, n: i32, tmpK: usize, tmpI: usize, hist: usize): void {
  memory.fill(hist, 0, 3 * RADIX * 4);
  for (let i = 0; i < n; i++) {
    const k = load<u32>(keys + (<usize>i << 2));
    const h0 = hist + ((<usize>(k & DIGIT_MASK)) << 2);
    const h1 = hist + ((<usize>RADIX + <usize>((k >> BITS) & DIGIT_MASK)) << 2);
    const h2 = hist + ((<usize>(2 * RADIX) + <usize>(k >> (2 * BITS))) << 2);
    store<u32>(h0, load<u32>(h0) + 1);
    store<u32>(h1, load<u32>(h1) + 1);
    store<u32>(h2, load<u32>(h2) + 1);
  }
  let srcK = keys, srcI = rows, dstK = tmpK, dstI = tmpI;
  for (let pass = 0; pass < 3; pass++) {
    const h = hist + (<usize>(pass * RADIX) << 2);
    // Exclusive prefix sums; skip the pass when one digit holds every row.
    let sum: u32 = 0;
    let trivial = false;
    for (let d = 0; d < RADIX; d++) {
      const c = load<u32>(h + (<usize>d << 2));
      if (c == <u32>n) trivial = true;
      store<u32>(h + (<usize>d << 2), sum);
      sum += c;
    }
    if (trivial) continue;
    const shift = pass * BITS;
    for (let i = 0; i < n; i++) {
      const k = load<u32>(srcK + (<usize>i << 2));
      const slot = h + (<usize>((k >> shift) & DIGIT_MASK) << 2);
      const at = load<u32>(slot);
      store<u32>(slot, at + 1);
      store<u32>(dstK + (<usize>at << 2), k);
      store<i32>(dstI + (<usize>at << 2), load<i32>(srcI + (<usize>i << 2)));
    }
    const tk = srcK, ti = srcI;
    srcK = dstK;
    srcI = dstI;
    dstK = tk;
    dstI = ti;
  }
  if (srcK != keys) {
    memory.copy(keys, srcK, <usize>n << 2);
    memory.copy(rows, srcI, <usize>n << 2);
  }
}

/** dst[i] = src[rows[i]] for u32 words. */
export function gatherU32(src: usize, rows: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i++) {
    store<u32>(dst + (<usize>i << 2), load<u32>(src + (<usize>load<i32>(rows + (<usize>i << 2)) << 2)));
  }
}

// @ts-ignore: decorator
@inline function orderedF64(x: f64): u64 {
  const b = reinterpret<u64>(x + 0.0);
  return (b >> 63) != 0 ? ~b : b | 0x8000000000000000;
}

// @ts-ignore: decorator
@inline function orderedWord<T>(x: T, part: i32): u32 {
  if (isFloat<T>()) {
    const o = orderedF64(<f64>x);
    return part == 0 ? <u32>o : <u32>(o >> 32);
  }
  if (sizeof<T>() == 8) {
    const o = isSigned<T>() ? (<u64>x) ^ 0x8000000000000000 : <u64>x;
    return part == 0 ? <u32>o : <u32>(o >> 32);
  }
  if (isSigned<T>()) return (<u32>(<i32>x)) ^ 0x80000000;
  return <u32>x;
}

function wordsT<T>(src: usize, valid: usize, n: i32, part: i32, desc: bool, dst: usize): void {
  for (let i = 0; i < n; i++) {
    const x = load<T>(src + (<usize>i) * sizeof<T>());
    let w: u32;
    if ((valid != 0 && load<u8>(valid + i) == 0) || (isFloat<T>() && x != x)) w = 0;
    else {
      w = orderedWord<T>(x, part);
      if (desc) w = ~w;
    }
    store<u32>(dst + (<usize>i << 2), w);
  }
}

/** Sort words of n values of type t (part 0: low / only word; part 1: high word of 64 bits). */
export function sortWords(t: i32, src: usize, valid: usize, n: i32, part: i32, desc: bool, dst: usize): void {
  switch (t) {
    case F64: wordsT<f64>(src, valid, n, part, desc, dst); break;
    case F32: wordsT<f32>(src, valid, n, part, desc, dst); break;
    case I32: wordsT<i32>(src, valid, n, part, desc, dst); break;
    case U8: wordsT<u8>(src, valid, n, part, desc, dst); break;
    case I8: wordsT<i8>(src, valid, n, part, desc, dst); break;
    case I16: wordsT<i16>(src, valid, n, part, desc, dst); break;
    case U16: wordsT<u16>(src, valid, n, part, desc, dst); break;
    case U32: wordsT<u32>(src, valid, n, part, desc, dst); break;
    case I64: wordsT<i64>(src, valid, n, part, desc, dst); break;
    case U64: wordsT<u64>(src, valid, n, part, desc, dst); break;
    default: unreachable();
  }
}

function nullFlagsT<T>(src: usize, valid: usize, n: i32, nullWord: u32, dst: usize): i32 {
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const x = load<T>(src + (<usize>i) * sizeof<T>());
    const isNull = (valid != 0 && load<u8>(valid + i) == 0) || (isFloat<T>() && x != x);
    store<u32>(dst + (<usize>i << 2), isNull ? nullWord : 1 - nullWord);
    if (isNull) nulls++;
  }
  return nulls;
}

/** dst[i] = nullWord for null/NaN rows, 1 - nullWord otherwise; returns the number of nulls. */
export function nullFlags(t: i32, src: usize, valid: usize, n: i32, nullWord: u32, dst: usize): i32 {
  if (t == F64) return nullFlagsT<f64>(src, valid, n, nullWord, dst);
  if (t == F32) return nullFlagsT<f32>(src, valid, n, nullWord, dst);
  return nullFlagsT<u8>(src, 0 + valid, n, nullWord, dst);
}
