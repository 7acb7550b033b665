/**
 * Reductions and cumulative sums along one axis of a contiguous (C-order) chunk.
 *
 * Any n-D chunk reduced along one axis is viewed as [outer, len, inner]: outer = product of
 * the dims before the axis, len = the axis, inner = product of the dims after it. The result
 * has outer*inner elements, written as state planes (fields 1 and 2 of the state record of reduce.ts;
 * the count is `len` for every output): plane k of output j is at out + (k*outer*inner + j)*8.
 *
 *   inner == 1 (last axis): each output reduces a contiguous row, with the same tiled SIMD
 *     code as a full reduction (so a row's result equals reducing that row alone).
 *   inner  > 1: rows of the axis are streamed in order and every output updated elementwise
 *     (VAR by Welford's update, argmin/argmax keeping the first best).
 */

import { F64, F32, I32, U8, I8, I16, U16, U32, loadF64 } from "./types";
import {
  R_SUM, R_PROD, R_MIN, R_MAX, R_ARGMIN, R_ARGMAX, R_VAR, R_ANY, R_ALL,
  reduceRun, initState, better,
} from "./reduce";

function axisT<T>(kind: i32, p: usize, outer: i32, len: i32, inner: i32, out: usize, work: usize): void {
  const m = <usize>outer * <usize>inner;
  const plane0 = out, plane1 = out + m * 8;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      initState(kind, work);
      reduceRun<T>(kind, p + (<usize>o) * (<usize>len) * sizeof<T>(), len, work, 0);
      const j = (<usize>o) * 8;
      store<f64>(plane0 + j, load<f64>(work, 8));
      store<f64>(plane1 + j, load<f64>(work, 16));
    }
    return;
  }
  const init: f64 = kind == R_PROD || kind == R_ALL ? 1 : 0;
  for (let j: usize = 0; j < m; j++) {
    store<f64>(plane0 + j * 8, init);
    store<f64>(plane1 + j * 8, 0);
  }
  const isMax = kind == R_MAX || kind == R_ARGMAX;
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < len; a++) {
      const row = p + ((<usize>o * <usize>len + <usize>a) * <usize>inner) * sizeof<T>();
      const first = a == 0;
      const count = <f64>(a + 1);
      for (let i = 0; i < inner; i++) {
        const x = loadF64<T>(row, i);
        const q = ((<usize>o) * (<usize>inner) + <usize>i) * 8;
        if (kind == R_SUM) store<f64>(plane0 + q, load<f64>(plane0 + q) + x);
        else if (kind == R_PROD) store<f64>(plane0 + q, load<f64>(plane0 + q) * x);
        else if (kind == R_MIN) store<f64>(plane0 + q, first ? x : min(load<f64>(plane0 + q), x));
        else if (kind == R_MAX) store<f64>(plane0 + q, first ? x : max(load<f64>(plane0 + q), x));
        else if (kind == R_ARGMIN || kind == R_ARGMAX) {
          if (first || better(x, load<f64>(plane0 + q), isMax)) {
            store<f64>(plane0 + q, x);
            store<f64>(plane1 + q, <f64>a);
          }
        } else if (kind == R_VAR) {
          const mean = load<f64>(plane0 + q);
          const delta = x - mean;
          const next = mean + delta / count;
          store<f64>(plane0 + q, next);
          store<f64>(plane1 + q, load<f64>(plane1 + q) + delta * (x - next));
        } else if (kind == R_ANY) {
          if (x != 0) store<f64>(plane0 + q, 1);
        } else if (kind == R_ALL) {
          if (!(x != 0)) store<f64>(plane0 + q, 0);
        } else unreachable();
      }
    }
  }
}

/** Reduce along the middle axis of [outer, len, inner]; `work` is 32 bytes of scratch. */
export function reduceAxis(t: i32, kind: i32, p: usize, outer: i32, len: i32, inner: i32, out: usize, work: usize): void {
  switch (t) {
    case F64: axisT<f64>(kind, p, outer, len, inner, out, work); break;
    case F32: axisT<f32>(kind, p, outer, len, inner, out, work); break;
    case I32: axisT<i32>(kind, p, outer, len, inner, out, work); break;
    case U8: axisT<u8>(kind, p, outer, len, inner, out, work); break;
    case I8: axisT<i8>(kind, p, outer, len, inner, out, work); break;
    case I16: axisT<i16>(kind, p, outer, len, inner, out, work); break;
    case U16: axisT<u16>(kind, p, outer, len, inner, out, work); break;
    case U32: axisT<u32>(kind, p, outer, len, inner, out, work); break;
    default: unreachable();
  }
}

/**
 * Cumulative sum along the middle axis of [outer, len, inner], starting from 0. Output is f32
 * for f32 input (accumulated in f32, like numpy) and f64 for everything else. Each output is a
 * strictly sequential sum, so it is bit-identical to a plain loop.
 */
function cumsumT<T, A>(p: usize, outer: i32, len: i32, inner: i32, out: usize): void {
  for (let o = 0; o < outer; o++) {
    const base = (<usize>o) * (<usize>len) * (<usize>inner);
    for (let a = 0; a < len; a++) {
      const row = base + (<usize>a) * (<usize>inner);
      for (let i = 0; i < inner; i++) {
        const k = row + <usize>i;
        const x = <A>load<T>(p + k * sizeof<T>());
        const prev: A = a == 0 ? <A>0 : load<A>(out + (k - <usize>inner) * sizeof<A>());
        store<A>(out + k * sizeof<A>(), prev + x);
      }
    }
  }
}

export function cumsum(t: i32, p: usize, outer: i32, len: i32, inner: i32, out: usize): void {
  switch (t) {
    case F64: cumsumT<f64, f64>(p, outer, len, inner, out); break;
    case F32: cumsumT<f32, f32>(p, outer, len, inner, out); break;
    case I32: cumsumT<i32, f64>(p, outer, len, inner, out); break;
    case U8: cumsumT<u8, f64>(p, outer, len, inner, out); break;
    case I8: cumsumT<i8, f64>(p, outer, len, inner, out); break;
    case I16: cumsumT<i16, f64>(p, outer, len, inner, out); break;
    case U16: cumsumT<u16, f64>(p, outer, len, inner, out); break;
    case U32: cumsumT<u32, f64>(p, outer, len, inner, out); break;
    default: unreachable();
  }
}
