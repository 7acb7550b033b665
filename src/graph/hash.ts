/**
 * The hash under tokenize: two 32-bit lanes, murmur3-style (multiply, rotate, multiply, xor
 * into the lane, rotate, multiply-add), with different constants per lane, cross-mixed and
 * finalized (fmix32) into 64 bits printed as 16 hex chars. Not cryptographic: it names keys,
 * it does not defend against chosen collisions.
 *
 * Structured values are fed word by word through `Hasher`. Byte buffers take `hashBytes`, a
 * bulk loop over an Int32Array view that sends alternate words to alternate lanes, so each
 * word costs one mix (several GB/s in V8), then folds its two results into the caller's
 * hasher. Words are read in the platform's byte order; every platform tessera targets is
 * little-endian.
 */

const C1 = 0xcc9e2d51 | 0;
const C2 = 0x1b873593 | 0;
const C3 = 0x38b34ae5 | 0;
const C4 = 0xa1e38b93 | 0;
const SEED1 = 0x9747b28c | 0;
const SEED2 = 0x5bd1e995 | 0;

const f64 = new Float64Array(1);
const f64Words = new Int32Array(f64.buffer);

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function hex8(h: number): string {
  return HEX[(h >>> 24) & 255]! + HEX[(h >>> 16) & 255]! + HEX[(h >>> 8) & 255]! + HEX[h & 255]!;
}

/**
 * Streaming state: two 32-bit lanes, each fed every word with its own constants. The state
 * lives in an Int32Array because V8 boxes int32 values outside the small-integer range when
 * they are stored in object fields; typed-array slots never allocate.
 */
export class Hasher {
  private readonly s = new Int32Array([SEED1, SEED2, 0]);

  reset(): void {
    this.s[0] = SEED1;
    this.s[1] = SEED2;
    this.s[2] = 0;
  }

  word(k: number): void {
    const s = this.s;
    let k1 = Math.imul(k, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    let h1 = s[0]! ^ Math.imul(k1, C2);
    h1 = (h1 << 13) | (h1 >>> 19);
    s[0] = Math.imul(h1, 5) + 0xe6546b64;
    let k2 = Math.imul(k, C3);
    k2 = (k2 << 16) | (k2 >>> 16);
    let h2 = s[1]! ^ Math.imul(k2, C4);
    h2 = (h2 << 15) | (h2 >>> 17);
    s[1] = Math.imul(h2, 5) + 0x0bcaa747;
    s[2]!++;
  }

  string(s: string): void {
    const n = s.length;
    this.word(n);
    let i = 0;
    for (; i + 1 < n; i += 2) this.word(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
    if (i < n) this.word(s.charCodeAt(i));
  }

  /** The float64 bits of `x`, NaN made canonical (payloads differ between engines and operations). */
  float64(x: number): void {
    f64[0] = x === x ? x : NaN;
    this.word(f64Words[0]!);
    this.word(f64Words[1]!);
  }

  /** Finish into [lane1, lane2] without disturbing this hasher. */
  digest(): [number, number] {
    const s = this.s;
    let a = s[0]! ^ s[2]!;
    let b = s[1]! ^ s[2]!;
    a = (a + b) | 0;
    b = (b + a) | 0;
    a = fmix(a);
    b = fmix(b);
    a = (a + b) | 0;
    b = (b + a) | 0;
    return [a, b];
  }

  hex(): string {
    const [a, b] = this.digest();
    return hex8(a) + hex8(b);
  }
}

/**
 * Bulk hash of bytes into two words fed to `out`. Reads aligned 32-bit words through an
 * Int32Array view, alternating lanes so each word costs one mix; the 0-3 tail bytes go in
 * last. An unaligned view is copied once to an aligned buffer, so the hash depends only on
 * the bytes, never on where they sit.
 */
export function hashBytes(bytes: Uint8Array, out: Hasher): void {
  const view = (bytes.byteOffset & 3) === 0 ? bytes : bytes.slice();
  const len = view.byteLength;
  const nWords = len >>> 2;
  const words = new Int32Array(view.buffer, view.byteOffset, nWords);
  let a = SEED1;
  let b = SEED2;
  let i = 0;
  for (; i + 1 < nWords; i += 2) {
    let k1 = Math.imul(words[i]!, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    a ^= Math.imul(k1, C2);
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let k2 = Math.imul(words[i + 1]!, C3);
    k2 = (k2 << 16) | (k2 >>> 16);
    b ^= Math.imul(k2, C4);
    b = (b << 15) | (b >>> 17);
    b = (Math.imul(b, 5) + 0x0bcaa747) | 0;
  }
  if (i < nWords) {
    let k1 = Math.imul(words[i]!, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    a ^= Math.imul(k1, C2);
  }
  let tail = 0;
  for (let p = nWords * 4; p < len; p++) tail = (tail << 8) | view[p]!;
  if ((len & 3) !== 0) {
    let k2 = Math.imul(tail, C3);
    k2 = (k2 << 16) | (k2 >>> 16);
    b ^= Math.imul(k2, C4);
  }
  a ^= len;
  b ^= Math.imul(len, 0x27d4eb2d);
  out.word(fmix(a));
  out.word(fmix(b));
}
