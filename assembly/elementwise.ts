/**
 * Elementwise loops over raw pointers: `d[i] = op(a[i], b[i])` for i < n.
 *
 * Each op is one generic function instantiated per dtype (f64, f32, i32 for arithmetic), with a
 * SIMD body over whole v128 vectors and a scalar tail. They take pointers and a length, never
 * allocate, and allow d == a or d == b (every vector is loaded before its store), which is how
 * the program interpreter reuses registers in place.
 *
 * The same loops serve the fused program (called per tile) and the unfused API (which is a
 * one-instruction program), so a value never depends on how a computation was fused or chunked.
 * Transcendentals (exp, log, sin, cos, tanh, pow) are scalar calls into AssemblyScript's
 * NativeMath / NativeMathf (musl ports); wasm has no SIMD versions of them.
 */

// Opcodes (mirrored in src/kernels/abi.ts).
export const NEG: i32 = 1;
export const ABS: i32 = 2;
export const SQRT: i32 = 3;
export const EXP: i32 = 4;
export const LOG: i32 = 5;
export const SIN: i32 = 6;
export const COS: i32 = 7;
export const TANH: i32 = 8;
export const SIGMOID: i32 = 9;
export const ADD: i32 = 10;
export const SUB: i32 = 11;
export const MUL: i32 = 12;
export const DIV: i32 = 13;
export const POW: i32 = 14;
export const MAX: i32 = 15;
export const MIN: i32 = 16;

// @ts-ignore: decorator
@inline function at<T>(p: usize, i: i32): usize {
  return p + (<usize>i) * sizeof<T>();
}

// Operand modes: both arrays, or one of them a constant (its tile's first element, splatted
// once, which saves a load per vector in the common `x * 2`, `x + 1`, `1 - x`).
export const ARRAYS: i32 = 0;
export const B_SCALAR: i32 = 1;
export const A_SCALAR: i32 = 2;
/** a and b are the same array (x * x): load once. */
export const SAME: i32 = 3;

// Each op is a class used only as a type argument, so every (dtype, op) pair gets its own loop
// with the op fixed at compile time. (Passing the op as a value, even a constant one, let
// Binaryen merge the loops into one that computed every op per vector and picked one.)
@final class OpAdd {
  @inline v<T>(x: v128, y: v128): v128 { return v128.add<T>(x, y); }
  @inline s<T>(x: T, y: T): T { return x + y; }
}
@final class OpSub {
  @inline v<T>(x: v128, y: v128): v128 { return v128.sub<T>(x, y); }
  @inline s<T>(x: T, y: T): T { return x - y; }
}
@final class OpMul {
  @inline v<T>(x: v128, y: v128): v128 { return v128.mul<T>(x, y); }
  @inline s<T>(x: T, y: T): T { return x * y; }
}
// The scalar tails go through the vector op too, so a NaN result has the same bits whether an
// element falls in a vector step or in the tail (otherwise results depend on chunking).
@final class OpMax {
  @inline v<T>(x: v128, y: v128): v128 { return v128.max<T>(x, y); }
  @inline s<T>(x: T, y: T): T {
    if (isFloat<T>()) return v128.extract_lane<T>(v128.max<T>(v128.splat<T>(x), v128.splat<T>(y)), 0);
    return <T>max<T>(x, y);
  }
}
@final class OpMin {
  @inline v<T>(x: v128, y: v128): v128 { return v128.min<T>(x, y); }
  @inline s<T>(x: T, y: T): T {
    if (isFloat<T>()) return v128.extract_lane<T>(v128.min<T>(v128.splat<T>(x), v128.splat<T>(y)), 0);
    return <T>min<T>(x, y);
  }
}
@final class OpDiv {
  @inline v<T>(x: v128, y: v128): v128 {
    if (isFloat<T>()) return v128.div<T>(x, y);
    unreachable();
    return x;
  }
  @inline s<T>(x: T, y: T): T { return x / y; }
}

