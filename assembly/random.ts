/**
 * Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as
 * easy as 1, 2, 3", SC'11). A value depends only on (seed, stream, element index), never on
 * which worker or in what order it was made, so chunk c of an array is the same anywhere.
 *
 * One Philox call maps a 128-bit counter and a 64-bit key to 4 random u32 words:
 *   key     = (seed lo32, seed hi32)
 *   counter = (block lo32, block hi32, stream, attempt)
 * where `block` derives from the element index as below and `attempt` is 0 except for the
 * rare rejections of `integers`.
 *
 *   uniform f64   2 per block: 53 bits = (w0 >> 5) * 2^26 + (w1 >> 6), times 2^-53, in [0, 1)
 *   uniform f32   4 per block: (w >> 8) * 2^-24, in [0, 1)
 *   normal        2 per block (Box-Muller on two 53-bit uniforms: r = sqrt(-2 ln(1 - u1)),
 *                 z = r cos(2 pi u2), r sin(2 pi u2)); f32 output is the f64 value rounded
 *   integers      1 per block: a 64-bit word (w0 << 32 | w1, else w2 << 32 | w3) mapped to
 *                 [0, range) by Lemire's multiply-and-reject (no modulo bias); if both words
 *                 are rejected (p < 2^-64 for range <= 2^32) the next attempt's block is used
 */

import { F64, F32, I32 } from "./types";

const M0: u64 = 0xd2511f53;
const M1: u64 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;
const TWO_PI: f64 = 6.283185307179586;
const INV53: f64 = 1.0 / 9007199254740992.0;

/**
 * Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1); the 4 words are written to
 * `w` (16 bytes of scratch), since AssemblyScript has no multi-value returns here.
 */
// @ts-ignore: decorator
@inline function philox(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32, w: usize): void {
  for (let r = 0; r < 10; r++) {
    const p0 = M0 * <u64>c0, p1 = M1 * <u64>c2;
    const n0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
    const n2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
    c0 = n0;
    c1 = <u32>p1;
    c2 = n2;
    c3 = <u32>p0;
    k0 += W0;
    k1 += W1;
  }
  store<u32>(w, c0);
  store<u32>(w, c1, 4);
  store<u32>(w, c2, 8);
  store<u32>(w, c3, 12);
}

// @ts-ignore: decorator
@inline function block(b: u64, stream: u32, attempt: u32, k0: u32, k1: u32, w: usize): void {
  philox(<u32>b, <u32>(b >> 32), stream, attempt, k0, k1, w);
}

// @ts-ignore: decorator
@inline function u53(hi: u32, lo: u32): f64 {
  return (<f64>(hi >>> 5) * 67108864.0 + <f64>(lo >>> 6)) * INV53;
}

// @ts-ignore: decorator
@inline function put(t: i32, out: usize, i: i32, v: f64): void {
  if (t == F64) store<f64>(out + (<usize>i) * 8, v);
  else if (t == F32) store<f32>(out + (<usize>i) * 4, <f32>v);
  else store<i32>(out + (<usize>i) * 4, <i32>v);
}

/** n uniforms in [0, 1) for elements start .. start+n-1 into out (F64 or F32). */
export function uniform(t: i32, out: usize, n: i32, k0: u32, k1: u32, stream: u32, start: f64, w: usize): void {
  const s = <u64>start;
  // Consecutive elements share a block: compute each block once.
  let last: u64 = u64.MAX_VALUE;
  for (let i = 0; i < n; i++) {
    const e = s + <u64>i;
    const b = t == F64 ? e >> 1 : e >> 2;
    if (b != last) {
      block(b, stream, 0, k0, k1, w);
      last = b;
    }
    if (t == F64) {
      const j = (<usize>(e & 1)) * 8;
      store<f64>(out + (<usize>i) * 8, u53(load<u32>(w + j), load<u32>(w + j, 4)));
    } else {
      const x = load<u32>(w + (<usize>(e & 3)) * 4);
      store<f32>(out + (<usize>i) * 4, <f32>(<f64>(x >>> 8) * 5.9604644775390625e-8));
    }
  }
}

/** n standard normals for elements start .. start+n-1 into out (F64 or F32). */
export function normal(t: i32, out: usize, n: i32, k0: u32, k1: u32, stream: u32, start: f64, w: usize): void {
  const s = <u64>start;
  let last: u64 = u64.MAX_VALUE;
  let r = 0.0, th = 0.0;
  for (let i = 0; i < n; i++) {
    const e = s + <u64>i;
    if (e >> 1 != last) {
      // One block gives a pair of normals: compute its radius and angle once.
      last = e >> 1;
      block(last, stream, 0, k0, k1, w);
      const u1 = u53(load<u32>(w), load<u32>(w, 4));
      const u2 = u53(load<u32>(w, 8), load<u32>(w, 12));
      r = Math.sqrt(-2.0 * Math.log(1.0 - u1));
      th = TWO_PI * u2;
    }
    put(t, out, i, (e & 1) == 0 ? r * Math.cos(th) : r * Math.sin(th));
  }
}

/** Lemire: x in [0, 2^64) to [0, range) or -1 when rejected. range in [1, 2^32]. */
// @ts-ignore: decorator
@inline function lemire(x: u64, range: u64): i64 {
  const p1 = (x & 0xffffffff) * range;
  const p2 = (x >> 32) * range;
  const lo = (p2 << 32) + p1;
  const hi = (p2 >> 32) + (((p2 & 0xffffffff) + (p1 >> 32)) >> 32);
  if (lo < range) {
    const threshold = (0 - range) % range;
    if (lo < threshold) return -1;
  }
  return <i64>hi;
}

/** n integers uniform in [low, low + range) into out (I32 or F64). range in [1, 2^32]. */
export function integers(t: i32, out: usize, n: i32, k0: u32, k1: u32, stream: u32, start: f64, low: f64, range: f64, w: usize): void {
  const s = <u64>start;
  const r = <u64>range;
  for (let i = 0; i < n; i++) {
    const e = s + <u64>i;
    let v: i64 = -1;
    for (let attempt: u32 = 0; v < 0; attempt++) {
      block(e, stream, attempt, k0, k1, w);
      v = lemire(((<u64>load<u32>(w)) << 32) | <u64>load<u32>(w, 4), r);
      if (v < 0) v = lemire(((<u64>load<u32>(w, 8)) << 32) | <u64>load<u32>(w, 12), r);
    }
    if (t == I32) store<i32>(out + (<usize>i) * 4, <i32>(<i64>low + v));
    else store<f64>(out + (<usize>i) * 8, low + <f64>v);
  }
}

/** The 4 raw Philox words of one counter, for tests against a reference implementation. */
export function philoxWords(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32, w: usize): void {
  philox(c0, c1, c2, c3, k0, k1, w);
}

