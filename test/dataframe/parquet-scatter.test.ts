/**
 * Snappy literals read straight into the column (parquet-scatter.ts): whatever the stream's
 * layout (the guessed 64 KiB literals, other lengths, copies, headers in a longer form than
 * needed, a cut-off stream), the split decoder given a scatter gives the same bytes, or the same
 * error, as without one.
 */

import { describe, expect, it } from "vitest";
import { snappyDecompressSplit, type PageStream } from "../../src/dataframe/io/parquet-snappy.js";
import { rng } from "./parquet-helpers.js";

type Element = { literal: Uint8Array; lengthBytes?: number } | { copy: number; offset: number };

/** A snappy stream of these elements (literal headers in the shortest form unless lengthBytes says). */
function encode(size: number, elements: Element[]): Uint8Array {
  const out: number[] = [];
  for (let v = size; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      out.push(v);
      break;
    }
    out.push((v & 0x7f) | 0x80);
  }
  for (const e of elements) {
    if ("literal" in e) {
      const v = e.literal.length - 1;
      const bytes = e.lengthBytes ?? (v < 60 ? 0 : v < 0x100 ? 1 : v < 0x10000 ? 2 : 3);
      if (bytes === 0) out.push(v << 2);
      else {
        out.push((59 + bytes) << 2);
        for (let k = 0; k < bytes; k++) out.push(Math.floor(v / 2 ** (8 * k)) & 0xff);
      }
      for (const b of e.literal) out.push(b);
    } else {
      out.push(((e.copy - 1) << 2) | 2, e.offset & 0xff, e.offset >> 8);
    }
  }
  return Uint8Array.from(out);
}

/** The stream in windows of `window` bytes, with a scatter (counted) or without. */
function stream(bytes: Uint8Array, window: number, scatter: boolean, calls: { n: number }): PageStream {
  return {
    length: bytes.length,
    window: (pos) => bytes.subarray(pos, Math.min(bytes.length, pos + Math.max(window, 16))),
    ...(scatter
      ? {
          scatter: (pos: number, into: Uint8Array[]) => {
            calls.n++;
            for (const b of into) {
              expect(pos + b.length).toBeLessThanOrEqual(bytes.length);
              b.set(bytes.subarray(pos, pos + b.length));
              pos += b.length;
            }
          },
        }
      : {}),
  };
}

function decode(bytes: Uint8Array, size: number, h: number, window: number, scatter: boolean, calls = { n: 0 }): Uint8Array | string {
  const head = new Uint8Array(h);
  const out = new Uint8Array(size - h);
  try {
    expect(snappyDecompressSplit(stream(bytes, window, scatter, calls), size, head, out)).toBe(true);
  } catch (err) {
    return (err as Error).message;
  }
  const all = new Uint8Array(size);
  all.set(head);
  all.set(out, h);
  return all;
}

/** Equal bytes (toEqual on 200 KB arrays takes seconds). */
function same(a: Uint8Array | string, b: Uint8Array | string): boolean {
  return typeof a === "string" || typeof b === "string" ? a === b : Buffer.compare(a, b) === 0;
}

describe("snappy literals read straight into the column", () => {
  const r = rng(9);
  const random = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  const K = 65536;
  const layouts: Record<string, Element[]> = {
    "64 KiB literals, the last shorter": [K, K, K, K, 1234].map((n) => ({ literal: random(n) })),
    "a copy after two literals": [{ literal: random(K) }, { literal: random(K) }, { copy: 40, offset: 1000 }, { literal: random(K) }, { literal: random(K - 40) }],
    "literals of other lengths": [K, 70_000, K, 20_000, 5, K, 300].map((n) => ({ literal: random(n) })),
    "a header longer than it needs": [{ literal: random(K) }, { literal: random(K), lengthBytes: 3 }, { literal: random(K) }],
    "a short literal ending the stream": [{ literal: random(K) }, { literal: random(K) }, { literal: random(60) }],
  };
  for (const [name, elements] of Object.entries(layouts)) {
    it(name, () => {
      const size = elements.reduce((s, e) => s + ("literal" in e ? e.literal.length : e.copy), 0);
      const bytes = encode(size, elements);
      const expected = decode(bytes, size, 0, bytes.length, false);
      expect(typeof expected).not.toBe("string");
      for (const window of [64, 1000, 40_000, 100_000, bytes.length]) {
        for (const h of [0, 6, 64]) {
          const calls = { n: 0 };
          expect(same(decode(bytes, size, h, window, true, calls), expected), `window ${window}, head ${h}`).toBe(true);
          if (window < K) expect(calls.n).toBeGreaterThan(0);
        }
      }
    });
  }

  it("fails on a cut-off or overlong stream as the decoder without a scatter does", () => {
    const elements = [K, K, K, 500].map((n) => ({ literal: random(n) }));
    const size = 3 * K + 500;
    const bytes = encode(size, elements);
    const cases: [Uint8Array, number][] = [
      [bytes.subarray(0, bytes.length - 10), size],
      [bytes.subarray(0, 2 * K + 3), size],
      [encode(size - 100, elements), size - 100],
      [encode(size + 100, elements), size + 100],
    ];
    for (const [bad, claimed] of cases) {
      for (const window of [64, 50_000]) {
        const want = decode(bad, claimed, 6, window, false);
        expect(typeof want).toBe("string");
        expect(decode(bad, claimed, 6, window, true)).toBe(want);
      }
    }
  });
});
