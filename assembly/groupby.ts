/**
 * Groupby state updates: given each row's group id (hash.ts), fold a value column into one
 * record per group. Records are host-allocated arrays of `stride` bytes per group; the host
 * keeps one spare record just before the first, which gid -1 (a dropped row) lands in, so the
 * loops have no branch for it. Values are skipped where `valid` is 0 or (floats) NaN, as pandas'
 * skipna does. Most blocks have neither: anyMissing finds that in one SIMD pass, and the
 * kernels then run without any test (counts come from group sizes minus aggMissing's counts).
 *
 *   kernel       record (bytes)                          update per ok row x
 *   aggSum       sum f64 (8) or sum, comp f64 (16)       plain (folded later by foldSums) or
 *                                                        Neumaier-compensated sum in f64
 *   aggMissing   missing f64 (8)                         += 1 per null/NaN row (count = size - it)
 *   aggSumI      sum i64 (8)                             wrapping i64 sum (exact for ints)
 *   aggVar       count f64, mean f64, M2 f64 (24)        Welford's update
 *   aggMinMax    count f64, min, max (24)                f64, or i64 / u64 for 64-bit ints
 *   aggFirstLast first i32, last i32 (8)                 row numbers (row0 + i), -1 = none
 *   aggSize      size f64 (8)                            every row, nulls included
 *
 * Combining partial states (the tree of groupby partials): combineSumF adds (sum, comp) pairs
 * into [sum, comp] records, combineVar merges (count, mean, M2) by Chan et al.'s update, addF64
 * adds counts; min/max/first/last re-run their kernels over the partial columns.
 * Type codes are those of types.ts plus I64 = 8, U64 = 9 (hash.ts).
 */

import { F64, F32, I32, U8, I8, I16, U16, U32 } from "./types";
import { I64, U64 } from "./hash";

// @ts-ignore: decorator
@inline function gidAt(gids: usize, i: i32): isize {
  return <isize>load<i32>(gids + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function valueAt<T>(vals: usize, i: i32): T {
  return load<T>(vals + (<usize>i) * sizeof<T>());
}

/** Row i is a value (not null, not NaN). */
// @ts-ignore: decorator
@inline function okAt<T>(vals: usize, valid: usize, i: i32, hasValid: bool): bool {
  let ok = true;
  if (isFloat<T>()) {
    const x = valueAt<T>(vals, i);
    ok = x == x;
  }
  if (hasValid) ok = ok & (load<u8>(valid + i) != 0);
  return ok;
}

/** Any null (valid 0) or NaN among n values: one SIMD pass, so clean blocks skip every check. */
export function anyMissing(t: i32, vals: usize, valid: usize, n: i32): bool {
  if (valid != 0) {
    let acc = i8x16.splat(0);
    let i = 0;
    for (; i + 16 <= n; i += 16) acc = v128.or(acc, i8x16.eq(v128.load(valid + i), i8x16.splat(0)));
    if (v128.any_true(acc)) return true;
    for (; i < n; i++) if (load<u8>(valid + i) == 0) return true;
  }
  if (t == F64) {
    let acc = f64x2.splat(0);
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const x = v128.load(vals + (<usize>i << 3));
      acc = v128.or(acc, f64x2.ne(x, x));
    }
    if (v128.any_true(acc)) return true;
    if (i < n) {
      const x = load<f64>(vals + (<usize>i << 3));
      return x != x;
    }
  } else if (t == F32) {
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const x = v128.load(vals + (<usize>i << 2));
      acc = v128.or(acc, f32x4.ne(x, x));
    }
    if (v128.any_true(acc)) return true;
    for (; i < n; i++) {
      const x = load<f32>(vals + (<usize>i << 2));
      if (x != x) return true;
    }
  }
  return false;
}

function missingT<T>(gids: usize, vals: usize, valid: usize, n: i32, missing: usize): void {
  for (let i = 0; i < n; i++) {
    const r = missing + <usize>(gidAt(gids, i) * 8);
    const ok = okAt<T>(vals, valid, i, valid != 0);
    store<f64>(r, load<f64>(r) + select<f64>(0, 1, ok));
  }
}

