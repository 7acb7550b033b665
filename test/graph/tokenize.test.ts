import { describe, expect, test } from "vitest";
import { randomToken, TaskRef, TokenizeError, tokenize } from "../../src/graph/index.js";

const HEX16 = /^[0-9a-f]{16}$/;

function inc(x: number): number {
  return x + 1;
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}
class Pair {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe("tokenize", () => {
  test("returns 16 lowercase hex chars, the same for equal inputs", () => {
    expect(tokenize()).toMatch(HEX16);
    expect(tokenize("inc", 1, [2, { a: 3 }])).toMatch(HEX16);
    expect(tokenize("inc", 1, [2, { a: 3 }])).toBe(tokenize("inc", 1, [2, { a: 3 }]));
    expect(tokenize(new Float64Array([1, 2, 3]))).toBe(tokenize(new Float64Array([1, 2, 3])));
  });

  test("is pinned: tokens never change between releases", () => {
    // Keys built by one version must match keys built by another (shared clusters, caches).
    // If this fails, the hash changed: that is a breaking change, not a test to update lightly.
    expect(tokenize()).toBe("b0951ca161e9b0be");
    expect(tokenize("inc", 1, -0, NaN, 2n, null, undefined, true, [1, "a"], { b: 1, a: 2 })).toBe("d5ff3c4a80958283");
    expect(tokenize(new Uint8Array([1, 2, 3, 4, 5, 6, 7]))).toBe("3645e841c6ec38e8");
  });

  test("distinguishes values of different types and contents", () => {
    const values: unknown[] = [
      0, -0, 1, -1, 1.5, 2 ** 31, -(2 ** 31), 2 ** 53, NaN, Infinity, -Infinity, Number.MIN_VALUE,
      0n, 1n, -1n, 2n ** 70n,
      "", "0", "1", "a", "ab", "ba", "a\u0000", "\u0000a", "NaN", "undefined",
      true, false, null, undefined,
      [], [undefined], [null], [0], [1], [[1]], [1, 2], [2, 1], [[1, 2]], [[1], [2]], [[], []],
      {}, { a: 1 }, { a: "1" }, { b: 1 }, { a: 1, b: 2 }, { a: { b: 1 } }, { a: undefined },
      new Map(), new Map([[1, 2]]), new Map([[2, 1]]), new Map([["1", 2]]),
      new Set(), new Set([1]), new Set(["1"]), new Set([1, 2]),
      new Date(0), new Date(1),
      new TaskRef("a"), new TaskRef("b"), new TaskRef(""),
      inc, Math.max, Math.min,
      new Point(1, 2), new Pair(1, 2), new Point(2, 1),
      /a/, /a/g, new Error("x"), new Error("y"), new TypeError("x"),
      Symbol.for("s"), Symbol.for("t"),
    ];
    const tokens = values.map((v) => tokenize(v));
    const seen = new Map<string, unknown>();
    for (let i = 0; i < values.length; i++) {
      const prev = seen.get(tokens[i]!);
      if (prev !== undefined) throw new Error(`collision between ${String(prev)} and ${String(values[i])}`);
      seen.set(tokens[i]!, values[i] ?? String(values[i]));
    }
    expect(seen.size).toBe(values.length);
  });

  test("separates argument boundaries and nesting", () => {
    expect(tokenize("ab")).not.toBe(tokenize("a", "b"));
    expect(tokenize(1, 2)).not.toBe(tokenize([1, 2]));
    expect(tokenize([1], 2)).not.toBe(tokenize(1, [2]));
    expect(tokenize({ a: "b" })).not.toBe(tokenize({ ab: "" }));
  });

  test("NaN is one value, -0 and 0 are two", () => {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setUint32(0, 0x7ff80000);
    dv.setUint32(4, 1); // a NaN with a different payload
    const otherNaN = dv.getFloat64(0);
    expect(Number.isNaN(otherNaN)).toBe(true);
    expect(tokenize(otherNaN)).toBe(tokenize(NaN));
    expect(tokenize(0 / 0)).toBe(tokenize(NaN));
    expect(tokenize(-0)).not.toBe(tokenize(0));
    expect(tokenize(1)).toBe(tokenize(1.0));
  });

  test("plain objects are key-order independent; Map and Set are order independent", () => {
    expect(tokenize({ a: 1, b: [2, { c: 3, d: 4 }] })).toBe(tokenize({ b: [2, { d: 4, c: 3 }], a: 1 }));
    const nullProto = Object.assign(Object.create(null) as object, { a: 1 });
    expect(tokenize(nullProto)).toBe(tokenize({ a: 1 }));
    expect(tokenize(new Map([["a", 1], ["b", 2]]))).toBe(tokenize(new Map([["b", 2], ["a", 1]])));
    expect(tokenize(new Map([["a", 1], ["b", 2]]))).not.toBe(tokenize(new Map([["a", 2], ["b", 1]])));
    expect(tokenize(new Set([3, 1, 2]))).toBe(tokenize(new Set([1, 2, 3])));
    expect(tokenize(new Set([1, 2]))).not.toBe(tokenize(new Map([[1, 2]])));
  });

  test("typed arrays: dtype, length and every byte matter, alignment does not", () => {
    const bytes = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]);
    const asI32 = new Int32Array(bytes.buffer);
    const asU32 = new Uint32Array(bytes.buffer);
    const asF32 = new Float32Array(bytes.buffer);
    const all = [bytes, asI32, asU32, asF32, bytes.buffer, new DataView(bytes.buffer)].map((v) => tokenize(v));
    expect(new Set(all).size).toBe(all.length);

    expect(tokenize(new Uint8Array([]))).not.toBe(tokenize(new Uint8Array([0])));
    expect(tokenize(new Uint8Array([0]))).not.toBe(tokenize(new Uint8Array([0, 0])));
    expect(tokenize(new Float64Array(3))).not.toBe(tokenize(new Float64Array(4)));

    // Every byte, including the 1-3 bytes past the last whole word, changes the token.
    for (const len of [1, 2, 3, 4, 5, 7, 8, 9, 37]) {
      const base = new Uint8Array(len).map((_, i) => i * 7 + 1);
      const tokens = new Set([tokenize(base)]);
      for (let i = 0; i < len; i++) {
        const flipped = base.slice();
        flipped[i]! ^= 0x10;
        tokens.add(tokenize(flipped));
      }
      expect(tokens.size).toBe(len + 1);
    }

    // Swapping two words (same lane or different lanes) changes the token.
    const w = new Int32Array([1, 2, 3, 4, 5]);
    expect(tokenize(w)).not.toBe(tokenize(new Int32Array([2, 1, 3, 4, 5])));
    expect(tokenize(w)).not.toBe(tokenize(new Int32Array([3, 2, 1, 4, 5])));

    // The same bytes at an unaligned offset give the same token as an aligned copy.
    const big = new Uint8Array(64).map((_, i) => (i * 31) & 255);
    for (const offset of [1, 2, 3, 5]) {
      const view = new Uint8Array(big.buffer, offset, 41);
      expect(tokenize(view)).toBe(tokenize(view.slice()));
      const dv = new DataView(big.buffer, offset, 41);
      expect(tokenize(dv)).toBe(tokenize(new DataView(view.slice().buffer)));
    }
    // A subarray is its bytes, not its whole buffer.
    const f = new Float64Array([1, 2, 3, 4]);
    expect(tokenize(f.subarray(1, 3))).toBe(tokenize(new Float64Array([2, 3])));
  });

