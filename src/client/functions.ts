/**
 * Naming the function a task calls. A task can only carry a name: a registered op
 * (`op("myops.inc")`, or a plain string where a function is expected), or a function shipped as
 * source, which gets the op name `src:<token of its source>` and is compiled once per worker.
 */

import { tokenize } from "../graph/tokenize.js";
import { TesseraError } from "../errors.js";
import type { SourceDef } from "../worker/protocol.js";

/** A reference to a registered op by name: built in, or `<module name>.<export>`. */
export class OpRef {
  constructor(readonly name: string) {
    if (typeof name !== "string" || name.length === 0) throw new TesseraError("op(name): name must be a non-empty string");
  }
}

export function op(name: string): OpRef {
  return new OpRef(name);
}

export type FunctionLike = ((...args: any[]) => unknown) | OpRef | string;

export interface ResolvedFn {
  op: string;
  /** Prefix for keys: the function's name, made key-safe. */
  name: string;
  source?: SourceDef;
}

const cache = new WeakMap<object, ResolvedFn>();

export function resolveFn(fn: FunctionLike): ResolvedFn {
  if (typeof fn === "string") return { op: fn, name: keySafe(fn.slice(fn.lastIndexOf(".") + 1)) };
  if (fn instanceof OpRef) return { op: fn.name, name: keySafe(fn.name.slice(fn.name.lastIndexOf(".") + 1)) };
  if (typeof fn !== "function") throw new TesseraError(`expected a function, an op(name) or an op name, got ${typeof fn}`);
  let r = cache.get(fn);
  if (r) return r;
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TesseraError(
      `cannot ship function ${fn.name || "(anonymous)"} to workers: it is native or bound; register it in a module and use op(name)`,
    );
  }
  const name = keySafe(fn.name) || "lambda";
  const opName = `src:${tokenize(source)}`;
  r = { op: opName, name, source: { op: opName, name: fn.name, source } };
  cache.set(fn, r);
  return r;
}

/** Letters, digits, `_` and `.` only; keys use `-` before the token. */
export function keySafe(name: string): string {
  return name.replace(/^bound /, "").replace(/[^A-Za-z0-9_.]+/g, "_");
}
