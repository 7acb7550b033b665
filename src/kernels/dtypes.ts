/**
 * Dtypes of the kernel layer and numpy's type promotion for them.
 *
 * Storage: every dtype is one typed array kind; bool is a Uint8Array of 0/1. There is no int64
 * (JavaScript has no fast 64-bit integer arrays), so results numpy would give as int64 (sums of
 * integers, argmin indices) come back as float64, exact up to 2^53.
 *
 * Promotion follows numpy (NEP 50) for the pairs that have a result among these dtypes: e.g.
 * uint8+int8 -> int16, int32+float32 -> float64. Pairs that would need int64 (int32 with
 * uint32, int8 with uint32, ...) throw. A plain JS number is a "weak" scalar, like a Python
 * scalar in numpy 2: it takes the array's dtype (an integer-valued number keeps an integer
 * array integer; a fractional one makes it float64).
 */

import { KernelError } from "./errors.js";

export type Dtype = "float64" | "float32" | "int32" | "uint8" | "int8" | "int16" | "uint16" | "uint32" | "bool";

export const DTYPES: readonly Dtype[] = ["float64", "float32", "int32", "uint8", "int8", "int16", "uint16", "uint32", "bool"];

export type TypedArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array;

/** The typed array each dtype is stored in, by dtype. */
export interface TypedArrayFor {
  float64: Float64Array;
  float32: Float32Array;
  int32: Int32Array;
  uint8: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  bool: Uint8Array;
}

type Ctor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

const CTORS: Record<Dtype, Ctor> = {
  float64: Float64Array,
  float32: Float32Array,
  int32: Int32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  bool: Uint8Array,
};

export function isDtype(x: unknown): x is Dtype {
  return typeof x === "string" && (DTYPES as readonly string[]).includes(x);
}

export function checkDtype(x: unknown, what = "dtype"): Dtype {
  if (!isDtype(x)) throw new KernelError(`unknown ${what} ${JSON.stringify(x)}; expected one of ${DTYPES.join(", ")}`);
  return x;
}

export function itemSize(dtype: Dtype): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

export function typedArrayCtor(dtype: Dtype): Ctor {
  return CTORS[dtype];
}

/** A new zeroed typed array of `length` elements of `dtype`. */
export function allocTyped<D extends Dtype>(dtype: D, length: number): TypedArrayFor[D] {
  return new CTORS[dtype](length) as TypedArrayFor[D];
}

/** The dtype a typed array stores (Uint8Array -> uint8; pass "bool" yourself where meant). */
export function dtypeOf(a: TypedArray): Dtype {
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint8Array) return "uint8";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Uint16Array) return "uint16";
  if (a instanceof Uint32Array) return "uint32";
  throw new KernelError(`unsupported typed array ${Object.prototype.toString.call(a)}`);
}

export const isFloat = (d: Dtype): boolean => d === "float64" || d === "float32";
export const isInt = (d: Dtype): boolean => !isFloat(d) && d !== "bool";
export const isSigned = (d: Dtype): boolean => d === "int8" || d === "int16" || d === "int32";

/** Value range of an integer dtype. */
export function intRange(d: Dtype): [number, number] {
  switch (d) {
    case "bool": return [0, 1];
    case "uint8": return [0, 255];
    case "int8": return [-128, 127];
    case "int16": return [-32768, 32767];
    case "uint16": return [0, 65535];
    case "int32": return [-2147483648, 2147483647];
    case "uint32": return [0, 4294967295];
    default: throw new KernelError(`${d} is not an integer dtype`);
  }
}

const INT_BITS: Partial<Record<Dtype, number>> = { int8: 8, uint8: 8, int16: 16, uint16: 16, int32: 32, uint32: 32 };

/** numpy's result_type for two array dtypes; throws where numpy would need int64. */
export function promoteTypes(a: Dtype, b: Dtype): Dtype {
  if (a === b) return a;
  if (a === "bool") return b;
  if (b === "bool") return a;
  if (a === "float64" || b === "float64") return "float64";
  if (a === "float32" || b === "float32") {
    const other = a === "float32" ? b : a;
    return INT_BITS[other]! <= 16 ? "float32" : "float64";
  }
  // Both integers.
  const sa = isSigned(a), sb = isSigned(b), ba = INT_BITS[a]!, bb = INT_BITS[b]!;
  if (sa === sb) return ba >= bb ? a : b;
  const [s, sBits, uBits] = sa ? [a, ba, bb] : [b, bb, ba];
  if (sBits > uBits) return s;
  // A signed type wide enough for the unsigned one.
  const need = uBits * 2;
  if (need <= 16) return "int16";
  if (need <= 32) return "int32";
  throw new KernelError(
    `no common dtype for ${a} and ${b} (numpy would use int64, which tessera does not have); astype one of them to int32 or float64 first`,
  );
}

/** The dtype of `array op scalar` for a weak JS-number scalar (NEP 50). */
export function promoteWithScalar(array: Dtype, value: number): Dtype {
  if (isFloat(array)) return array;
  if (Number.isInteger(value) || !Number.isFinite(value)) {
    if (!Number.isFinite(value)) return "float64";
    if (array === "bool") return "int32";
    const [lo, hi] = intRange(array);
    if (value < lo || value > hi) {
      throw new KernelError(`scalar ${value} does not fit ${array} (numpy 2 raises OverflowError too); astype the array to a wider dtype first`);
    }
    return array;
  }
  return "float64";
}

/**
 * One value converted from dtype `from` to dtype `to`, exactly as the wasm casts do
 * (assembly/compare.ts): float -> int truncates toward zero saturating to the int32 range
 * (uint32: to [0, 2^32-1]), NaN -> 0, then wraps to the target width; int -> int wraps;
 * anything -> bool is `!= 0`; f64 -> f32 rounds to nearest.
 */
export function castValue(v: number, from: Dtype, to: Dtype): number {
  if (to === "float64") return v;
  if (to === "float32") return Math.fround(v);
  if (to === "bool") return v !== 0 ? 1 : 0;
  let i: number;
  if (isFloat(from)) {
    if (Number.isNaN(v)) i = 0;
    else if (to === "uint32") return Math.min(Math.max(Math.trunc(v), 0), 4294967295);
    else i = Math.min(Math.max(Math.trunc(v), -2147483648), 2147483647);
  } else i = v;
  switch (to) {
    case "int32": return i | 0;
    case "uint32": return i >>> 0;
    case "int16": return (i << 16) >> 16;
    case "uint16": return i & 0xffff;
    case "int8": return (i << 24) >> 24;
    case "uint8": return i & 0xff;
  }
  throw new KernelError(`castValue: unknown dtype ${to}`);
}

/** pow with C99/numpy's special cases where JavaScript differs: 1**y = x**0 = (-1)**(+-inf) = 1. */
export function powNumpy(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}