/** missing[g] += 1 for each null or NaN row (counts are the group size minus these). */
export function aggMissing(t: i32, gids: usize, vals: usize, valid: usize, n: i32, missing: usize): void {
  if (t == F64) missingT<f64>(gids, vals, valid, n, missing);
  else if (t == F32) missingT<f32>(gids, vals, valid, n, missing);
  else missingT<u8>(gids, vals, valid, n, missing);
}

// @ts-ignore: decorator
@inline function sumPlainT<T>(gids: usize, vals: usize, valid: usize, n: i32, acc: usize, check: bool): void {
  for (let i = 0; i < n; i++) {
    const r = acc + <usize>(gidAt(gids, i) * 8);
    let x = <f64>valueAt<T>(vals, i);
    if (check) x = select<f64>(x, 0, okAt<T>(vals, valid, i, valid != 0));
    store<f64>(r, load<f64>(r) + x);
  }
}

// @ts-ignore: decorator
@inline function sumCompT<T>(gids: usize, vals: usize, valid: usize, n: i32, rec: usize, check: bool): void {
  for (let i = 0; i < n; i++) {
    const r = rec + <usize>(gidAt(gids, i) * 16);
    let x = <f64>valueAt<T>(vals, i);
    if (check) x = select<f64>(x, 0, okAt<T>(vals, valid, i, valid != 0));
    const s = load<f64>(r);
    const t = s + x;
    store<f64>(r, t);
    store<f64>(r, load<f64>(r, 8) + (abs(s) >= abs(x) ? s - t + x : x - t + s), 8);
  }
}

function sumT<T>(gids: usize, vals: usize, valid: usize, n: i32, dst: usize, check: bool, comp: bool): void {
  if (comp) {
    if (check) sumCompT<T>(gids, vals, valid, n, dst, true);
    else sumCompT<T>(gids, vals, valid, n, dst, false);
  } else if (check) sumPlainT<T>(gids, vals, valid, n, dst, true);
  else sumPlainT<T>(gids, vals, valid, n, dst, false);
}

/**
 * Sums of the ok values per group in f64: comp false adds into plain accumulators acc[g] (8
 * bytes; the host folds them into a compensated state with foldSums every few blocks, so a
 * plain run stays short), comp true adds each value into [sum, comp] records (16 bytes) by
 * Neumaier's rule (many groups, where folding would cost more than it saves). check false:
 * the block has no null or NaN (anyMissing), nothing is tested.
 */
export function aggSum(t: i32, gids: usize, vals: usize, valid: usize, n: i32, dst: usize, check: bool, comp: bool): void {
  switch (t) {
    case F64: sumT<f64>(gids, vals, valid, n, dst, check, comp); break;
    case F32: sumT<f32>(gids, vals, valid, n, dst, check, comp); break;
    case I32: sumT<i32>(gids, vals, valid, n, dst, check, comp); break;
    case U8: sumT<u8>(gids, vals, valid, n, dst, check, comp); break;
    case I8: sumT<i8>(gids, vals, valid, n, dst, check, comp); break;
    case I16: sumT<i16>(gids, vals, valid, n, dst, check, comp); break;
    case U16: sumT<u16>(gids, vals, valid, n, dst, check, comp); break;
    case U32: sumT<u32>(gids, vals, valid, n, dst, check, comp); break;
    case I64: sumT<i64>(gids, vals, valid, n, dst, check, comp); break;
    case U64: sumT<u64>(gids, vals, valid, n, dst, check, comp); break;
    default: unreachable();
  }
}

/** Add accumulators acc[0..ng) into [sum, comp] records (Neumaier) and zero them. */
export function foldSums(acc: usize, rec: usize, ng: i32): void {
  for (let g = 0; g < ng; g++) {
    const a = acc + (<usize>g << 3);
    const r = rec + (<usize>g << 4);
    const x = load<f64>(a);
    const s = load<f64>(r);
    const t = s + x;
    store<f64>(r, t);
    store<f64>(r, load<f64>(r, 8) + (abs(s) >= abs(x) ? s - t + x : x - t + s), 8);
    store<f64>(a, 0);
  }
}

