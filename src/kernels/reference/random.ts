/**
 * Reference Philox4x32-10 and the distributions built on it, written from the scheme in
 * assembly/random.ts with BigInt where 64-bit products are needed: slow, obviously correct.
 */

const M0 = 0xd2511f53n, M1 = 0xcd9e8d57n;
const W0 = 0x9e3779b9, W1 = 0xbb67ae85;
const MASK32 = 0xffffffffn;

export function philoxRef(counter: readonly number[], key: readonly number[]): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((x) => x >>> 0) as [number, number, number, number];
  let k0 = key[0]! >>> 0, k1 = key[1]! >>> 0;
  for (let r = 0; r < 10; r++) {
    const p0 = M0 * BigInt(c0), p1 = M1 * BigInt(c2);
    const n0 = (Number(p1 >> 32n) ^ c1 ^ k0) >>> 0;
    const n2 = (Number(p0 >> 32n) ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = Number(p1 & MASK32);
    c2 = n2;
    c3 = Number(p0 & MASK32);
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

const keyOf = (seed: number) => [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
const blockOf = (b: number, stream: number, attempt: number, seed: number) =>
  philoxRef([b % 2 ** 32, Math.floor(b / 2 ** 32), stream, attempt], keyOf(seed));
const u53 = (hi: number, lo: number) => ((hi >>> 5) * 67108864 + (lo >>> 6)) / 9007199254740992;

export function uniformRef(n: number, seed: number, stream = 0, start = 0, single = false): Float64Array | Float32Array {
  const out = single ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = start + i;
    if (single) {
      const w = blockOf(Math.floor(e / 4), stream, 0, seed);
      out[i] = (w[e % 4]! >>> 8) * 2 ** -24;
    } else {
      const w = blockOf(Math.floor(e / 2), stream, 0, seed);
      const j = (e % 2) * 2;
      out[i] = u53(w[j]!, w[j + 1]!);
    }
  }
  return out;
}

export function normalRef(n: number, seed: number, stream = 0, start = 0, single = false): Float64Array | Float32Array {
  const out = single ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = start + i;
    const w = blockOf(Math.floor(e / 2), stream, 0, seed);
    const r = Math.sqrt(-2 * Math.log(1 - u53(w[0], w[1])));
    const th = 6.283185307179586 * u53(w[2], w[3]);
    out[i] = e % 2 === 0 ? r * Math.cos(th) : r * Math.sin(th);
  }
  return out;
}

function lemire(x: bigint, range: bigint): bigint | undefined {
  const m = x * range;
  const lo = m & 0xffffffffffffffffn;
  if (lo < range && lo < (2n ** 64n - range) % range) return undefined;
  return m >> 64n;
}

export function integersRef(n: number, low: number, high: number, seed: number, stream = 0, start = 0): Float64Array {
  const out = new Float64Array(n);
  const range = BigInt(high - low);
  for (let i = 0; i < n; i++) {
    let v: bigint | undefined;
    for (let attempt = 0; v === undefined; attempt++) {
      const w = blockOf(start + i, stream, attempt, seed);
      v = lemire((BigInt(w[0]) << 32n) | BigInt(w[1]), range) ?? lemire((BigInt(w[2]) << 32n) | BigInt(w[3]), range);
    }
    out[i] = low + Number(v);
  }
  return out;
}
