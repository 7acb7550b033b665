/**
 * The spill format: one stored value as bytes on disk, and back, bit for bit.
 *
 *   0   "TSP2"            magic and version ("TSP1" files, without the checksum, still read)
 *   4   u32 LE            H, bytes of the header
 *   8   u32 LE            B, number of buffers
 *   12  u32 LE            FNV-1a of the header bytes: no length in it is trusted unchecked
 *   16  header            UTF-8 JSON: { v: tree, b: [[type, byteLength, stored?], ...] }
 *   16+H buffers          each buffer, back to back, in `b` order: its raw bytes, or, where
 *                         `stored` is given, `stored` bytes of compressed blocks (spill-codec.ts)
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
import { SpillCorruptError, compressBuffer, decompressBuffer } from "./spill-codec.js";
import { TO_WIRE, WIRE_VIEW, hasWireForm, hasWireView } from "./resource.js";

const MAGIC1 = 0x31505354; // "TSP1" little endian
const MAGIC = 0x32505354; // "TSP2"
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

/** Bytes per element, the stride of the shuffle before compression. */
function elemSize(type: ViewType): number {
  if (type === "ArrayBuffer" || type === "DataView") return 1;
  return VIEW_TYPES[type].BYTES_PER_ELEMENT;
}

function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

export interface Encoded {
  /** Bytes to write in order: the prefix and header, then one byte view per buffer. */
  parts: Uint8Array[];
  byteLength: number;
}

/**
 * The bytes of `value` in the spill format: views of its buffers, not copies, or with
 * `compress`, buffers that compress well as compressed blocks (the others still as views).
 */
export function encodeSpill(value: unknown, opts: { compress?: boolean } = {}): Encoded {
  const enc = new Encoder();
  const v = enc.tree(value, 0);
  let parts: Uint8Array[] = enc.parts;
  if (opts.compress) {
    parts = [];
    for (let i = 0; i < enc.parts.length; i++) {
      const entry = enc.table[i]!;
      const c = compressBuffer(enc.parts[i]!, elemSize(entry[0]));
      if (c === undefined) parts.push(enc.parts[i]!);
      else {
        entry.push(c.byteLength);
        for (const p of c.parts) parts.push(p);
      }
    }
  }
  const header = new TextEncoder().encode(JSON.stringify({ v, b: enc.table }));
  const head = new Uint8Array(PREFIX_BYTES + header.byteLength);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, header.byteLength, true);
  dv.setUint32(8, enc.table.length, true);
  dv.setUint32(12, fnv1a(header), true);
  head.set(header, PREFIX_BYTES);
  let byteLength = head.byteLength;
  for (const p of parts) byteLength += p.byteLength;
  return { parts: [head, ...parts], byteLength };
}

class Encoder {
  readonly parts: Uint8Array[] = [];
  readonly table: [ViewType, number, number?][] = [];
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
 * A value from its spill-format bytes, each buffer read into an ArrayBuffer of its own (one
 * `reuse` hands over for that byte length, else a new one); or, for a resource with one buffer
 * that `revive` takes, into the memory it gives.
 */
export function decodeSpill(read: ReadAt, revive?: SpillReviver, reuse?: (byteLength: number) => ArrayBuffer | undefined): unknown {
  const prefix = new Uint8Array(PREFIX_BYTES);
  read(0, prefix);
  const dv = new DataView(prefix.buffer);
  const magic = dv.getUint32(0, true);
  if (magic !== MAGIC && magic !== MAGIC1) throw new TesseraError("spill: not a spill file (bad magic number)");
  const h = dv.getUint32(4, true);
  // The file must hold what a length says before that much is allocated: read its last byte first.
  if (h > 0) read(PREFIX_BYTES + h - 1, new Uint8Array(1));
  const headerBytes = new Uint8Array(h);
  read(PREFIX_BYTES, headerBytes);
  if (magic === MAGIC && fnv1a(headerBytes) !== dv.getUint32(12, true)) {
    throw new SpillCorruptError(`spill: the header (bytes ${PREFIX_BYTES} to ${PREFIX_BYTES + h}) fails its checksum (corrupt file)`);
  }
  let parsed: { v: Tree; b: [ViewType, number, number?][] };
  try {
    parsed = JSON.parse(new TextDecoder().decode(headerBytes)) as typeof parsed;
  } catch (err) {
    throw new SpillCorruptError(`spill: the header at byte ${PREFIX_BYTES} is not JSON (${(err as Error).message})`);
  }
  const { v, b } = parsed;
  if (!Array.isArray(b) || b.length !== dv.getUint32(8, true)) throw new TesseraError("spill: header and buffer count disagree");
  let at = PREFIX_BYTES + h;
  const total = checkTable(b);
  if (total > 0) read(at + total - 1, new Uint8Array(1));
  const fill = (into: Uint8Array, type: ViewType, stored: number | undefined): void => {
    if (stored === undefined) read(at, into);
    else decompressBuffer(read, at, stored, into, elemSize(type));
    at += stored ?? into.byteLength;
  };
  if (revive !== undefined && b.length === 1 && v !== null && typeof v === "object" && !Array.isArray(v) && v.$ === "res") {
    const target = revive(untree(v.v as Tree, [null as never]), b[0]![0], b[0]![1]);
    if (target !== undefined) {
      try {
        fill(target.into, b[0]![0], b[0]![2]);
      } catch (err) {
        target.abort();
        throw err;
      }
      return target.value;
    }
  }
  const buffers: (ArrayBufferView | ArrayBuffer)[] = [];
  for (const [type, n, stored] of b) {
    const buf = reuse?.(n) ?? new ArrayBuffer(n);
    fill(new Uint8Array(buf), type, stored);
    if (type === "ArrayBuffer") buffers.push(buf);
    else if (type === "DataView") buffers.push(new DataView(buf));
    else buffers.push(new (VIEW_TYPES[type] as unknown as new (b: ArrayBuffer) => ArrayBufferView)(buf));
  }
  return untree(v, buffers);
}

/** Checks the buffer table before anything is allocated from it; the bytes its buffers take on disk. */
function checkTable(b: unknown[]): number {
  let total = 0;
  for (const e of b) {
    const [type, n, stored] = (Array.isArray(e) ? e : []) as [ViewType, number, number?];
    if (type !== "ArrayBuffer" && !Object.hasOwn(VIEW_TYPES, type)) throw new TesseraError(`spill: unknown buffer type ${JSON.stringify(type)}`);
    const ok = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
    if (!ok(n) || n % elemSize(type) !== 0 || (stored !== undefined && (!ok(stored) || stored < 4))) {
      throw new SpillCorruptError(`spill: bad buffer entry ${JSON.stringify(e)} in the header`);
    }
    total += stored ?? n;
  }
  return total;
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