function sumI<T>(gids: usize, vals: usize, valid: usize, n: i32, rec: usize): void {
  for (let i = 0; i < n; i++) {
    const r = rec + <usize>(gidAt(gids, i) * 8);
    let x = <i64>valueAt<T>(vals, i);
    if (valid != 0 && load<u8>(valid + i) == 0) x = 0;
    store<i64>(r, load<i64>(r) + x);
  }
}

export function aggSumI(t: i32, gids: usize, vals: usize, valid: usize, n: i32, rec: usize): void {
  switch (t) {
    case I32: sumI<i32>(gids, vals, valid, n, rec); break;
    case U8: sumI<u8>(gids, vals, valid, n, rec); break;
    case I8: sumI<i8>(gids, vals, valid, n, rec); break;
    case I16: sumI<i16>(gids, vals, valid, n, rec); break;
    case U16: sumI<u16>(gids, vals, valid, n, rec); break;
    case U32: sumI<u32>(gids, vals, valid, n, rec); break;
    case I64: sumI<i64>(gids, vals, valid, n, rec); break;
    case U64: sumI<u64>(gids, vals, valid, n, rec); break;
    default: unreachable();
  }
}

function varT<T>(gids: usize, vals: usize, valid: usize, n: i32, rec: usize): void {
  for (let i = 0; i < n; i++) {
    if (!okAt<T>(vals, valid, i, valid != 0)) continue;
    const r = rec + <usize>(gidAt(gids, i) * 24);
    const x = <f64>valueAt<T>(vals, i);
    const c = load<f64>(r) + 1;
    const mean = load<f64>(r, 8);
    const d = x - mean;
    const next = mean + d / c;
    store<f64>(r, c);
    store<f64>(r, next, 8);
    store<f64>(r, load<f64>(r, 16) + d * (x - next), 16);
  }
}

export function aggVar(t: i32, gids: usize, vals: usize, valid: usize, n: i32, rec: usize): void {
  switch (t) {
    case F64: varT<f64>(gids, vals, valid, n, rec); break;
    case F32: varT<f32>(gids, vals, valid, n, rec); break;
    case I32: varT<i32>(gids, vals, valid, n, rec); break;
    case U8: varT<u8>(gids, vals, valid, n, rec); break;
    case I8: varT<i8>(gids, vals, valid, n, rec); break;
    case I16: varT<i16>(gids, vals, valid, n, rec); break;
    case U16: varT<u16>(gids, vals, valid, n, rec); break;
    case U32: varT<u32>(gids, vals, valid, n, rec); break;
    case I64: varT<i64>(gids, vals, valid, n, rec); break;
    case U64: varT<u64>(gids, vals, valid, n, rec); break;
    default: unreachable();
  }
}

/** Min and max in the record's own lane type L (f64 for every type up to 32 bits). */
function minMaxT<T, L>(gids: usize, vals: usize, valid: usize, n: i32, rec: usize): void {
  for (let i = 0; i < n; i++) {
    if (!okAt<T>(vals, valid, i, valid != 0)) continue;
    const r = rec + <usize>(gidAt(gids, i) * 24);
    const x = <L>valueAt<T>(vals, i);
    store<f64>(r, load<f64>(r) + 1);
    if (x < load<L>(r, 8)) store<L>(r, x, 8);
    if (x > load<L>(r, 16)) store<L>(r, x, 16);
  }
}

