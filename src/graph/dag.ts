/**
 * The integer view of a graph that fuse and order work on. Keys become indices 0..n-1 in the
 * Map's iteration order; dependencies and dependents become CSR arrays (an offsets array of
 * n+1 and one flat Int32Array of targets), so a 1M-node graph is a few typed arrays instead
 * of a million small Sets, and every pass over it is a plain loop, never recursion.
 *
 * Dependencies on keys that are not in the graph are dropped here: they are data the
 * scheduler already holds (futures, persisted results), not work to plan. Callers that must
 * reject them (cull) check before indexing.
 */

import { CycleError, GraphError } from "./errors.js";
import type { Graph, GraphNode, Key } from "./task.js";

/** A key as it appears in messages: quoted and escaped, so "" and " x" stay visible. */
const quote = (key: string): string => JSON.stringify(key);

export interface IndexedGraph {
  readonly n: number;
  readonly keys: Key[];
  readonly nodes: GraphNode[];
  readonly index: Map<Key, number>;
  /** Dependencies of i are depList[depStart[i] .. depStart[i+1]). */
  readonly depStart: Int32Array;
  readonly depList: Int32Array;
  /** Dependents of i are dependentList[dependentStart[i] .. dependentStart[i+1]). */
  readonly dependentStart: Int32Array;
  readonly dependentList: Int32Array;
}

export function indexGraph(graph: Graph): IndexedGraph {
  const n = graph.size;
  const keys: Key[] = new Array(n);
  const nodes: GraphNode[] = new Array(n);
  const index = new Map<Key, number>();
  let i = 0;
  let edges = 0;
  // forEach, not for-of over entries: no [key, node] array per entry.
  graph.forEach((node, key) => {
    if (node.key !== key) {
      throw new GraphError(`graph entry ${quote(key)} holds a node whose key is ${quote(node.key)}`);
    }
    keys[i] = key;
    nodes[i] = node;
    index.set(key, i);
    edges += node.deps.length;
    i++;
  });
  const depStart = new Int32Array(n + 1);
  let depList = new Int32Array(edges);
  let e = 0;
  for (i = 0; i < n; i++) {
    depStart[i] = e;
    e = linkDepsByKey(nodes[i]!, index, depList, e);
  }
  depStart[n] = e;
  if (e < edges) depList = depList.slice(0, e);
  return withDependents(keys, nodes, index, depStart, depList);
}

/** Write the indices of `node`'s dependencies that are in `index` at depList[e..]; returns the new end. */
export function linkDepsByKey(node: GraphNode, index: ReadonlyMap<Key, number>, depList: Int32Array, e: number): number {
  const deps = node.deps;
  for (let k = 0; k < deps.length; k++) {
    const j = index.get(deps[k]!);
    if (j !== undefined) depList[e++] = j;
  }
  return e;
}

/**
 * The index of a graph whose keys, nodes and dependency lists are known (in the graph's order;
 * depList in each node's `deps` order, without keys outside the graph): adds the dependents.
 */
export function withDependents(
  keys: Key[],
  nodes: GraphNode[],
  index: Map<Key, number>,
  depStart: Int32Array,
  depList: Int32Array,
): IndexedGraph {
  const n = keys.length;
  const e = depStart[n]!;
  const dependentCount = new Int32Array(n);
  for (let p = 0; p < e; p++) dependentCount[depList[p]!]!++;
  const dependentStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) dependentStart[i + 1] = dependentStart[i]! + dependentCount[i]!;
  const fill = dependentStart.slice(0, n);
  const dependentList = new Int32Array(e);
  for (let i = 0; i < n; i++) {
    for (let p = depStart[i]!; p < depStart[i + 1]!; p++) dependentList[fill[depList[p]!]!++] = i;
  }
  return { n, keys, nodes, index, depStart, depList, dependentStart, dependentList };
}

/**
 * Kahn's algorithm: indices with every dependency before its dependents. Ties go in index
 * order, so the result depends only on the Map's order. Throws CycleError naming a cycle.
 */
export function topoOrder(g: IndexedGraph): Int32Array {
  const { n, depStart, dependentStart, dependentList } = g;
  const waiting = new Int32Array(n);
  const out = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    waiting[i] = depStart[i + 1]! - depStart[i]!;
    if (waiting[i] === 0) out[tail++] = i;
  }
  // `out` doubles as the queue: entries before `head` are done, [head, tail) are ready.
  for (let head = 0; head < tail; head++) {
    const i = out[head]!;
    for (let p = dependentStart[i]!; p < dependentStart[i + 1]!; p++) {
      const d = dependentList[p]!;
      if (--waiting[d]! === 0) out[tail++] = d;
    }
  }
  if (tail < n) throw new CycleError(findCycle(g, waiting));
  return out;
}

/** Walk dependencies among nodes still waiting (all of which lie on or behind a cycle). */
function findCycle(g: IndexedGraph, waiting: Int32Array): Key[] {
  let start = 0;
  while (waiting[start] === 0) start++;
  const step = new Int32Array(g.n).fill(-1);
  const path: number[] = [];
  let i = start;
  while (step[i] === -1) {
    step[i] = path.length;
    path.push(i);
    let next = -1;
    for (let p = g.depStart[i]!; p < g.depStart[i + 1]!; p++) {
      if (waiting[g.depList[p]!]! > 0) {
        next = g.depList[p]!;
        break;
      }
    }
    i = next; // a waiting node always has a waiting dependency
  }
  // path[step[i]..] is the cycle, each entry depending on the next; show it as "dep -> dependent".
  const cycle = path.slice(step[i]!).reverse().map((j) => g.keys[j]!);
  cycle.push(cycle[0]!);
  return cycle;
}
