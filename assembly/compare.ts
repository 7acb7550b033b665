/**
 * Comparisons (to u8 masks), logical ops on masks, `where`, and dtype casts.
 *
 * Masks are bool arrays: one u8 per element holding exactly 0 or 1, so they can be summed,
 * used by `where`, and copied out as a Uint8Array. A SIMD comparison yields all-ones lanes of
 * the operand width; the lanes are narrowed down to bytes and masked with 1.
 *
 * Casts follow C/numpy on x86 for in-range values. Out-of-range float -> int: truncation toward
 * zero saturating at the int32 range (uint32: at [0, 2^32-1]), NaN -> 0, then wrap to narrower
 * ints; int -> int wraps (keeps the low bits); f64 -> f32 rounds to nearest.
 */

export const EQ: i32 = 20;
export const NE: i32 = 21;
export const LT: i32 = 22;
export const LE: i32 = 23;
export const GT: i32 = 24;
export const GE: i32 = 25;
export const AND: i32 = 26;
export const OR: i32 = 27;
export const XOR: i32 = 28;
export const NOT: i32 = 29;

// @ts-ignore: decorator
@inline function at<T>(p: usize, i: i32): usize {
  return p + (<usize>i) * sizeof<T>();
}

// Comparison ops as type arguments, so each (dtype, op) pair gets its own loop (see the note
// on op classes in elementwise.ts).
@final class CmpEq {
  @inline v<T>(x: v128, y: v128): v128 { return v128.eq<T>(x, y); }
  @inline s<T>(x: T, y: T): bool { return x == y; }
}
@final class CmpNe {
  @inline v<T>(x: v128, y: v128): v128 { return v128.ne<T>(x, y); }
  @inline s<T>(x: T, y: T): bool { return x != y; }
}
@final class CmpLt {
  @inline v<T>(x: v128, y: v128): v128 { return v128.lt<T>(x, y); }
  @inline s<T>(x: T, y: T): bool { return x < y; }
}
@final class CmpLe {
  @inline v<T>(x: v128, y: v128): v128 { return v128.le<T>(x, y); }
  @inline s<T>(x: T, y: T): bool { return x <= y; }
}
@final class CmpGt {
  @inline v<T>(x: v128, y: v128): v128 { return v128.gt<T>(x, y); }
  @inline s<T>(x: T, y: T): bool { return x > y; }
}
@final class CmpGe {
  @inline v<T>(x: v128, y: v128): v128 { return v128.ge<T>(x, y); }
  @inline s<T>(x: T, y: T): bool { return x >= y; }
}

/** Masks of 4 8-byte elements at byte offset `off` as 4 i32 lanes. */
// @ts-ignore: decorator
@inline function pairs<T, O>(o: O, pa: usize, pb: usize, off: usize): v128 {
  const m0 = o.v<T>(v128.load(pa + off), v128.load(pb + off));
  const m1 = o.v<T>(v128.load(pa + off + 16), v128.load(pb + off + 16));
  return i8x16.shuffle(m0, m1, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
}

/** Mask of 16 consecutive elements starting at element i: one byte (all-ones or 0) each. */
// @ts-ignore: decorator
@inline function cmp16<T, O>(o: O, a: usize, b: usize, i: i32): v128 {
  const pa = at<T>(a, i), pb = at<T>(b, i);
  if (sizeof<T>() == 1) return o.v<T>(v128.load(pa), v128.load(pb));
  if (sizeof<T>() == 2) {
    const m0 = o.v<T>(v128.load(pa), v128.load(pb));
    const m1 = o.v<T>(v128.load(pa, 16), v128.load(pb, 16));
    return i8x16.narrow_i16x8_s(m0, m1);
  }
  if (sizeof<T>() == 4) {
    const m0 = o.v<T>(v128.load(pa), v128.load(pb));
    const m1 = o.v<T>(v128.load(pa, 16), v128.load(pb, 16));
    const m2 = o.v<T>(v128.load(pa, 32), v128.load(pb, 32));
    const m3 = o.v<T>(v128.load(pa, 48), v128.load(pb, 48));
    return i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
  }
  // 8-byte lanes: keep the low i32 of each i64 mask lane, pairwise, then narrow as above.
  const q0 = pairs<T, O>(o, pa, pb, 0), q1 = pairs<T, O>(o, pa, pb, 32);
  const q2 = pairs<T, O>(o, pa, pb, 64), q3 = pairs<T, O>(o, pa, pb, 96);
  return i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3));
}

function compareLoop<T, O>(d: usize, a: usize, b: usize, n: i32): void {
  const o = changetype<O>(0);
  const one = i8x16.splat(1);
  let i = 0;
  for (; i + 16 <= n; i += 16) v128.store(d + <usize>i, v128.and(cmp16<T, O>(o, a, b, i), one));
  for (; i < n; i++) store<u8>(d + <usize>i, <u8>o.s<T>(load<T>(at<T>(a, i)), load<T>(at<T>(b, i))));
}

