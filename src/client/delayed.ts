/**
 * Delayed: lazy function calls (dask.delayed). `delayed(fn)` returns a function that records a
 * call instead of running it; calls compose (a Delayed or a Future can be an argument of
 * another call) into a graph that `compute()` runs on the cluster.
 *
 * A Delayed holds only its own node and its parents, so building a chain of n calls costs O(n),
 * and the graph is collected by one walk when computed. Keys are `<fn name>-<token>`, the token
 * of the function and its arguments, so equal calls share a key (pure, the default); with
 * `pure: false` each call gets a fresh key.
 */

import { linkDepsByKey, withDependents, type IndexedGraph } from "../graph/dag.js";
import { DataNode, Task, TaskRef, isContainer, type Graph, type GraphNode, type Key, type TaskOptions } from "../graph/task.js";
import { randomToken, tokenize } from "../graph/tokenize.js";
import type { SourceDef } from "../worker/protocol.js";
import { COLLECTION, type Collection, type CollectionSpec } from "./collection.js";
import { Future } from "./future.js";
import { OpRef, resolveFn, type FunctionLike } from "./functions.js";
import { currentClient, type ComputeOptions } from "./current.js";
import { checkTaskOptions } from "./options.js";

export interface DelayedOptions extends TaskOptions {
  /** Key prefix instead of the function's name. */
  name?: string;
  /** Same function and arguments give the same key (default true). */
  pure?: boolean;
}

export class Delayed<T = unknown> implements Collection<T> {
  /** @internal use delayed() */
  constructor(
    readonly key: Key,
    /** null when the value is already on the cluster (a future). */
    private readonly node: GraphNode | null,
    private readonly parents: readonly Delayed[],
    private readonly source: SourceDef | undefined,
    private readonly future: Future<T> | undefined,
  ) {}

  /** The last walk (COLLECTION) that reached this Delayed, and its node's index in that walk (-1: a future). */
  private walk = 0;
  private slot = -1;

  /** Compute on the current client (the last one started). */
  compute(options?: ComputeOptions): Promise<T> {
    return currentClient().compute(this, options);
  }

  /** Start computing on the current client; the result is a Delayed backed by a future. */
  persist(): Delayed<T> {
    return currentClient().persist(this);
  }

  /** `this[index]`, lazily. */
  get<K extends keyof T>(index: K): Delayed<T[K]> {
    const key = `getitem-${tokenize(this.key, index)}`;
    const node = new Task(key, "tessera.getitem", [new TaskRef(this.key), index as string | number]);
    return new Delayed<T[K]>(key, node, [this], undefined, undefined);
  }

  __tessera_token__(): string {
    return this.key;
  }

  [COLLECTION](): CollectionSpec<T> {
    const walk = ++walks;
    const keys: Key[] = [];
    const nodes: GraphNode[] = [];
    const owners: Delayed[] = [];
    const index = new Map<Key, number>();
    const sources = new Map<string, SourceDef>();
    const external = new Set<Key>();
    const stack: Delayed[] = [this];
    // A Delayed met again (a shared input) is recognized by its mark, without hashing its key;
    // equal keys on different objects are equal work, found by the index.
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (d.walk === walk) continue;
      d.walk = walk;
      if (d.node) {
        const j = index.get(d.key);
        if (j !== undefined) {
          d.slot = j;
          continue;
        }
        d.slot = keys.length;
        index.set(d.key, d.slot);
        keys.push(d.key);
        nodes.push(d.node);
        owners.push(d);
      } else {
        d.slot = -1;
        if (external.has(d.key)) continue;
        external.add(d.key);
      }
      if (d.source) sources.set(d.source.op, d.source);
      const parents = d.parents;
      for (let i = 0; i < parents.length; i++) stack.push(parents[i]!);
    }
    const indexed = Delayed.linkParents(keys, nodes, owners, index);
    let graph: Graph | undefined;
    return {
      // Built only for a reader that wants the Map (a client computing several collections at once).
      get graph(): Graph {
        return (graph ??= new Map(keys.map((k, i) => [k, nodes[i]!])));
      },
      indexed,
      keys: [this.key],
      sources: [...sources.values()],
      external: [...external],
      finalize: (values) => values[0] as T,
      rebuild: (futures) => Delayed.fromFuture(futures[0] as Future<T>),
    };
  }

  /**
   * The walk's graph index, dependencies linked through the parents' slots instead of their keys.
   * A node's parents are its TaskRefs in argument order (lazyArgs and collectDeps visit arguments
   * alike), repeats included; a node whose unique parents do not spell its `deps` exactly (a
   * future among them, or a node built some other way) is linked by key.
   */
  private static linkParents(keys: Key[], nodes: GraphNode[], owners: readonly Delayed[], index: Map<Key, number>): IndexedGraph {
    const n = keys.length;
    let edges = 0;
    for (let i = 0; i < n; i++) edges += Math.max(nodes[i]!.deps.length, owners[i]!.parents.length);
    const depStart = new Int32Array(n + 1);
    const depList = new Int32Array(edges);
    const seenBy = new Int32Array(n); // i + 1 where node i already listed that input
    let e = 0;
    for (let i = 0; i < n; i++) {
      depStart[i] = e;
      const deps = nodes[i]!.deps;
      const parents = owners[i]!.parents;
      let ok = true;
      for (let k = 0; k < parents.length && ok; k++) {
        const s = parents[k]!.slot;
        if (s < 0) ok = false;
        else if (seenBy[s] !== i + 1) {
          seenBy[s] = i + 1;
          ok = e - depStart[i]! < deps.length && keys[s] === deps[e - depStart[i]!];
          depList[e++] = s;
        }
      }
      if (!ok || e - depStart[i]! !== deps.length) e = linkDepsByKey(nodes[i]!, index, depList, depStart[i]!);
    }
    depStart[n] = e;
    return withDependents(keys, nodes, index, depStart, depList.subarray(0, e));
  }

  /** A Delayed standing for a value already on the cluster. */
  static fromFuture<T>(f: Future<T>): Delayed<T> {
    return new Delayed<T>(f.key, null, [], undefined, f);
  }

  toString(): string {
    return `Delayed(${this.key})`;
  }
}

