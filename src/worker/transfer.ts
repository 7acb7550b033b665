/**
 * Preparing a value to cross a thread boundary with postMessage.
 *
 * A typed array that owns its whole ArrayBuffer can be transferred: the receiver gets the
 * memory, the sender's view becomes empty, nothing is copied. We transfer only when the sender
 * gives the value up (a move). A view into a larger buffer (a slice of wasm memory, an Arrow
 * buffer) would make structured clone copy the entire underlying buffer, so it is first cut to
 * its own bytes. SharedArrayBuffers are shared, never copied or transferred.
 */

import { isContainer } from "../graph/task.js";
import { TO_WIRE, hasWireForm } from "./resource.js";

const MAX_DEPTH = 4;

export interface Prepared {
  value: unknown;
  transfer: ArrayBuffer[];
}

export function prepareForPost(value: unknown, move: boolean): Prepared {
  const transfer: ArrayBuffer[] = [];
  const out = visit(value, move, transfer, 0);
  return { value: out, transfer };
}

function isShared(b: ArrayBufferLike): boolean {
  return typeof SharedArrayBuffer !== "undefined" && b instanceof SharedArrayBuffer;
}

function visit(v: unknown, move: boolean, transfer: ArrayBuffer[], depth: number): unknown {
  if (v === null || typeof v !== "object") return v;
  if (hasWireForm(v)) {
    // A fresh copy made for the receiver: always transferred, never copied again.
    return visit(v[TO_WIRE](), true, transfer, depth);
  }
  if (ArrayBuffer.isView(v)) {
    const buf = v.buffer;
    if (isShared(buf)) return v;
    const whole = v.byteOffset === 0 && v.byteLength === buf.byteLength;
    if (!whole) {
      // Cut to its own bytes; the copy is ours to transfer.
      const copy = copyView(v);
      transfer.push(copy.buffer as ArrayBuffer);
      return copy;
    }
    if (move && !transfer.includes(buf as ArrayBuffer)) transfer.push(buf as ArrayBuffer);
    return v;
  }
  if (v instanceof ArrayBuffer) {
    if (move && !transfer.includes(v)) transfer.push(v);
    return v;
  }
  if (depth >= MAX_DEPTH || !isContainer(v)) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const y = visit(x, move, transfer, depth + 1);
      if (y !== x) (out ??= v.slice())[i] = y;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | undefined;
  for (const k in v) {
    const x = v[k];
    const y = visit(x, move, transfer, depth + 1);
    if (y !== x) (out ??= { ...v })[k] = y;
  }
  return out ?? v;
}

function copyView(v: ArrayBufferView): ArrayBufferView {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  if (v instanceof DataView) return new DataView(bytes.buffer);
  const Ctor = v.constructor as new (b: ArrayBuffer, o: number, n: number) => ArrayBufferView;
  const per = (v as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  return new Ctor(bytes.buffer, 0, v.byteLength / per);
}

/**
 * The ArrayBuffers a value's typed arrays own whole (the ones a move would transfer), down to
 * the depth `prepareForPost` looks. Arrays of plain values are not walked (nothing to find).
 * `partial`, when given, collects the buffers the value views only part of (a slice, a column
 * cut from a larger buffer): it does not own them, but holds their memory.
 */
export function ownedBuffers(value: unknown, out: ArrayBufferLike[] = [], depth = 0, partial?: ArrayBufferLike[]): ArrayBufferLike[] {
  if (value === null || typeof value !== "object" || hasWireForm(value)) return out;
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer;
    if (isShared(buf)) return out;
    if (value.byteOffset === 0 && value.byteLength === buf.byteLength) out.push(buf);
    else partial?.push(buf);
    return out;
  }
  if (value instanceof ArrayBuffer) {
    out.push(value);
    return out;
  }
  if (depth >= MAX_DEPTH || !isContainer(value)) return out;
  if (Array.isArray(value)) {
    if (value.length > 0 && (value[0] === null || typeof value[0] !== "object")) return out;
    for (const x of value) ownedBuffers(x, out, depth + 1, partial);
    return out;
  }
  for (const k in value) ownedBuffers((value as Record<string, unknown>)[k], out, depth + 1, partial);
  return out;
}