/** d (u8 mask) = a (op) b, elements of type T. */
export function compareT<T>(op: i32, d: usize, a: usize, b: usize, n: i32): void {
  if (op == EQ) compareLoop<T, CmpEq>(d, a, b, n);
  else if (op == NE) compareLoop<T, CmpNe>(d, a, b, n);
  else if (op == LT) compareLoop<T, CmpLt>(d, a, b, n);
  else if (op == LE) compareLoop<T, CmpLe>(d, a, b, n);
  else if (op == GT) compareLoop<T, CmpGt>(d, a, b, n);
  else compareLoop<T, CmpGe>(d, a, b, n);
}

/** Logical ops on u8 masks (0/1). NOT ignores b. */
export function logical(op: i32, d: usize, a: usize, b: usize, n: i32): void {
  const one = i8x16.splat(1);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const x = v128.load(a + <usize>i);
    let r: v128;
    if (op == NOT) r = v128.xor(x, one);
    else {
      const y = v128.load(b + <usize>i);
      r = op == AND ? v128.and(x, y) : op == OR ? v128.or(x, y) : v128.xor(x, y);
    }
    v128.store(d + <usize>i, r);
  }
  for (; i < n; i++) {
    const x = load<u8>(a + <usize>i);
    let r: u8;
    if (op == NOT) r = x ^ 1;
    else {
      const y = load<u8>(b + <usize>i);
      r = op == AND ? x & y : op == OR ? x | y : x ^ y;
    }
    store<u8>(d + <usize>i, r);
  }
}

/**
 * d = c ? a : b with c a u8 mask (any nonzero is true). Only the element width matters, so
 * T is u8, u16, u32 or u64 and any dtype of that width goes through it bit for bit.
 */
export function whereT<T>(d: usize, c: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  const zero = i8x16.splat(0);
  if (sizeof<T>() >= 4) {
    // 8 elements per step: widen 8 mask bytes to 8 x i32 (and to i64 for 8-byte elements).
    for (; i + 8 <= n; i += 8) {
      const m16 = v128.not(i16x8.eq(v128.load8x8_u(c + <usize>i), zero));
      const lo = i32x4.extend_low_i16x8_s(m16), hi = i32x4.extend_high_i16x8_s(m16);
      const pa = at<T>(a, i), pb = at<T>(b, i), pd = at<T>(d, i);
      if (sizeof<T>() == 4) {
        v128.store(pd, v128.bitselect(v128.load(pa), v128.load(pb), lo));
        v128.store(pd, v128.bitselect(v128.load(pa, 16), v128.load(pb, 16), hi), 16);
      } else {
        v128.store(pd, v128.bitselect(v128.load(pa), v128.load(pb), i64x2.extend_low_i32x4_s(lo)));
        v128.store(pd, v128.bitselect(v128.load(pa, 16), v128.load(pb, 16), i64x2.extend_high_i32x4_s(lo)), 16);
        v128.store(pd, v128.bitselect(v128.load(pa, 32), v128.load(pb, 32), i64x2.extend_low_i32x4_s(hi)), 32);
        v128.store(pd, v128.bitselect(v128.load(pa, 48), v128.load(pb, 48), i64x2.extend_high_i32x4_s(hi)), 48);
      }
    }
  }
  for (; i < n; i++) {
    store<T>(at<T>(d, i), load<u8>(c + <usize>i) != 0 ? load<T>(at<T>(a, i)) : load<T>(at<T>(b, i)));
  }
}

/** One element converted from F to T (see the header for the out-of-range rules). */
// @ts-ignore: decorator
@inline function convert<F, T>(x: F): T {
  if (isFloat<F>() && isInteger<T>()) {
    if (sizeof<T>() == 4 && !isSigned<T>()) return <T>(<u32>x); // trunc_sat_u
    return <T>(<i32>x); // trunc_sat_s, then wrap to the width of T
  }
  return <T>x;
}

/** d (type T) = a (type F), converted. F == T copies. */
export function castT<F, T>(d: usize, a: usize, n: i32): void {
  if (isFloat<F>() && isFloat<T>() && sizeof<F>() == 8 && sizeof<T>() == 4) {
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const lo = f32x4.demote_f64x2_zero(v128.load(at<F>(a, i)));
      const hi = f32x4.demote_f64x2_zero(v128.load(at<F>(a, i), 16));
      v128.store(at<T>(d, i), i64x2.shuffle(lo, hi, 0, 2));
    }
    for (; i < n; i++) store<T>(at<T>(d, i), convert<F, T>(load<F>(at<F>(a, i))));
    return;
  }
  if (sizeof<F>() == sizeof<T>() && isFloat<F>() == isFloat<T>() && isSigned<F>() == isSigned<T>()) {
    memory.copy(d, a, (<usize>n) * sizeof<T>());
    return;
  }
  for (let i = 0; i < n; i++) store<T>(at<T>(d, i), convert<F, T>(load<F>(at<F>(a, i))));
}
