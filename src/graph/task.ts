/**
 * Graph nodes. A graph is a map from key to node; a node says how to produce the value stored
 * under its key. JavaScript cannot ship closures between threads, so a Task names its function
 * (`op`, looked up in each worker's registry) and carries plain arguments in which TaskRef
 * marks another node's output. There are no positional tuples: every node is a class with a
 * `kind`, and `deps` is computed once, when the node is built.
 *
 *   DataNode   key -> literal value (scattered data, constants)
 *   Task       key -> op(...args), args may hold TaskRef at any depth of arrays / plain objects
 *   Alias      key -> the value of another key
 *   Fused      key -> the last of a topologically ordered list of Tasks run in one go
 *                     (built by optimize.fuse from a linear chain)
 */

export type Key = string;

/** A reference to the output of another node, used inside Task arguments. */
export class TaskRef {
  readonly kind = "ref" as const;
  constructor(readonly key: Key) {}
}

/** Options a task carries to the scheduler. */
export interface TaskOptions {
  /** How many times to rerun the task after it fails (default 0). */
  retries?: number;
  /** User priority; higher runs first among ready tasks (default 0). Dask's `priority=`. */
  priority?: number;
  /** Only these workers may run the task (Dask's `workers=`). */
  workers?: readonly string[];
  /**
   * `workers` only preferred (Dask's `allow_other_workers=True`): while none of them can take
   * work (gone, unknown, paused), any worker may run the task. Needs `workers`.
   */
  allowOtherWorkers?: boolean;
}

export class DataNode {
  readonly kind = "data" as const;
  readonly deps: readonly Key[] = [];
  constructor(
    readonly key: Key,
    readonly value: unknown,
  ) {}
}

export class Task {
  readonly kind = "task" as const;
  readonly deps: readonly Key[];
  constructor(
    readonly key: Key,
    readonly op: string,
    readonly args: readonly unknown[],
    readonly options?: TaskOptions,
  ) {
    this.deps = collectDeps(args);
  }
}

export class Alias {
  readonly kind = "alias" as const;
  readonly deps: readonly Key[];
  constructor(
    readonly key: Key,
    readonly target: Key,
  ) {
    this.deps = [target];
  }
}

/**
 * A linear chain fused into one schedulable unit. `tasks` are in execution order; the value of
 * the last one is the value of `key`. Inner tasks may reference earlier inner keys; `deps` are
 * only the keys from outside the chain.
 */
export class Fused {
  readonly kind = "fused" as const;
  readonly deps: readonly Key[];
  readonly options?: TaskOptions;
  constructor(
    readonly key: Key,
    readonly tasks: readonly (Task | Alias | DataNode)[],
  ) {
    if (tasks.length === 0) throw new Error(`fused node ${key} has no tasks`);
    const inner = new Set(tasks.map((t) => t.key));
    const deps = new Set<Key>();
    for (const t of tasks) for (const d of t.deps) if (!inner.has(d)) deps.add(d);
    this.deps = [...deps];
    this.options = mergeOptions(tasks);
  }
}

export type GraphNode = Task | DataNode | Alias | Fused;

/** A graph materialized as a key -> node map. */
export type Graph = Map<Key, GraphNode>;

function mergeOptions(tasks: readonly (Task | Alias | DataNode)[]): TaskOptions | undefined {
  let retries = 0;
  let priority: number | undefined;
  let workers: readonly string[] | undefined;
  // Loose only if every restricted task of the chain is: one strict task pins them all.
  let loose = true;
  for (const t of tasks) {
    if (t.kind !== "task" || !t.options) continue;
    retries = Math.max(retries, t.options.retries ?? 0);
    if (t.options.priority !== undefined) priority = Math.max(priority ?? -Infinity, t.options.priority);
    if (t.options.workers) {
      workers = workers ? workers.filter((w) => t.options!.workers!.includes(w)) : t.options.workers;
      loose &&= t.options.allowOtherWorkers === true;
    }
  }
  if (retries === 0 && priority === undefined && workers === undefined) return undefined;
  const out: TaskOptions = { retries };
  if (priority !== undefined) out.priority = priority;
  if (workers !== undefined) out.workers = workers;
  if (workers !== undefined && loose) out.allowOtherWorkers = true;
  return out;
}

/** True for values whose contents may hold TaskRefs (plain arrays and plain objects). */
export function isContainer(v: unknown): v is unknown[] | Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Keys referenced anywhere in `args`, each once, in first-seen order. */
export function collectDeps(args: readonly unknown[]): Key[] {
  const out: Key[] = [];
  let seen: Set<Key> | undefined;
  const visit = (v: unknown): void => {
    if (v instanceof TaskRef) {
      // Most tasks have one or two deps: a linear scan beats allocating a Set.
      if (seen) {
        if (!seen.has(v.key)) {
          seen.add(v.key);
          out.push(v.key);
        }
      } else if (!out.includes(v.key)) {
        out.push(v.key);
        if (out.length > 8) seen = new Set(out);
      }
      return;
    }
    if (!isContainer(v)) return;
    if (Array.isArray(v)) for (const x of v) visit(x);
    else for (const k in v) visit(v[k]);
  };
  for (const a of args) visit(a);
  return out;
}

/** Prefix of a key for grouping (progress bars, duration estimates): `inc-3fa9c2[0,1]` -> `inc`. */
export function keyPrefix(key: Key): string {
  let end = key.length;
  const bracket = key.indexOf("[");
  if (bracket > 0) end = bracket;
  const dash = key.lastIndexOf("-", end - 1);
  if (dash <= 0) return key.slice(0, end);
  // Only strip the last segment when it looks like a token (hex digits).
  for (let i = dash + 1; i < end; i++) {
    const c = key.charCodeAt(i);
    const hex = (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
    if (!hex) return key.slice(0, end);
  }
  return key.slice(0, dash);
}

/** Key of one block of a collection: `name[i,j]`. */
export function blockKey(name: string, index: readonly number[]): Key {
  return `${name}[${index.join(",")}]`;
}
