/**
 * Shared test helpers: load the built wasm (failing with the fix when it is missing), seeded
 * data of every dtype with awkward values, and ulp distances.
 */

import { mulberry32 } from "../../src/hash.js";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Dtype, type TypedArray, allocTyped, intRange, isFloat } from "../../src/kernels/dtypes.js";
import { wasmUrl } from "../../src/kernels/loader.js";
import { loadKernelsFromFile } from "../../src/kernels/node.js";
import type { Kernels } from "../../src/kernels/kernels.js";
import type { LoadOptions } from "../../src/kernels/loader.js";

export const LENGTHS = [0, 1, 3, 255, 256, 257, 1000, 10007];
export const ALL_DTYPES: Dtype[] = ["float64", "float32", "int32", "uint8", "int8", "int16", "uint16", "uint32", "bool"];

export async function kernels(options: LoadOptions = {}): Promise<Kernels> {
  const path = fileURLToPath(wasmUrl);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build:wasm\` before the kernel tests`);
  return loadKernelsFromFile(options);
}

/** mulberry32: a small seeded generator for test data. */
export const rng = mulberry32;

/**
 * n values of dtype: floats spread over magnitudes with some 0, -0, NaN and infinities when
 * `specials`; integers over the whole range of the dtype (or small, when `small`).
 */
export function data(dtype: Dtype, n: number, seed: number, opts: { specials?: boolean; small?: boolean; positive?: boolean } = {}): TypedArray {
  const r = rng(seed);
  const out = allocTyped(dtype, n);
  const specials = [0, -0, NaN, Infinity, -Infinity, 1, -1];
  for (let i = 0; i < n; i++) {
    if (isFloat(dtype)) {
      if (opts.specials && r() < 0.05) out[i] = specials[Math.floor(r() * specials.length)]!;
      else {
        const v = (r() * 2 - 1) * 10 ** Math.floor(r() * 6 - 3);
        out[i] = opts.positive ? Math.abs(v) : v;
      }
    } else {
      const [lo, hi] = opts.small ? [Math.max(intRange(dtype)[0], -20), Math.min(intRange(dtype)[1], 20)] : intRange(dtype);
      out[i] = Math.floor(lo + r() * (hi - lo + 1));
    }
  }
  return out;
}

const f64 = new Float64Array(1), i64 = new BigInt64Array(f64.buffer);
const f32 = new Float32Array(1), i32 = new Int32Array(f32.buffer);

/** Distance in units in the last place between two floats of dtype (0 when both NaN). */
export function ulps(a: number, b: number, dtype: "float64" | "float32" = "float64"): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  if (Number.isNaN(a) || Number.isNaN(b)) return Infinity;
  if (a === b) return 0;
  if (dtype === "float32") {
    const key = (x: number) => {
      f32[0] = x;
      return i32[0]! < 0 ? -2147483648 - i32[0]! : i32[0]!;
    };
    return Math.abs(key(a) - key(b));
  }
  const key = (x: number) => {
    f64[0] = x;
    return i64[0]! < 0n ? -9223372036854775808n - i64[0]! : i64[0]!;
  };
  const d = key(a) - key(b);
  return Number(d < 0n ? -d : d);
}

/** Index of the first element where a and b differ bit for bit (NaNs equal), or -1. */
export function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) return i;
  return -1;
}
