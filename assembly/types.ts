/**
 * Shared constants of the kernel ABI: dtype codes, the tile size, and loaders that widen any
 * element type to f64 lanes (what every reduction works in).
 *
 * The TypeScript side (src/kernels/abi.ts) mirrors these numbers; `abiVersion()` lets the
 * loader refuse a stale build/tessera.wasm instead of computing garbage.
 */

export const ABI_VERSION: i32 = 3;

// Dtype codes. bool is stored as u8 holding 0 or 1.
export const F64: i32 = 0;
export const F32: i32 = 1;
export const I32: i32 = 2;
export const U8: i32 = 3;
export const I8: i32 = 4;
export const I16: i32 = 5;
export const U16: i32 = 6;
export const U32: i32 = 7;

/**
 * Elements per program tile. A register is TILE elements of up to 8 bytes (4 KiB); a program
 * with a handful of registers stays inside a 32-48 KiB L1 data cache.
 */
export const TILE: i32 = 512;
export const TILE_BYTES: i32 = TILE * 8;

/** Two elements at `p` (element index i) widened to an f64x2. Exact for every dtype here. */
// @ts-ignore: decorator
@inline export function loadF64x2<T>(p: usize, i: i32): v128 {
  const o = p + (<usize>i) * sizeof<T>();
  if (isFloat<T>()) {
    if (sizeof<T>() == 8) return v128.load(o);
    return f64x2.promote_low_f32x4(v128.load64_zero(o));
  }
  if (sizeof<T>() == 4) {
    if (isSigned<T>()) return f64x2.convert_low_i32x4_s(v128.load64_zero(o));
    return f64x2.convert_low_i32x4_u(v128.load64_zero(o));
  }
  if (sizeof<T>() == 2) {
    const w = v128.load32_zero(o);
    if (isSigned<T>()) return f64x2.convert_low_i32x4_s(i32x4.extend_low_i16x8_s(w));
    return f64x2.convert_low_i32x4_s(i32x4.extend_low_i16x8_u(w));
  }
  const b = v128.load16_splat(o);
  if (isSigned<T>()) return f64x2.convert_low_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(b)));
  return f64x2.convert_low_i32x4_s(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(b)));
}

/** One element at `p` (element index i) widened to f64. */
// @ts-ignore: decorator
@inline export function loadF64<T>(p: usize, i: i32): f64 {
  return <f64>load<T>(p + (<usize>i) * sizeof<T>());
}

/** f64 NaN test without a call. */
// @ts-ignore: decorator
@inline export function isNaNf(x: f64): bool {
  return x != x;
}
