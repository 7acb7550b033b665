/**
 * Random numbers into wasm memory from Philox4x32-10 (assembly/random.ts has the scheme):
 * element i of (seed, stream) is the same whoever computes it, so a chunk that starts at global
 * element `start` (or is its own `stream`) is reproducible on any worker, in any order.
 *
 * seed: integer in [0, 2^53); stream: integer in [0, 2^32); start: integer in [0, 2^53).
 */

import { DTYPE_CODE } from "./abi.js";
import type { Kernels } from "./kernels.js";
import { KernelError } from "./errors.js";

export interface RandomOptions {
  seed: number;
  /** Independent sequence number, e.g. the chunk index (default 0). */
  stream?: number;
  /** Global index of the first element written (default 0). */
  start?: number;
}

export class Random {
  constructor(private readonly k: Kernels) {}

  /** Uniform in [0, 1): float64 with 53 random bits, float32 with 24. */
  uniform(dtype: "float64" | "float32", out: number, n: number, options: RandomOptions): void {
    const [k0, k1, stream, start] = this.prepare("uniform", dtype, ["float64", "float32"], out, n, options);
    this.k.exports.uniform(DTYPE_CODE[dtype], out, n, k0, k1, stream, start, this.k.scratchLayout.work);
  }

  /** Standard normal (Box-Muller); float32 output is the float64 value rounded. */
  normal(dtype: "float64" | "float32", out: number, n: number, options: RandomOptions): void {
    const [k0, k1, stream, start] = this.prepare("normal", dtype, ["float64", "float32"], out, n, options);
    this.k.exports.normal(DTYPE_CODE[dtype], out, n, k0, k1, stream, start, this.k.scratchLayout.work);
  }

  /** Integers uniform in [low, high) without modulo bias; high - low <= 2^32. */
  integers(dtype: "int32" | "float64", out: number, n: number, options: RandomOptions & { low: number; high: number }): void {
    const [k0, k1, stream, start] = this.prepare("integers", dtype, ["int32", "float64"], out, n, options);
    const { low, high } = options;
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high <= low) {
      throw new KernelError(`random.integers: low and high must be integers with low < high, got [${low}, ${high})`);
    }
    if (high - low > 2 ** 32) throw new KernelError(`random.integers: high - low must be at most 2^32, got ${high - low}`);
    if (dtype === "int32" && (low < -(2 ** 31) || high - 1 > 2 ** 31 - 1)) {
      throw new KernelError(`random.integers: [${low}, ${high}) does not fit int32; use dtype float64`);
    }
    this.k.exports.integers(DTYPE_CODE[dtype], out, n, k0, k1, stream, start, low, high - low, this.k.scratchLayout.work);
  }

  /** The raw Philox4x32-10 block of counter [c0..c3] under key [k0, k1] (for tests). */
  philox(counter: readonly [number, number, number, number], key: readonly [number, number]): Uint32Array {
    const w = this.k.scratchLayout.work;
    this.k.exports.philoxWords(counter[0], counter[1], counter[2], counter[3], key[0], key[1], w);
    return new Uint32Array(this.k.memory.buffer, w, 4).slice();
  }

  private prepare(what: string, dtype: string, allowed: string[], out: number, n: number, o: RandomOptions): [number, number, number, number] {
    if (!allowed.includes(dtype)) throw new KernelError(`random.${what}: dtype must be ${allowed.join(" or ")}, got ${JSON.stringify(dtype)}`);
    const seed = o.seed, stream = o.stream ?? 0, start = o.start ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new KernelError(`random.${what}: seed must be an integer in [0, 2^53), got ${seed}`);
    if (!Number.isInteger(stream) || stream < 0 || stream >= 2 ** 32) throw new KernelError(`random.${what}: stream must be an integer in [0, 2^32), got ${stream}`);
    if (!Number.isSafeInteger(start) || start < 0) throw new KernelError(`random.${what}: start must be an integer in [0, 2^53), got ${start}`);
    this.k.checkCount(n, `random.${what}`);
    this.k.checkArray({ ptr: out, dtype: dtype as "float64" }, n, `random.${what} out`);
    return [seed % 2 ** 32, Math.floor(seed / 2 ** 32), stream, start];
  }
}
