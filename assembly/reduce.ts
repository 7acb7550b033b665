/**
 * Reductions over f64 lanes: every dtype is widened to f64 on load (exact for all dtypes here),
 * so one accumulator type serves all and integer sums are exact up to 2^53.
 *
 * State record: 4 f64 at `s`, combinable across tiles, chunks and workers:
 *
 *   kind            s[0]    s[1]    s[2]     how two states combine (src/kernels/reduce.ts)
 *   SUM             count   sum     comp     Neumaier-compensated sum of sums
 *   PROD            count   prod    -        product
 *   MIN, MAX        count   value   -        min/max, NaN propagates (like numpy)
 *   ARGMIN, ARGMAX  count   value   index    strictly better wins, else the earlier one
 *   VAR             count   mean    M2       Chan et al.'s parallel update (stable for 1e9+noise)
 *   ANY, ALL        count   flag    -        or / and
 *
 * A contiguous run is reduced a tile (TILE elements) at a time: the tile's partial (SIMD, four
 * f64x2 accumulators; for VAR a two-pass mean/M2 while the tile is in L1) is folded into the
 * state. That is also what the program interpreter does after the elementwise part of a tile.
 */

import { TILE, loadF64x2, loadF64, isNaNf, F64, F32, I32, U8, I8, I16, U16, U32 } from "./types";

export const R_SUM: i32 = 0;
export const R_PROD: i32 = 1;
export const R_MIN: i32 = 2;
export const R_MAX: i32 = 3;
export const R_ARGMIN: i32 = 4;
export const R_ARGMAX: i32 = 5;
export const R_VAR: i32 = 6;
export const R_ANY: i32 = 7;
export const R_ALL: i32 = 8;

// @ts-ignore: decorator
@inline function lanes(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

// @ts-ignore: decorator
@inline function sumRange<T>(p: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    a0 = f64x2.add(a0, loadF64x2<T>(p, i));
    a1 = f64x2.add(a1, loadF64x2<T>(p, i + 2));
    a2 = f64x2.add(a2, loadF64x2<T>(p, i + 4));
    a3 = f64x2.add(a3, loadF64x2<T>(p, i + 6));
  }
  for (; i + 2 <= n; i += 2) a0 = f64x2.add(a0, loadF64x2<T>(p, i));
  let s = lanes(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)));
  if (i < n) s += loadF64<T>(p, i);
  return s;
}

// @ts-ignore: decorator
@inline function prodRange<T>(p: usize, n: i32): f64 {
  let a0 = f64x2.splat(1), a1 = f64x2.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 = f64x2.mul(a0, loadF64x2<T>(p, i));
    a1 = f64x2.mul(a1, loadF64x2<T>(p, i + 2));
  }
  for (; i + 2 <= n; i += 2) a0 = f64x2.mul(a0, loadF64x2<T>(p, i));
  const v = f64x2.mul(a0, a1);
  let r = f64x2.extract_lane(v, 0) * f64x2.extract_lane(v, 1);
  if (i < n) r *= loadF64<T>(p, i);
  return r;
}

/** min (isMax false) or max over n >= 1 elements; NaN wins (f64x2.min/max propagate it). */
// @ts-ignore: decorator
@inline function extremeRange<T>(p: usize, n: i32, isMax: bool): f64 {
  const init = isMax ? -Infinity : Infinity;
  let a0 = f64x2.splat(init), a1 = f64x2.splat(init);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    if (isMax) {
      a0 = f64x2.max(a0, loadF64x2<T>(p, i));
      a1 = f64x2.max(a1, loadF64x2<T>(p, i + 2));
    } else {
      a0 = f64x2.min(a0, loadF64x2<T>(p, i));
      a1 = f64x2.min(a1, loadF64x2<T>(p, i + 2));
    }
  }
  const v = isMax ? f64x2.max(a0, a1) : f64x2.min(a0, a1);
  let r = isMax ? max(f64x2.extract_lane(v, 0), f64x2.extract_lane(v, 1)) : min(f64x2.extract_lane(v, 0), f64x2.extract_lane(v, 1));
  for (; i < n; i++) r = isMax ? max(r, loadF64<T>(p, i)) : min(r, loadF64<T>(p, i));
  return r;
}

/** Count of nonzero elements (NaN counts as nonzero, as bool(nan) is True). */
// @ts-ignore: decorator
@inline function nonzeroRange<T>(p: usize, n: i32): i32 {
  let c = 0;
  const zero = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) c += popcnt(i64x2.bitmask(f64x2.ne(loadF64x2<T>(p, i), zero)));
  if (i < n && loadF64<T>(p, i) != 0) c++;
  return c;
}

/** Is `x` strictly better than `best` for argmin/argmax? NaN beats any number (numpy). */
// @ts-ignore: decorator
@inline export function better(x: f64, best: f64, isMax: bool): bool {
  if (isNaNf(best)) return false;
  if (isNaNf(x)) return true;
  return isMax ? x > best : x < best;
}

