/**
 * The op registry: how a worker turns a task's `op` name into a function.
 *
 * - Built-in ops (core ones in builtins.ts; arrays, dataframes and ML register theirs) are
 *   registered by name in every worker when their module is imported.
 * - User modules: `client.registerModule(url, { name })` makes every worker import the URL and
 *   register each exported function as `<name>.<export>`.
 * - Pure functions shipped as source (`delayed(fn)`, `client.submit(fn)`): op `src:<token>`,
 *   compiled once per worker. Allowed only where client and workers share a trust boundary
 *   (a local cluster), never by default on a worker reached over a network.
 *
 * An op runs with `this` bound to a TaskContext (key, worker id, AbortSignal), so an op written
 * as a `function` can watch for cancellation; arrow functions simply ignore it.
 */

import { TesseraError } from "../errors.js";
import type { Key } from "../graph/task.js";

export interface TaskContext {
  key: Key;
  worker: string;
  /** Aborted when the task is cancelled while it runs. */
  signal: AbortSignal;
}

export type OpFn = (this: TaskContext, ...args: any[]) => unknown;

const builtins = new Map<string, OpFn>();

/** Register a built-in op in every registry created from now on in this realm. */
export function registerOp(name: string, fn: OpFn): void {
  if (typeof fn !== "function") throw new TesseraError(`registerOp(${JSON.stringify(name)}): expected a function, got ${typeof fn}`);
  builtins.set(name, fn);
}

export class OpRegistry {
  private readonly ops = new Map<string, OpFn>(builtins);
  private readonly sources = new Map<string, { name: string; source: string }>();

  constructor(readonly allowSource: boolean) {}

  register(name: string, fn: OpFn): void {
    this.ops.set(name, fn);
  }

  has(name: string): boolean {
    return this.ops.has(name) || builtins.has(name) || this.sources.has(name);
  }

  /** Remember a shipped function's source; compiled on first use. */
  define(op: string, name: string, source: string): void {
    if (!this.allowSource) {
      throw new TesseraError(
        `worker refuses function ${name} shipped as source: this worker only runs registered ops (register a module with client.registerModule)`,
      );
    }
    if (!this.ops.has(op)) this.sources.set(op, { name, source });
  }

  get(op: string): OpFn {
    let fn = this.ops.get(op) ?? builtins.get(op);
    if (fn) return fn;
    const src = this.sources.get(op);
    if (src) {
      fn = compileSource(src.source, src.name);
      this.ops.set(op, fn);
      this.sources.delete(op);
      return fn;
    }
    throw new TesseraError(
      `unknown op ${JSON.stringify(op)}: not built in, not in a registered module, and not shipped as source` +
        (op.includes(".") ? ` (did client.registerModule(..., { name: ${JSON.stringify(op.split(".")[0])} }) finish?)` : ""),
    );
  }

  /** Import a module and register its exported functions as `<name>.<export>`. Returns their names. */
  async importModule(url: string, name: string): Promise<string[]> {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
    } catch (err) {
      throw new TesseraError(`could not import module ${url} for ops "${name}.*": ${(err as Error).message}`, { cause: err });
    }
    const names: string[] = [];
    for (const [exp, value] of Object.entries(mod)) {
      if (typeof value !== "function") continue;
      this.ops.set(`${name}.${exp}`, value as OpFn);
      names.push(`${name}.${exp}`);
    }
    if (names.length === 0) throw new TesseraError(`module ${url} exports no functions to register as "${name}.*" ops`);
    return names;
  }
}

/**
 * Compile a function from its `toString()`. Accepts function declarations and expressions,
 * arrows, async and generator forms, and method shorthand (`inc(x) { ... }`).
 */
export function compileSource(source: string, name: string): OpFn {
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TesseraError(`cannot ship function ${name}: it is native or bound; register it in a module instead`);
  }
  if (/^class\b/.test(source)) throw new TesseraError(`cannot ship ${name}: it is a class, not a function`);
  const attempts = [`return (${source});`, `return ({ ${source} })[${JSON.stringify(name)}];`];
  let firstError: unknown;
  for (const body of attempts) {
    try {
      const fn = new Function(`"use strict";\n${body}`)() as unknown;
      if (typeof fn === "function") return fn as OpFn;
    } catch (err) {
      firstError ??= err;
    }
  }
  throw new TesseraError(`cannot compile function ${name} shipped as source: ${(firstError as Error)?.message ?? "not a function"}`, {
    cause: firstError,
  });
}