/** d = a (op O) b, four vectors per step, with the operand mode's branch outside the loops. */
function binaryLoop<T, O>(mode: i32, d: usize, a: usize, b: usize, n: i32): void {
  const o = changetype<O>(0);
  const W: i32 = 16 / sizeof<T>();
  let i = 0;
  if (mode == B_SCALAR) {
    const ys = v128.splat<T>(load<T>(b)), yc = load<T>(b);
    for (; i + 4 * W <= n; i += 4 * W) {
      const pa = at<T>(a, i), pd = at<T>(d, i);
      const x0 = v128.load(pa), x1 = v128.load(pa, 16), x2 = v128.load(pa, 32), x3 = v128.load(pa, 48);
      v128.store(pd, o.v<T>(x0, ys));
      v128.store(pd, o.v<T>(x1, ys), 16);
      v128.store(pd, o.v<T>(x2, ys), 32);
      v128.store(pd, o.v<T>(x3, ys), 48);
    }
    for (; i + W <= n; i += W) v128.store(at<T>(d, i), o.v<T>(v128.load(at<T>(a, i)), ys));
    for (; i < n; i++) store<T>(at<T>(d, i), o.s<T>(load<T>(at<T>(a, i)), yc));
  } else if (mode == A_SCALAR) {
    const xs = v128.splat<T>(load<T>(a)), xc = load<T>(a);
    for (; i + 4 * W <= n; i += 4 * W) {
      const pb = at<T>(b, i), pd = at<T>(d, i);
      const y0 = v128.load(pb), y1 = v128.load(pb, 16), y2 = v128.load(pb, 32), y3 = v128.load(pb, 48);
      v128.store(pd, o.v<T>(xs, y0));
      v128.store(pd, o.v<T>(xs, y1), 16);
      v128.store(pd, o.v<T>(xs, y2), 32);
      v128.store(pd, o.v<T>(xs, y3), 48);
    }
    for (; i + W <= n; i += W) v128.store(at<T>(d, i), o.v<T>(xs, v128.load(at<T>(b, i))));
    for (; i < n; i++) store<T>(at<T>(d, i), o.s<T>(xc, load<T>(at<T>(b, i))));
  } else if (mode == SAME) {
    for (; i + 4 * W <= n; i += 4 * W) {
      const pa = at<T>(a, i), pd = at<T>(d, i);
      const x0 = v128.load(pa), x1 = v128.load(pa, 16), x2 = v128.load(pa, 32), x3 = v128.load(pa, 48);
      v128.store(pd, o.v<T>(x0, x0));
      v128.store(pd, o.v<T>(x1, x1), 16);
      v128.store(pd, o.v<T>(x2, x2), 32);
      v128.store(pd, o.v<T>(x3, x3), 48);
    }
    for (; i + W <= n; i += W) {
      const x = v128.load(at<T>(a, i));
      v128.store(at<T>(d, i), o.v<T>(x, x));
    }
    for (; i < n; i++) {
      const x = load<T>(at<T>(a, i));
      store<T>(at<T>(d, i), o.s<T>(x, x));
    }
  } else {
    for (; i + 4 * W <= n; i += 4 * W) {
      const pa = at<T>(a, i), pb = at<T>(b, i), pd = at<T>(d, i);
      const x0 = v128.load(pa), x1 = v128.load(pa, 16), x2 = v128.load(pa, 32), x3 = v128.load(pa, 48);
      const y0 = v128.load(pb), y1 = v128.load(pb, 16), y2 = v128.load(pb, 32), y3 = v128.load(pb, 48);
      v128.store(pd, o.v<T>(x0, y0));
      v128.store(pd, o.v<T>(x1, y1), 16);
      v128.store(pd, o.v<T>(x2, y2), 32);
      v128.store(pd, o.v<T>(x3, y3), 48);
    }
    for (; i + W <= n; i += W) v128.store(at<T>(d, i), o.v<T>(v128.load(at<T>(a, i)), v128.load(at<T>(b, i))));
    for (; i < n; i++) store<T>(at<T>(d, i), o.s<T>(load<T>(at<T>(a, i)), load<T>(at<T>(b, i))));
  }
}

/**
 * pow as C99 and numpy define it where JavaScript differs: 1**y = 1 and x**0 = 1 even for NaN,
 * and (-1)**(+-inf) = 1.
 */
@inline function powNumpy(x: f64, y: f64): f64 {
  if (x == 1.0 || y == 0.0) return 1.0;
  if (x == -1.0 && !isFinite(y) && !isNaN(y)) return 1.0;
  return Math.pow(x, y);
}
@inline function powNumpy32(x: f32, y: f32): f32 {
  if (x == 1.0 || y == 0.0) return 1.0;
  if (x == -1.0 && !isFinite(y) && !isNaN(y)) return 1.0;
  return Mathf.pow(x, y);
}

/** Scalar pow: the only binary op without a wasm SIMD form. */
// @ts-ignore: decorator
@inline function powLoop<T>(d: usize, a: usize, b: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const x = load<T>(at<T>(a, i)), y = load<T>(at<T>(b, i));
    if (sizeof<T>() == 8) store<f64>(at<T>(d, i), powNumpy(<f64>x, <f64>y));
    else store<f32>(at<T>(d, i), <f32>powNumpy32(<f32>x, <f32>y));
  }
}