/** Fold n elements at p (global index of p[0] = index0) into the state at s. */
export function reduceTile<T>(kind: i32, p: usize, n: i32, s: usize, index0: f64): void {
  if (n <= 0) return;
  const count = load<f64>(s);
  const nf = <f64>n;
  store<f64>(s, count + nf);
  if (kind == R_SUM) {
    const x = sumRange<T>(p, n);
    const sum = load<f64>(s, 8);
    const t = sum + x;
    // Neumaier: keep the low-order bits lost by each tile's addition.
    const c = abs(sum) >= abs(x) ? sum - t + x : x - t + sum;
    store<f64>(s, t, 8);
    store<f64>(s, load<f64>(s, 16) + c, 16);
  } else if (kind == R_PROD) {
    store<f64>(s, load<f64>(s, 8) * prodRange<T>(p, n), 8);
  } else if (kind == R_MIN || kind == R_MAX) {
    const isMax = kind == R_MAX;
    // Literal flags, so each call gets a loop with only min or only max in it.
    const m = isMax ? extremeRange<T>(p, n, true) : extremeRange<T>(p, n, false);
    const v = count == 0 ? m : isMax ? max(load<f64>(s, 8), m) : min(load<f64>(s, 8), m);
    store<f64>(s, v, 8);
  } else if (kind == R_ARGMIN || kind == R_ARGMAX) {
    const isMax = kind == R_ARGMAX;
    const m = isMax ? extremeRange<T>(p, n, true) : extremeRange<T>(p, n, false);
    if (count == 0 || better(m, load<f64>(s, 8), isMax)) {
      // The tile holds a new best: its first occurrence is the answer so far.
      let j = 0;
      if (isNaNf(m)) while (!isNaNf(loadF64<T>(p, j))) j++;
      else while (loadF64<T>(p, j) != m) j++;
      store<f64>(s, m, 8);
      store<f64>(s, index0 + <f64>j, 16);
    }
  } else if (kind == R_VAR) {
    // Tile mean, then M2 about it with the corrected two-pass formula
    // (sum d^2 - (sum d)^2 / n absorbs the rounding of the mean).
    const mt = sumRange<T>(p, n) / nf;
    const mv = f64x2.splat(mt);
    let sd = f64x2.splat(0), sq = f64x2.splat(0);
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const d = f64x2.sub(loadF64x2<T>(p, i), mv);
      sd = f64x2.add(sd, d);
      sq = f64x2.add(sq, f64x2.mul(d, d));
    }
    let sds = lanes(sd), sqs = lanes(sq);
    if (i < n) {
      const d = loadF64<T>(p, i) - mt;
      sds += d;
      sqs += d * d;
    }
    const m2t = sqs - (sds * sds) / nf;
    if (count == 0) {
      store<f64>(s, mt, 8);
      store<f64>(s, m2t, 16);
    } else {
      const mean = load<f64>(s, 8), m2 = load<f64>(s, 16);
      const total = count + nf;
      const delta = mt - mean;
      store<f64>(s, mean + (delta * nf) / total, 8);
      store<f64>(s, m2 + m2t + ((delta * delta) * count * nf) / total, 16);
    }
  } else if (kind == R_ANY) {
    if (nonzeroRange<T>(p, n) > 0) store<f64>(s, 1, 8);
  } else if (kind == R_ALL) {
    if (nonzeroRange<T>(p, n) < n) store<f64>(s, 0, 8);
  } else unreachable();
}

/** Fold a contiguous run of any length, a tile at a time. */
export function reduceRun<T>(kind: i32, p: usize, n: i32, s: usize, index0: f64): void {
  for (let t = 0; t < n; t += TILE) {
    reduceTile<T>(kind, p + (<usize>t) * sizeof<T>(), min(TILE, n - t), s, index0 + <f64>t);
  }
}

/** Identity state for `kind` (count 0). */
export function initState(kind: i32, s: usize): void {
  store<f64>(s, 0);
  store<f64>(s, kind == R_PROD || kind == R_ALL ? 1 : 0, 8);
  store<f64>(s, 0, 16);
  store<f64>(s, 0, 24);
}

/** Dispatch on dtype code. */
export function reduceRunAny(t: i32, kind: i32, p: usize, n: i32, s: usize, index0: f64): void {
  switch (t) {
    case F64: reduceRun<f64>(kind, p, n, s, index0); break;
    case F32: reduceRun<f32>(kind, p, n, s, index0); break;
    case I32: reduceRun<i32>(kind, p, n, s, index0); break;
    case U8: reduceRun<u8>(kind, p, n, s, index0); break;
    case I8: reduceRun<i8>(kind, p, n, s, index0); break;
    case I16: reduceRun<i16>(kind, p, n, s, index0); break;
    case U16: reduceRun<u16>(kind, p, n, s, index0); break;
    case U32: reduceRun<u32>(kind, p, n, s, index0); break;
    default: unreachable();
  }
}

/** Reduce all n elements at p into the state at s (which the caller initialised). */
export function reduce(t: i32, kind: i32, p: usize, n: i32, s: usize, index0: f64): void {
  reduceRunAny(t, kind, p, n, s, index0);
}