  test("TaskRef by key, functions by name and source", () => {
    expect(tokenize(new TaskRef("x-1"))).toBe(tokenize(new TaskRef("x-1")));
    expect(tokenize(new TaskRef("x"))).not.toBe(tokenize("x"));
    const a = function f(x: number) {
      return x;
    };
    const b = function f(x: number) {
      return x;
    };
    const c = function g(x: number) {
      return x;
    };
    expect(tokenize(a)).toBe(tokenize(b));
    expect(tokenize(a)).not.toBe(tokenize(c));
    expect(tokenize(inc)).not.toBe(tokenize(a));
  });

  test("__tessera_token__ names the object", () => {
    const coll = (name: string) => ({ __tessera_token__: () => name, data: Math.random() });
    expect(tokenize(coll("arr-1"))).toBe(tokenize(coll("arr-1")));
    expect(tokenize(coll("arr-1"))).not.toBe(tokenize(coll("arr-2")));
    expect(tokenize(coll("arr-1"))).not.toBe(tokenize("arr-1"));
    class Coll {
      constructor(readonly name: string) {}
      __tessera_token__(): string {
        // Nested tokenize calls must not disturb the outer one.
        return tokenize("coll", this.name);
      }
    }
    expect(tokenize([new Coll("a"), 1])).toBe(tokenize([new Coll("a"), 1]));
    expect(tokenize([new Coll("a"), 1])).not.toBe(tokenize([new Coll("b"), 1]));
    const bad = { __tessera_token__: () => 42 };
    expect(() => tokenize(bad)).toThrow(TokenizeError);
    expect(() => tokenize(bad)).toThrow(/returned number/);
  });

  test("class instances: constructor name and own enumerable properties", () => {
    expect(tokenize(new Point(1, 2))).toBe(tokenize(new Point(1, 2)));
    expect(tokenize(new Point(1, 2))).not.toBe(tokenize(new Pair(1, 2)));
    expect(tokenize(new Point(1, 2))).not.toBe(tokenize({ x: 1, y: 2 }));
  });

  test("cycles and absurd nesting throw a clear error; shared references are fine", () => {
    const a: unknown[] = [1];
    a.push(a);
    expect(() => tokenize(a)).toThrow(TokenizeError);
    expect(() => tokenize(a)).toThrow(/cycle/);
    const o: Record<string, unknown> = {};
    o.self = { o };
    expect(() => tokenize(o)).toThrow(/cycle/);
    const s = new Set<unknown>();
    s.add([s]);
    expect(() => tokenize(s)).toThrow(/cycle/);
    // The same object twice is not a cycle.
    const shared = { v: 1 };
    expect(tokenize([shared, shared])).toBe(tokenize([{ v: 1 }, { v: 1 }]));
    // Tokenizing still works after a thrown error (shared state was released).
    expect(tokenize(1)).toBe(tokenize(1));

    let deep: unknown = 0;
    for (let i = 0; i < 500; i++) deep = [deep];
    expect(tokenize(deep)).toMatch(HEX16);
    for (let i = 0; i < 1000; i++) deep = [deep];
    expect(() => tokenize(deep)).toThrow(/nested deeper/);
  });

  test("rejects values whose contents cannot be seen", () => {
    expect(() => tokenize(Promise.resolve(1))).toThrow(/Promise/);
    expect(() => tokenize(new WeakMap())).toThrow(TokenizeError);
  });

  test("no collisions among 200k distinct small inputs", () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 100_000; i++) tokens.add(tokenize(i));
    for (let i = 0; i < 100_000; i++) tokens.add(tokenize(`x-${i}`));
    expect(tokens.size).toBe(200_000);
  });
});

describe("randomToken", () => {
  test("16 hex chars, different every time", () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const t = randomToken();
      expect(t).toMatch(HEX16);
      tokens.add(t);
    }
    expect(tokens.size).toBe(1000);
  });
});
