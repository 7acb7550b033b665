// Shared by the array tests: reproducible pseudo-random data.

/** A xorshift32 generator of unsigned 32-bit integers, seeded. */
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** n values in [-0.5, 0.5). */
export function rand(n: number, seed: number): Float64Array {
  const next = xorshift(seed);
  return Float64Array.from({ length: n }, () => next() / 2 ** 32 - 0.5);
}
