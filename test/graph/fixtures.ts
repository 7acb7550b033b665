/**
 * Shared test fixtures for the graph tests: graph builders, a seeded random source, and a
 * tiny reference evaluator, so optimizations can be checked by running graphs, not only by
 * inspecting their shape.
 */

import { Alias, DataNode, Fused, Task, TaskRef, isContainer, type Graph, type GraphNode, type Key } from "../../src/graph/index.js";

/** Chain `${name}-0` (data) -> `${name}-1` -> ... -> `${name}-${n-1}`, each `inc` of the previous. */
export function chain(n: number, name = "c", into: Graph = new Map()): Graph {
  into.set(`${name}-0`, new DataNode(`${name}-0`, 0));
  for (let i = 1; i < n; i++) into.set(`${name}-${i}`, new Task(`${name}-${i}`, "inc", [new TaskRef(`${name}-${i - 1}`)]));
  return into;
}

/** Pairwise sum tree over `leaves` data nodes `x[i]`: levels `s<level>[i]`, root `s<top>[0]`. */
export function treeReduction(leaves: number): { graph: Graph; root: Key } {
  const g: Graph = new Map();
  let level: Key[] = [];
  for (let i = 0; i < leaves; i++) {
    const k = `x[${i}]`;
    g.set(k, new DataNode(k, i));
    level.push(k);
  }
  let depth = 0;
  while (level.length > 1) {
    depth++;
    const next: Key[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const k = `s${depth}[${i / 2}]`;
      const args = level.slice(i, i + 2).map((d) => new TaskRef(d));
      g.set(k, new Task(k, "add", args));
      next.push(k);
    }
    level = next;
  }
  return { graph: g, root: level[0]! };
}

/** Mulberry32: small, seeded, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** The same graph with its entries inserted in another order. */
export function reinsert(graph: Graph, random: () => number): Graph {
  return new Map(shuffled([...graph], random));
}

/**
 * A random DAG of `n` nodes of every kind, built in index order so it is acyclic: data nodes,
 * tasks with 1-3 earlier inputs (mostly the previous node, so chains form), and aliases.
 */
export function randomDag(n: number, random: () => number): Graph {
  const g: Graph = new Map();
  const keys: Key[] = [];
  for (let i = 0; i < n; i++) {
    const key = `n-${i}`;
    const r = random();
    let node: GraphNode;
    if (i === 0 || r < 0.15) {
      node = new DataNode(key, i);
    } else if (r < 0.25) {
      node = new Alias(key, keys[i - 1 - Math.floor(random() * Math.min(i, 3))]!);
    } else {
      const deps = new Set<Key>([keys[i - 1]!]);
      const extra = Math.floor(random() * 3);
      for (let e = 0; e < extra && random() < 0.5; e++) deps.add(keys[Math.floor(random() * i)]!);
      const refs = [...deps].map((d) => new TaskRef(d));
      node = new Task(key, "add", [i, refs.length > 1 ? { nested: refs } : refs[0]]);
    }
    g.set(key, node);
    keys.push(key);
  }
  return g;
}

type Op = (...args: unknown[]) => unknown;
const ops: Record<string, Op> = {
  inc: (x) => (x as number) + 1,
  add: (...xs) => sumNested(xs),
  list: (...xs) => xs,
};

function sumNested(v: unknown): number {
  if (typeof v === "number") return v;
  if (Array.isArray(v)) return v.reduce<number>((a, b) => a + sumNested(b), 0);
  if (v !== null && typeof v === "object") return Object.values(v).reduce<number>((a, b) => a + sumNested(b), 0);
  return 0;
}

function substitute(v: unknown, get: (k: Key) => unknown): unknown {
  if (v instanceof TaskRef) return get(v.key);
  if (!isContainer(v)) return v;
  if (Array.isArray(v)) return v.map((x) => substitute(x, get));
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = substitute(v[k], get);
  return out;
}

function runOne(node: Task | Alias | DataNode | Fused, get: (k: Key) => unknown): unknown {
  switch (node.kind) {
    case "data":
      return node.value;
    case "alias":
      return get(node.target);
    case "task": {
      const op = ops[node.op];
      if (!op) throw new Error(`no op ${node.op}`);
      return op(...(substitute(node.args, get) as unknown[]));
    }
    case "fused": {
      const local = new Map<Key, unknown>();
      const inner = (k: Key) => (local.has(k) ? local.get(k) : get(k));
      for (const t of node.tasks) local.set(t.key, runOne(t, inner));
      return local.get(node.tasks[node.tasks.length - 1]!.key);
    }
  }
}

/** Values of `keys`, computing what they need (iteratively, in dependency order). */
export function evaluate(graph: Graph, keys: Iterable<Key>): Map<Key, unknown> {
  const done = new Map<Key, unknown>();
  const get = (k: Key) => {
    if (!done.has(k)) throw new Error(`evaluate: ${k} read before it was computed`);
    return done.get(k);
  };
  const stack: [Key, boolean][] = [...keys].map((k) => [k, false]);
  while (stack.length > 0) {
    const [key, expanded] = stack.pop()!;
    if (done.has(key)) continue;
    const node = graph.get(key);
    if (!node) throw new Error(`evaluate: missing ${key}`);
    if (expanded) {
      done.set(key, runOne(node, get));
      continue;
    }
    stack.push([key, true]);
    for (const d of node.deps) if (!done.has(d)) stack.push([d, false]);
  }
  const out = new Map<Key, unknown>();
  for (const k of keys) out.set(k, done.get(k));
  return out;
}
