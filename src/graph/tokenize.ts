/**
 * Deterministic tokens: `tokenize(op, ...args)` gives the same 16 hex chars for equal inputs in
 * every run, thread and process, so a collection can name its keys `inc-<token>[i]` and two
 * users building the same computation get the same keys (and share results).
 *
 * The value is walked once and fed, as a stream of 32-bit words, into the two-lane hash of
 * hash.ts. Every value writes a type tag first, so `1`, `"1"`, `[1]` and `1n` differ;
 * containers write their length, so nesting is unambiguous. Rules:
 *   - numbers: int32 as one word, the rest by float64 bits (one NaN; -0, 0, ±Infinity distinct);
 *   - plain objects with their keys sorted; Map and Set order-independent (entries hashed
 *     alone, then sorted), since equal sets must give equal keys;
 *   - typed arrays, DataView, ArrayBuffer by dtype name, length and bytes (bulk path);
 *   - TaskRef by key; functions by name and source (cached per function);
 *   - `__tessera_token__()` for objects that know their identity (collections);
 *   - other class instances by constructor name and own enumerable properties.
 * Cycles and nesting deeper than MAX_DEPTH throw TokenizeError. The tags below are part of
 * every token: changing one changes every key ever built.
 */

import { TokenizeError } from "./errors.js";
import { Hasher, hashBytes, hex8 } from "./hash.js";
import { TaskRef } from "./task.js";

/** Objects that name their own token (a collection returns its graph's name). */
export interface Tokenizable {
  __tessera_token__(): string;
}

const MAX_DEPTH = 1000;

// Type tags: arbitrary values, fixed forever.
const T_UNDEFINED = 1;
const T_NULL = 2;
const T_FALSE = 3;
const T_TRUE = 4;
const T_INT = 5;
const T_FLOAT = 6;
const T_STRING = 7;
const T_BIGINT = 8;
const T_SYMBOL = 9;
const T_ARRAY = 10;
const T_OBJECT = 11;
const T_MAP = 12;
const T_SET = 13;
const T_BYTES = 14;
const T_DATE = 15;
const T_REF = 16;
const T_FUNCTION = 17;
const T_CUSTOM = 18;
const T_INSTANCE = 19;
const T_REGEXP = 20;
const T_ERROR = 21;
const T_BOXED = 22;
const T_ARGS = 23;

const functionDigests = new WeakMap<Function, [number, number]>();

function functionDigest(fn: Function): [number, number] {
  let d = functionDigests.get(fn);
  if (d === undefined) {
    const h = new Hasher();
    h.string(fn.name);
    h.string(Function.prototype.toString.call(fn));
    d = h.digest();
    functionDigests.set(fn, d);
  }
  return d;
}

/** SharedArrayBuffer is missing where cross-origin isolation is off (most browser pages). */
function isSharedArrayBuffer(v: object): v is SharedArrayBuffer {
  return typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer;
}

function describe(v: object): string {
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" ? name : Object.prototype.toString.call(v);
}

/** One tokenize call: the hasher plus the objects on the current path (for cycle checks). */
class Walker {
  private path: object[] | undefined;

  constructor(private readonly h: Hasher) {}

  value(v: unknown): void {
    const h = this.h;
    switch (typeof v) {
      case "number":
        this.number(v);
        return;
      case "string":
        h.word(T_STRING);
        h.string(v);
        return;
      case "boolean":
        h.word(v ? T_TRUE : T_FALSE);
        return;
      case "undefined":
        h.word(T_UNDEFINED);
        return;
      case "bigint":
        h.word(T_BIGINT);
        h.string(v.toString(16));
        return;
      case "symbol":
        h.word(T_SYMBOL);
        h.string(Symbol.keyFor(v) ?? v.description ?? "");
        return;
      case "function": {
        const [a, b] = functionDigest(v);
        h.word(T_FUNCTION);
        h.word(a);
        h.word(b);
        return;
      }
      default:
        if (v === null) {
          h.word(T_NULL);
        } else if (v instanceof TaskRef) {
          h.word(T_REF);
          h.string(v.key);
        } else {
          this.object(v as object);
        }
    }
  }

  private number(x: number): void {
    // Int32 values (but not -0) take one word; anything else its float64 bits.
    if ((x | 0) === x && (x !== 0 || 1 / x > 0)) {
      this.h.word(T_INT);
      this.h.word(x);
    } else {
      this.h.word(T_FLOAT);
      this.h.float64(x);
    }
  }

