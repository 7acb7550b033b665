/**
 * The spill format: one stored value as bytes on disk, and back, bit for bit.
 *
 *   0   "TSP1"            magic and version
 *   4   u32 LE            H, bytes of the header
 *   8   u32 LE            B, number of buffers
 *   12  u32 LE            0 (reserved)
 *   16  header            UTF-8 JSON: { v: tree, b: [[type, byteLength], ...] }
 *   16+H buffers          the raw bytes of each buffer, back to back, in `b` order
 *
 * The tree is JSON with tagged objects for what JSON cannot say ({$:"num",v:"NaN"}, bigint,
 * undefined, typed arrays as {$:"view",b:i}, plain objects as {$:"obj",v:{...}} so that user
 * data with a "$" key is never read as a tag). Arrays are JSON arrays. This covers what workers
 * keep: typed arrays of every kind (BigInt64Array, Float32 NaN payloads: the bytes are copied,
 * never the numbers), array blocks, dataframe Frames (dictionary strings live in the header as
 * JSON strings, which round-trip lone surrogates too), Maps, Sets, Dates and nests of them.
 * (Holes in a JS array come back as undefined.)
 *
 * Few copies: writing hands the disk the header and a byte view of each typed array as they are
 * (a block in wasm memory is written from a view of it, not copied out first); reading gives
 * each buffer its own ArrayBuffer and reads the file straight into it, so a value that comes
 * back can be transferred to another thread without copying it again.
 */

import { TesseraError } from "../errors.js";
import { TO_WIRE, WIRE_VIEW, hasWireForm, hasWireView } from "./resource.js";

const MAGIC = 0x31505354; // "TSP1" little endian
export const PREFIX_BYTES = 16;
const MAX_DEPTH = 64;

/** A value this format cannot hold (a class instance, shared memory, a function): it stays in memory. */
export class SpillFormatError extends TesseraError {
  override name = "SpillFormatError";
}

type Tree = null | boolean | number | string | Tree[] | { $: string; [k: string]: unknown };

const VIEW_TYPES = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
} as const;
export type ViewType = keyof typeof VIEW_TYPES | "ArrayBuffer";

export interface Encoded {
  /** Bytes to write in order: the prefix and header, then one byte view per buffer. */
  parts: Uint8Array[];
  byteLength: number;
}

/** The bytes of `value` in the spill format (views of its buffers, not copies). */
export function encodeSpill(value: unknown): Encoded {
  const enc = new Encoder();
  const v = enc.tree(value, 0);
  const header = new TextEncoder().encode(JSON.stringify({ v, b: enc.table }));
  const head = new Uint8Array(PREFIX_BYTES + header.byteLength);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, header.byteLength, true);
  dv.setUint32(8, enc.table.length, true);
  head.set(header, PREFIX_BYTES);
  let byteLength = head.byteLength;
  for (const p of enc.parts) byteLength += p.byteLength;
  return { parts: [head, ...enc.parts], byteLength };
}

class Encoder {
  readonly parts: Uint8Array[] = [];
  readonly table: [ViewType, number][] = [];
  /** The same buffer object reached twice is written once and comes back as one object. */
  private readonly seen = new Map<object, number>();