let walks = 0;

/** An argument: the value, or a lazy value of that type (untyped futures are accepted too). */
type Lazy<A> = A | Delayed<A> | Future<A> | Future<unknown> | Delayed<unknown>;
export type DelayedArgs<P extends readonly unknown[]> = { [K in keyof P]: Lazy<P[K]> };

/**
 * Replace Delayed and Future arguments (at any depth of arrays and plain objects) by TaskRefs,
 * collecting them as parents.
 */
export function lazyArgs(args: readonly unknown[], parents: Delayed[]): unknown[] {
  const visit = (v: unknown): unknown => {
    if (v instanceof Delayed) {
      parents.push(v);
      return new TaskRef(v.key);
    }
    if (v instanceof Future) {
      parents.push(Delayed.fromFuture(v));
      return new TaskRef(v.key);
    }
    if (!isContainer(v)) return v;
    if (Array.isArray(v)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const y = visit(v[i]);
        if (y !== v[i]) (out ??= v.slice())[i] = y;
      }
      return out ?? v;
    }
    let out: Record<string, unknown> | undefined;
    for (const k in v) {
      const y = visit(v[k]);
      if (y !== v[k]) (out ??= { ...v })[k] = y;
    }
    return out ?? v;
  };
  return args.map(visit);
}

/** Build a call node: `<name>-<token>` (or a random token when impure). Callers check `options` once (checkTaskOptions). */
export function callNode(
  fn: FunctionLike,
  args: readonly unknown[],
  options: DelayedOptions = {},
): { node: Task; parents: Delayed[]; source: SourceDef | undefined } {
  const r = resolveFn(fn);
  const parents: Delayed[] = [];
  const lazy = lazyArgs(args, parents);
  const token = options.pure === false ? randomToken() : tokenize(r.op, lazy);
  const key = `${options.name ?? r.name}-${token}`;
  const { name: _n, pure: _p, ...taskOptions } = options;
  const hasOptions = Object.keys(taskOptions).length > 0;
  return { node: new Task(key, r.op, lazy, hasOptions ? taskOptions : undefined), parents, source: r.source };
}

/**
 * Make calls lazy: `delayed(fn)(a, b)` is a Delayed of `fn(a, b)`. `fn` may be a function
 * (shipped to workers as source: it must not capture variables), `op("module.export")` for a
 * registered op, or any other value, which becomes a Delayed constant.
 */
export function delayed<F extends (...args: any[]) => any>(
  fn: F,
  options?: DelayedOptions,
): (...args: DelayedArgs<Parameters<F>>) => Delayed<Awaited<ReturnType<F>>>;
export function delayed<R = unknown>(fn: OpRef, options?: DelayedOptions): (...args: unknown[]) => Delayed<R>;
export function delayed<T>(value: T, options?: DelayedOptions): Delayed<T>;
export function delayed(fn: unknown, options: DelayedOptions = {}): unknown {
  if (typeof fn === "function" || fn instanceof OpRef) {
    // Fail now, not at call time, for native/bound functions and bad options.
    resolveFn(fn as FunctionLike);
    checkTaskOptions(options);
    return (...args: unknown[]) => {
      const { node, parents, source } = callNode(fn as FunctionLike, args, options);
      return new Delayed(node.key, node, parents, source, undefined);
    };
  }
  if (fn instanceof Delayed) return fn;
  if (fn instanceof Future) return Delayed.fromFuture(fn);
  const parents: Delayed[] = [];
  const [value] = lazyArgs([fn], parents);
  if (parents.length > 0) {
    // A structure holding lazy values: a task that rebuilds it from their results.
    const key = `${options.name ?? "collection"}-${tokenize(value)}`;
    return new Delayed(key, new Task(key, "tessera.identity", [value]), parents, undefined, undefined);
  }
  const key = `${options.name ?? "data"}-${options.pure === false ? randomToken() : tokenize(fn)}`;
  return new Delayed(key, new DataNode(key, fn), [], undefined, undefined);
}
