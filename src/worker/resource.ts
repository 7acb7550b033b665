/**
 * Values that own something outside the JS heap (a region of wasm memory) and so need more
 * than garbage collection. The chunk store retains a value when it stores it under a key and
 * releases it when the key goes (one value may sit under two keys: an alias); postMessage
 * cannot carry such a value, so it says what to send instead.
 */

export const RETAIN: unique symbol = Symbol.for("tessera.retain") as never;
export const RELEASE: unique symbol = Symbol.for("tessera.release") as never;
export const TO_WIRE: unique symbol = Symbol.for("tessera.toWire") as never;
export const REFS: unique symbol = Symbol.for("tessera.refs") as never;
export const WIRE_VIEW: unique symbol = Symbol.for("tessera.wireView") as never;

/**
 * Reference counted: [RELEASE] frees the resource when no reference is left. A new one has no
 * references; a resource nobody retained (an intermediate inside a fused task) is released once
 * by whoever made it obsolete.
 */
export interface Resource {
  [RETAIN](): void;
  [RELEASE](): void;
  readonly [REFS]: number;
}

/** A value that crosses threads as something else: plain, structured-clonable, owned by the receiver. */
export interface WireConvertible {
  [TO_WIRE](): unknown;
}

/**
 * The wire form without the copy: its buffers may be views into the resource's own memory, valid
 * only until the next allocation. For writing the value out at once (spilling to disk).
 */
export interface WireViewable {
  [WIRE_VIEW](): unknown;
}

export function hasWireView(v: unknown): v is WireViewable {
  return v !== null && typeof v === "object" && typeof (v as Partial<WireViewable>)[WIRE_VIEW] === "function";
}

export function isResource(v: unknown): v is Resource {
  return v !== null && typeof v === "object" && typeof (v as Partial<Resource>)[RELEASE] === "function";
}

export function hasWireForm(v: unknown): v is WireConvertible {
  return v !== null && typeof v === "object" && typeof (v as Partial<WireConvertible>)[TO_WIRE] === "function";
}