  tree(v: unknown, depth: number): Tree {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        return Number.isFinite(v) && !Object.is(v, -0) ? v : { $: "num", v: Object.is(v, -0) ? "-0" : String(v) };
      case "bigint":
        return { $: "big", v: v.toString() };
      case "undefined":
        return { $: "undef" };
      case "object":
        break;
      default:
        throw new SpillFormatError(`spill: cannot write a ${typeof v}`);
    }
    if (v === null) return null;
    if (depth > MAX_DEPTH) throw new SpillFormatError(`spill: value nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return { $: "view", b: this.buffer(v) };
    if (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer) {
      throw new SpillFormatError("spill: shared memory is not spilled (writing it out would free nothing)");
    }
    // Marked, so that reading it back may make the resource again instead of plain data.
    if (hasWireView(v)) return { $: "res", v: this.tree(v[WIRE_VIEW](), depth + 1) };
    if (hasWireForm(v)) return this.tree(v[TO_WIRE](), depth + 1);
    if (Array.isArray(v)) {
      const out = new Array<Tree>(v.length);
      for (let i = 0; i < v.length; i++) out[i] = this.tree(v[i], depth + 1);
      return out;
    }
    if (v instanceof Map) return { $: "map", v: [...v].map(([k, x]) => [this.tree(k, depth + 1), this.tree(x, depth + 1)]) };
    if (v instanceof Set) return { $: "set", v: [...v].map((x) => this.tree(x, depth + 1)) };
    if (v instanceof Date) return { $: "date", v: this.tree(v.getTime(), depth + 1) };
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (v as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new SpillFormatError(`spill: cannot write a ${name} (only plain data, typed arrays and array blocks are spilled)`);
    }
    const o: Record<string, Tree> = {};
    for (const k of Object.keys(v)) setOwn(o, k, this.tree((v as Record<string, unknown>)[k], depth + 1));
    return proto === null ? { $: "obj", v: o, n: 1 } : { $: "obj", v: o };
  }

  private buffer(v: ArrayBufferView | ArrayBuffer): number {
    const known = this.seen.get(v);
    if (known !== undefined) return known;
    let type: ViewType;
    let bytes: Uint8Array;
    if (v instanceof ArrayBuffer) {
      type = "ArrayBuffer";
      bytes = new Uint8Array(v);
    } else {
      if (typeof SharedArrayBuffer !== "undefined" && v.buffer instanceof SharedArrayBuffer) {
        throw new SpillFormatError("spill: a view of shared memory is not spilled (writing it out would free nothing)");
      }
      type = viewType(v);
      bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    }
    const i = this.table.length;
    this.table.push([type, bytes.byteLength]);
    this.parts.push(bytes);
    this.seen.set(v, i);
    return i;
  }
}

/** The built-in view type of `v` (Node's Buffer is a Uint8Array). */
function viewType(v: ArrayBufferView): ViewType {
  for (const name in VIEW_TYPES) if (v instanceof VIEW_TYPES[name as keyof typeof VIEW_TYPES]) return name as ViewType;
  throw new SpillFormatError(`spill: cannot write a ${v.constructor.name}`);
}

/** Reads `into.byteLength` bytes at byte offset `at` of one spilled value, or throws. */
export type ReadAt = (at: number, into: Uint8Array) => void;

/**
 * Makes a resource again from its spilled wire form (e.g. an array block in wasm memory), given
 * the form with its one buffer absent (null) and that buffer's type and byte length: memory to
 * read the buffer straight into, the value it becomes, and how to let go of it if the read
 * fails. Undefined: not one it knows, or no room; it comes back as plain data.
 */
export type SpillReviver = (
  wire: unknown,
  type: ViewType,
  byteLength: number,
) => { into: Uint8Array; value: unknown; abort(): void } | undefined;

/**
 * A value from its spill-format bytes, each buffer read into an ArrayBuffer of its own; or, for
 * a resource with one buffer that `revive` takes, into the memory it gives.
 */
export function decodeSpill(read: ReadAt, revive?: SpillReviver): unknown {
  const prefix = new Uint8Array(PREFIX_BYTES);
  read(0, prefix);
  const dv = new DataView(prefix.buffer);
  if (dv.getUint32(0, true) !== MAGIC) throw new TesseraError("spill: not a spill file (bad magic number)");
  const headerBytes = new Uint8Array(dv.getUint32(4, true));
  read(PREFIX_BYTES, headerBytes);
  const { v, b } = JSON.parse(new TextDecoder().decode(headerBytes)) as { v: Tree; b: [ViewType, number][] };
  if (!Array.isArray(b) || b.length !== dv.getUint32(8, true)) throw new TesseraError("spill: header and buffer count disagree");
  const buffers: (ArrayBufferView | ArrayBuffer)[] = [];
  let at = PREFIX_BYTES + headerBytes.byteLength;
  if (revive !== undefined && b.length === 1 && v !== null && typeof v === "object" && !Array.isArray(v) && v.$ === "res") {
    const target = revive(untree(v.v as Tree, [null as never]), b[0]![0], b[0]![1]);
    if (target !== undefined) {
      try {
        read(at, target.into);
      } catch (err) {
        target.abort();
        throw err;
      }
      return target.value;
    }
  }
  for (const [type, n] of b) {
    const buf = new ArrayBuffer(n);
    read(at, new Uint8Array(buf));
    at += n;
    if (type === "ArrayBuffer") buffers.push(buf);
    else if (type === "DataView") buffers.push(new DataView(buf));
    else {
      const Ctor = VIEW_TYPES[type] as unknown as new (b: ArrayBuffer) => ArrayBufferView;
      if (typeof Ctor !== "function") throw new TesseraError(`spill: unknown buffer type ${JSON.stringify(type)}`);
      buffers.push(new Ctor(buf));
    }
  }
  return untree(v, buffers);
}

/** o[k] = v, where an own "__proto__" key stays data (assigning it would set the prototype). */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__") Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function untree(t: Tree, buffers: readonly (ArrayBufferView | ArrayBuffer)[]): unknown {
  if (t === null || typeof t !== "object") return t;
  if (Array.isArray(t)) {
    const out = new Array<unknown>(t.length);
    for (let i = 0; i < t.length; i++) out[i] = untree(t[i]!, buffers);
    return out;
  }
  switch (t.$) {
    case "num":
      return t.v === "-0" ? -0 : Number(t.v);
    case "big":
      return BigInt(t.v as string);
    case "undef":
      return undefined;
    case "res":
      return untree(t.v as Tree, buffers);
    case "view":
      return buffers[t.b as number];
    case "map":
      return new Map((t.v as [Tree, Tree][]).map(([k, x]) => [untree(k, buffers), untree(x, buffers)]));
    case "set":
      return new Set((t.v as Tree[]).map((x) => untree(x, buffers)));
    case "date":
      return new Date(untree(t.v as Tree, buffers) as number);
    case "obj": {
      const src = t.v as Record<string, Tree>;
      const o: Record<string, unknown> = t.n === 1 ? Object.create(null) : {};
      for (const k of Object.keys(src)) setOwn(o, k, untree(src[k]!, buffers));
      return o;
    }
    default:
      throw new TesseraError(`spill: unknown tag ${JSON.stringify(t.$)} in a spill file`);
  }
}