  private object(v: object): void {
    const h = this.h;
    // Fast paths first: task arguments are mostly plain arrays and objects.
    const proto = Object.getPrototypeOf(v);
    if (proto === Array.prototype) {
      const a = v as unknown[];
      this.enter(v);
      h.word(T_ARRAY);
      h.word(a.length);
      for (let i = 0; i < a.length; i++) this.value(a[i]);
      this.leave();
      return;
    }
    const custom = (v as Partial<Tokenizable>).__tessera_token__;
    if ((proto === Object.prototype || proto === null) && typeof custom !== "function") {
      this.enter(v);
      h.word(T_OBJECT);
      this.properties(v as Record<string, unknown>);
      this.leave();
      return;
    }
    if (typeof custom === "function") {
      const token = custom.call(v);
      if (typeof token !== "string") {
        const what = `${describe(v)}.__tessera_token__() returned ${typeof token}`;
        throw new TokenizeError(`tokenize: ${what}, not a string`);
      }
      h.word(T_CUSTOM);
      h.string(token);
      return;
    }
    if (ArrayBuffer.isView(v)) {
      // Symbol.toStringTag is the dtype ("Float64Array"; "Uint8Array" for a Node Buffer too).
      h.word(T_BYTES);
      h.string((v as unknown as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] ?? "DataView");
      h.word((v as { length?: number }).length ?? v.byteLength);
      hashBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), h);
      return;
    }
    if (v instanceof ArrayBuffer || isSharedArrayBuffer(v)) {
      h.word(T_BYTES);
      h.string(Object.prototype.toString.call(v));
      h.word(v.byteLength);
      hashBytes(new Uint8Array(v), h);
      return;
    }
    if (v instanceof Date) {
      h.word(T_DATE);
      this.number(v.getTime());
      return;
    }
    if (v instanceof RegExp) {
      h.word(T_REGEXP);
      h.string(v.source);
      h.string(v.flags);
      return;
    }
    if (v instanceof Number || v instanceof String || v instanceof Boolean) {
      h.word(T_BOXED);
      this.value(v.valueOf());
      return;
    }
    if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet) {
      const why = "its contents are not observable (await it or pass plain data)";
      throw new TokenizeError(`tokenize: cannot tokenize a ${describe(v)}; ${why}`);
    }
    this.enter(v);
    if (Array.isArray(v)) {
      // An Array subclass: its elements, under its class name.
      h.word(T_INSTANCE);
      h.string(describe(v));
      h.word(v.length);
      for (let i = 0; i < v.length; i++) this.value(v[i]);
    } else if (v instanceof Map) {
      h.word(T_MAP);
      this.unordered(v.size, v.entries());
    } else if (v instanceof Set) {
      h.word(T_SET);
      this.unordered(v.size, v.values());
    } else {
      if (v instanceof Error) {
        h.word(T_ERROR);
        h.string(v.name);
        h.string(v.message);
      } else {
        h.word(T_INSTANCE);
        h.string(describe(v));
      }
      this.properties(v as Record<string, unknown>);
    }
    this.leave();
  }

  private properties(v: Record<string, unknown>): void {
    const keys = Object.keys(v);
    sortStrings(keys);
    this.h.word(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      this.h.string(k);
      this.value(v[k]);
    }
  }

  /** Hash each item alone, sort the digests, feed them: equal collections in any order agree. */
  private unordered(size: number, items: Iterable<unknown>): void {
    const digests: [number, number][] = [];
    for (const item of items) {
      const sub = new Walker(new Hasher());
      sub.path = this.path?.slice(); // cycles through a Set/Map still count
      sub.value(item);
      digests.push(sub.h.digest());
    }
    digests.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    this.h.word(size);
    for (const [a, b] of digests) {
      this.h.word(a);
      this.h.word(b);
    }
  }

  private enter(v: object): void {
    const path = (this.path ??= []);
    if (path.includes(v)) {
      throw new TokenizeError(
        `tokenize: ${describe(v)} contains itself (a cycle); ` +
          "give it a __tessera_token__() method or pass acyclic data",
      );
    }
    if (path.length >= MAX_DEPTH) {
      const fix = "give it a __tessera_token__() method";
      throw new TokenizeError(`tokenize: value nested deeper than ${MAX_DEPTH} levels; ${fix}`);
    }
    path.push(v);
  }

  reset(): void {
    if (this.path !== undefined) this.path.length = 0;
  }

  private leave(): void {
    this.path!.pop();
  }
}

/** Sort in place by code unit; insertion sort for the few keys plain objects usually have. */
function sortStrings(a: string[]): void {
  if (a.length > 16) {
    a.sort();
    return;
  }
  for (let i = 1; i < a.length; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > x) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
}

/** Deterministic 16-hex-char token of the arguments (see the module note for the rules). */
export function tokenize(...values: unknown[]): string {
  // Reuse one hasher and walker: allocating them costs as much as hashing a short argument
  // list. A `__tessera_token__` method may call tokenize again, so nested calls get new ones.
  let walker: Walker;
  let h: Hasher;
  if (sharedBusy) {
    h = new Hasher();
    walker = new Walker(h);
  } else {
    h = sharedHasher;
    walker = sharedWalker;
    h.reset();
    walker.reset();
    sharedBusy = true;
  }
  try {
    h.word(T_ARGS);
    h.word(values.length);
    for (let i = 0; i < values.length; i++) walker.value(values[i]);
    return h.hex();
  } finally {
    if (h === sharedHasher) sharedBusy = false;
  }
}

const sharedHasher = new Hasher();
const sharedWalker = new Walker(sharedHasher);
let sharedBusy = false;

/** A fresh random 16-hex-char token, for impure tasks whose key must never be shared. */
export function randomToken(): string {
  const words = new Uint32Array(2);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (crypto?.getRandomValues) {
    crypto.getRandomValues(words);
  } else {
    words[0] = Math.floor(Math.random() * 0x100000000);
    words[1] = Math.floor(Math.random() * 0x100000000);
  }
  return hex8(words[0]!) + hex8(words[1]!);
}
