/**
 * Seeded randomness that does not depend on where or in what order it is drawn: a value is a
 * hash of (seed, stream, index), so a worker sampling row i of a block draws what any other
 * worker (or the client) would. trainTestSplit and the k-means‖ sampling use it; sequential
 * draws on the client (k-means++) use a small generator seeded the same way.
 */

import { TesseraError } from "../errors.js";
import { fmix32 } from "../hash.js";

const fmix = fmix32;

/** The part of the hash that depends on (seed, stream, lane) only. */
function prefix(seed: number, stream: number, lane: number): number {
  // Indices and seeds may pass 2^32: fold their high words in too.
  let h = fmix((seed >>> 0) ^ 0x9e3779b9 ^ Math.imul(lane, 0x7feb352d));
  h = fmix(h ^ Math.floor(seed / 2 ** 32));
  h = fmix(h ^ (stream >>> 0));
  return fmix(h ^ Math.floor(stream / 2 ** 32) ^ 0x68e31da4);
}

function finish(h: number, index: number): number {
  h = fmix(h ^ (index >>> 0));
  return fmix(h ^ Math.floor(index / 2 ** 32) ^ 0x1b56c4e9);
}

/** A uniform double in [0, 1) for (seed, stream, index), 53 random bits. */
export function uniformAt(seed: number, stream: number, index: number): number {
  return uniformStream(seed, stream).at(index);
}

/**
 * uniformAt(seed, stream, ·) with the (seed, stream) part hashed once, for draws over many
 * indices; `floor(index)` is the value's lower bound from its high 27 bits (half the hashing),
 * enough to reject most draws of a small probability.
 */
export function uniformStream(seed: number, stream: number): { at(index: number): number; floor(index: number): number } {
  const hiPrefix = prefix(seed, stream, 1);
  const loPrefix = prefix(seed, stream, 2);
  return {
    at: (index) => ((finish(hiPrefix, index) >>> 5) * 67108864 + (finish(loPrefix, index) >>> 6)) / 9007199254740992,
    floor: (index) => ((finish(hiPrefix, index) >>> 5) * 67108864) / 9007199254740992,
  };
}

/** A sequential generator: the i-th draw is uniformAt(seed, stream, i). */
export class Stream {
  private i = 0;
  private readonly draws: { at(index: number): number };
  constructor(
    readonly seed: number,
    readonly stream: number,
  ) {
    this.draws = uniformStream(seed, stream);
  }
  next(): number {
    return this.draws.at(this.i++);
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