/** The host initialises records to count 0, min = the lane's maximum, max = its minimum. */
export function aggMinMax(t: i32, gids: usize, vals: usize, valid: usize, n: i32, rec: usize): void {
  switch (t) {
    case F64: minMaxT<f64, f64>(gids, vals, valid, n, rec); break;
    case F32: minMaxT<f32, f64>(gids, vals, valid, n, rec); break;
    case I32: minMaxT<i32, f64>(gids, vals, valid, n, rec); break;
    case U8: minMaxT<u8, f64>(gids, vals, valid, n, rec); break;
    case I8: minMaxT<i8, f64>(gids, vals, valid, n, rec); break;
    case I16: minMaxT<i16, f64>(gids, vals, valid, n, rec); break;
    case U16: minMaxT<u16, f64>(gids, vals, valid, n, rec); break;
    case U32: minMaxT<u32, f64>(gids, vals, valid, n, rec); break;
    case I64: minMaxT<i64, i64>(gids, vals, valid, n, rec); break;
    case U64: minMaxT<u64, u64>(gids, vals, valid, n, rec); break;
    default: unreachable();
  }
}

function firstLastT<T>(gids: usize, vals: usize, valid: usize, n: i32, row0: i32, rec: usize): void {
  for (let i = 0; i < n; i++) {
    if (!okAt<T>(vals, valid, i, valid != 0)) continue;
    const r = rec + <usize>(gidAt(gids, i) * 8);
    if (load<i32>(r) < 0) store<i32>(r, row0 + i);
    store<i32>(r, row0 + i, 4);
  }
}

/** First and last row with a value, per group; only floats' values are read (for NaN). */
export function aggFirstLast(t: i32, gids: usize, vals: usize, valid: usize, n: i32, row0: i32, rec: usize): void {
  if (t == F64) firstLastT<f64>(gids, vals, valid, n, row0, rec);
  else if (t == F32) firstLastT<f32>(gids, vals, valid, n, row0, rec);
  else firstLastT<u8>(gids, vals, valid, n, row0, rec);
}

export function aggSize(gids: usize, n: i32, rec: usize): void {
  for (let i = 0; i < n; i++) {
    const r = rec + <usize>(gidAt(gids, i) * 8);
    store<f64>(r, load<f64>(r) + 1);
  }
}

/** rec[g] += x[i] for f64 x (combining counts and sizes: exact below 2^53). */
export function addF64(gids: usize, vals: usize, n: i32, rec: usize): void {
  for (let i = 0; i < n; i++) {
    const r = rec + <usize>(gidAt(gids, i) * 8);
    store<f64>(r, load<f64>(r) + load<f64>(vals + (<usize>i << 3)));
  }
}

/** Merge partial (sum, comp) rows into [sum, comp] records (16 bytes): a compensated sum of sums. */
export function combineSumF(gids: usize, sums: usize, comps: usize, n: i32, rec: usize): void {
  for (let i = 0; i < n; i++) {
    const r = rec + <usize>(gidAt(gids, i) * 16);
    const o = <usize>i << 3;
    const x = load<f64>(sums + o);
    const s = load<f64>(r);
    const t = s + x;
    store<f64>(r, t);
    const c = abs(s) >= abs(x) ? s - t + x : x - t + s;
    store<f64>(r, load<f64>(r, 8) + c + load<f64>(comps + o), 8);
  }
}

/** Merge partial (count, mean, M2) rows into [count, mean, M2] records (Chan et al.). */
export function combineVar(gids: usize, counts: usize, means: usize, m2s: usize, n: i32, rec: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    const nb = load<f64>(counts + o);
    if (nb == 0) continue;
    const r = rec + <usize>(gidAt(gids, i) * 24);
    const na = load<f64>(r);
    const mb = load<f64>(means + o), m2b = load<f64>(m2s + o);
    if (na == 0) {
      store<f64>(r, nb);
      store<f64>(r, mb, 8);
      store<f64>(r, m2b, 16);
      continue;
    }
    const total = na + nb;
    const ma = load<f64>(r, 8);
    const d = mb - ma;
    store<f64>(r, total);
    store<f64>(r, ma + (d * nb) / total, 8);
    store<f64>(r, load<f64>(r, 16) + m2b + (d * d * na * nb) / total, 16);
  }
}