/**
 * Binary elementwise op over dtype T (f64, f32 or i32). `mode` says whether a or b is a
 * constant tile (B_SCALAR, A_SCALAR); the result is the same either way, only faster.
 */
export function binaryT<T>(op: i32, mode: i32, d: usize, a: usize, b: usize, n: i32): void {
  if (op == POW) {
    if (isFloat<T>()) powLoop<T>(d, a, b, n);
    else unreachable();
  } else if (op == ADD) binaryLoop<T, OpAdd>(mode, d, a, b, n);
  else if (op == SUB) binaryLoop<T, OpSub>(mode, d, a, b, n);
  else if (op == MUL) binaryLoop<T, OpMul>(mode, d, a, b, n);
  else if (op == MAX) binaryLoop<T, OpMax>(mode, d, a, b, n);
  else if (op == MIN) binaryLoop<T, OpMin>(mode, d, a, b, n);
  else if (op == DIV && isFloat<T>()) binaryLoop<T, OpDiv>(mode, d, a, b, n);
  else unreachable();
}

/** One transcendental of a float, through NativeMath (f64) or NativeMathf (f32). */
// @ts-ignore: decorator
@inline function transcendental<T>(op: i32, x: T): T {
  if (sizeof<T>() == 8) {
    const v = <f64>x;
    if (op == EXP) return <T>Math.exp(v);
    if (op == LOG) return <T>Math.log(v);
    if (op == SIN) return <T>Math.sin(v);
    if (op == COS) return <T>Math.cos(v);
    if (op == TANH) return <T>Math.tanh(v);
    return <T>(1.0 / (1.0 + Math.exp(-v)));
  } else {
    const v = <f32>x;
    if (op == EXP) return <T>Mathf.exp(v);
    if (op == LOG) return <T>Mathf.log(v);
    if (op == SIN) return <T>Mathf.sin(v);
    if (op == COS) return <T>Mathf.cos(v);
    if (op == TANH) return <T>Mathf.tanh(v);
    return <T>(<f32>1.0 / (<f32>1.0 + Mathf.exp(-v)));
  }
}

// @ts-ignore: decorator
@inline function transcendentalLoop<T>(op: i32, d: usize, a: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<T>(at<T>(d, i), transcendental<T>(op, load<T>(at<T>(a, i))));
}

/** Unary elementwise op over dtype T (f64, f32; i32 for neg and abs). */
export function unaryT<T>(op: i32, d: usize, a: usize, n: i32): void {
  const W: i32 = 16 / sizeof<T>();
  if (op == NEG || op == ABS || op == SQRT) {
    let i = 0;
    if (op == NEG) for (; i + 2 * W <= n; i += 2 * W) {
      v128.store(at<T>(d, i), v128.neg<T>(v128.load(at<T>(a, i))));
      v128.store(at<T>(d, i), v128.neg<T>(v128.load(at<T>(a, i), 16)), 16);
    }
    for (; i + W <= n; i += W) {
      const x = v128.load(at<T>(a, i));
      let r: v128;
      if (op == NEG) r = v128.neg<T>(x);
      else if (isFloat<T>()) r = op == ABS ? v128.abs<T>(x) : v128.sqrt<T>(x);
      else if (op == ABS) r = i32x4.abs(x);
      else { r = x; unreachable(); }
      v128.store(at<T>(d, i), r);
    }
    for (; i < n; i++) {
      const x = load<T>(at<T>(a, i));
      let r: T;
      if (op == NEG) r = -x;
      else if (op == ABS) r = <T>abs<T>(x);
      else if (isFloat<T>()) r = <T>sqrt<T>(x);
      else { r = x; unreachable(); }
      store<T>(at<T>(d, i), r);
    }
    return;
  }
  if (!isFloat<T>()) unreachable();
  if (op == EXP) transcendentalLoop<T>(EXP, d, a, n);
  else if (op == LOG) transcendentalLoop<T>(LOG, d, a, n);
  else if (op == SIN) transcendentalLoop<T>(SIN, d, a, n);
  else if (op == COS) transcendentalLoop<T>(COS, d, a, n);
  else if (op == TANH) transcendentalLoop<T>(TANH, d, a, n);
  else if (op == SIGMOID) transcendentalLoop<T>(SIGMOID, d, a, n);
  else unreachable();
}
