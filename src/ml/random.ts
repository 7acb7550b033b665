/**
 * Seeded randomness that does not depend on where or in what order it is drawn: a value is a
 * hash of (seed, stream, index), so a worker sampling row i of a block draws what any other
 * worker (or the client) would. trainTestSplit and the k-means‖ sampling use it; sequential
 * draws on the client (k-means++) use a small generator seeded the same way.
 */

import { TesseraError } from "../errors.js";
import { fmix32 } from "../hash.js";

const fmix = fmix32;

function mix(seed: number, stream: number, index: number, lane: number): number {
  // Indices and seeds may pass 2^32: fold their high words in too.
  let h = fmix((seed >>> 0) ^ 0x9e3779b9 ^ Math.imul(lane, 0x7feb352d));
  h = fmix(h ^ Math.floor(seed / 2 ** 32));
  h = fmix(h ^ (stream >>> 0));
  h = fmix(h ^ Math.floor(stream / 2 ** 32) ^ 0x68e31da4);
  h = fmix(h ^ (index >>> 0));
  return fmix(h ^ Math.floor(index / 2 ** 32) ^ 0x1b56c4e9);
}

/** A uniform double in [0, 1) for (seed, stream, index), 53 random bits. */
export function uniformAt(seed: number, stream: number, index: number): number {
  const hi = mix(seed, stream, index, 1) >>> 5; // 27 bits
  const lo = mix(seed, stream, index, 2) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

/** A sequential generator: the i-th draw is uniformAt(seed, stream, i). */
export class Stream {
  private i = 0;
  constructor(
    readonly seed: number,
    readonly stream: number,
  ) {}
  next(): number {
    return uniformAt(this.seed, this.stream, this.i++);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }
}

export function checkSeed(seed: number, what: string): number {
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 53) {
    throw new TesseraError(`${what}: seed must be an integer in [0, 2^53), got ${seed}`);
  }
  return seed;
}
