/**
 * Static priorities: a number per key, lower runs first among ready tasks, chosen so that a
 * worker finishes one part of the graph before starting the next and intermediates are
 * freed early (the tie-breaker dask/order.py computes for the same reason).
 *
 *          total                 post-order from the output, larger subtree first:
 *         /     \                   a0 a1 s0 a2 a3 s1 total     (3 results held at most)
 *       s0       s1              breadth-first would be:
 *      /  \     /  \                a0 a1 a2 a3 s0 s1 total     (4 held: grows with width)
 *    a0   a1  a2   a3
 *
 * The order is a depth-first post-order walk from each output (a node nothing depends on),
 * outputs in natural key order (`x[2]` before `x[10]`). At each node the dependencies are
 * visited in this order:
 *   1. larger `need` first: a Sethi-Ullman estimate of how many results computing the
 *      subtree holds at once. Doing the hungriest input first means the others wait in memory
 *      only while the cheaper ones run; for trees this minimizes peak memory;
 *   2. then more transitive dependencies first (heavy first: the input that takes longest is
 *      started first, so the results of the others wait less);
 *   3. then their position among the node's inputs (a sum of parts 0..n runs part 0 first),
 *      which is part of the graph's content, so the result is deterministic and independent
 *      of the Map's insertion order. Outputs go in the order the caller wants them, else in
 *      natural key order.
 * Shared subgraphs are counted once per path (need and size are tree estimates), as dask does.
 *
 * Cost: O(n + e log d) for d the largest fan-in; typed arrays, iterative, no recursion.
 */

import { indexGraph, topoOrder, type IndexedGraph } from "./dag.js";
import { naturalCompare } from "./keys.js";
import type { Graph, GraphNode, Key } from "./task.js";

// Sizes are counted in floating point (a DAG's path counts overflow any integer); capped so
// sums of capped values stay exact.
const SIZE_CAP = 2 ** 52;

/** Priority for every key of `graph`: 0 for the first task to run, n-1 for the last. */
export function order(graph: Graph, outputs?: readonly Key[]): Map<Key, number> {
  const { keys, priority } = rank(indexGraph(graph), outputs);
  const out = new Map<Key, number>();
  for (let i = 0; i < keys.length; i++) out.set(keys[i]!, priority[i]!);
  return out;
}

/** The graph's nodes in run order (the same order `order` numbers). `indexed`: the graph's index, if at hand. */
export function ordered(graph: Graph, outputs?: readonly Key[], indexed?: IndexedGraph): GraphNode[] {
  return orderedWithDeps(graph, outputs, indexed).nodes;
}

export interface OrderedGraph {
  /** Nodes in run order. */
  nodes: GraphNode[];
  /**
   * For nodes[r], the run-order positions of its dependencies, aligned with nodes[r].deps:
   * depRank[depStart[r] + k] is the position of nodes[r].deps[k], or -1 when that key is not
   * in the graph (a future). Lets a consumer link dependencies without looking keys up.
   */
  depStart: Int32Array;
  depRank: Int32Array;
}

export function orderedWithDeps(graph: Graph, outputs?: readonly Key[], indexed?: IndexedGraph): OrderedGraph {
  return orderIndexed(indexed ?? indexGraph(graph), outputs);
}

/** `orderedWithDeps` over a graph's index. */
export function orderIndexed(g: IndexedGraph, outputs?: readonly Key[]): OrderedGraph {
  const { nodes, priority } = rank(g, outputs);
  const n = nodes.length;
  const out = new Array<GraphNode>(n);
  for (let i = 0; i < n; i++) out[priority[i]!] = nodes[i]!;
  const depStart = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) depStart[r + 1] = depStart[r]! + out[r]!.deps.length;
  const depRank = new Int32Array(depStart[n]!);
  for (let i = 0; i < n; i++) {
    const r = priority[i]!;
    const deps = nodes[i]!.deps;
    const from = g.depStart[i]!;
    const count = g.depStart[i + 1]! - from;
    let at = depStart[r]!;
    if (count === deps.length) {
      // Every dependency is in the graph; the index keeps node.deps' order (rank sorts a copy).
      for (let k = 0; k < count; k++) depRank[at++] = priority[g.depList[from + k]!]!;
    } else {
      for (let k = 0; k < deps.length; k++) {
        const j = g.index.get(deps[k]!);
        depRank[at++] = j === undefined ? -1 : priority[j]!;
      }
    }
  }
  return { nodes: out, depStart, depRank };
}

function rank(g: IndexedGraph, wanted: readonly Key[] | undefined): { keys: Key[]; nodes: GraphNode[]; priority: Int32Array } {
  const { n, keys, nodes, depStart, dependentStart } = g;
  const topo = topoOrder(g);
  // Sorted into visit order below; the index's own list keeps each node's order of deps.
  const depList = g.depList.slice();

  // need[i], size[i] from inputs to outputs; each node's dependency list is sorted in place
  // into visit order on the way (its inputs' need and size are final by then).
  const need = new Float64Array(n);
  const size = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const i = topo[t]!;
    const start = depStart[i]!;
    const end = depStart[i + 1]!;
    if (end - start > 1) sortInputs(depList, start, end, need, size);
    let ni = 1;
    let si = 1;
    for (let p = start; p < end; p++) {
      const d = depList[p]!;
      // The k-th input visited is computed while k earlier results are held.
      ni = Math.max(ni, need[d]! + (p - start));
      si += size[d]!;
    }
    need[i] = ni;
    size[i] = Math.min(si, SIZE_CAP);
  }

  const outputs: number[] = [];
  const first = new Set<number>();
  if (wanted) {
    for (const k of wanted) {
      const i = g.index.get(k);
      if (i !== undefined && dependentStart[i + 1] === dependentStart[i] && !first.has(i)) {
        first.add(i);
        outputs.push(i);
      }
    }
  }
  const rest: number[] = [];
  for (let i = 0; i < n; i++) if (dependentStart[i + 1] === dependentStart[i] && !first.has(i)) rest.push(i);
  rest.sort((a, b) => naturalCompare(keys[a]!, keys[b]!));
  for (const r of rest) outputs.push(r); // not push(...rest): a million outputs overflow the stack

  // Iterative post-order DFS: stack of nodes, each with a cursor into its dependency list.
  const priority = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  const cursor = new Int32Array(n);
  let next = 0;
  for (const root of outputs) {
    let sp = 0;
    stack[sp] = root;
    cursor[sp] = depStart[root]!;
    sp++;
    while (sp > 0) {
      const x = stack[sp - 1]!;
      const p = cursor[sp - 1]!;
      if (p < depStart[x + 1]!) {
        cursor[sp - 1] = p + 1;
        const d = depList[p]!;
        if (priority[d] === -1 && onStack[d] === 0) {
          onStack[d] = 1;
          stack[sp] = d;
          cursor[sp] = depStart[d]!;
          sp++;
        }
        continue;
      }
      sp--;
      priority[x] = next++;
    }
  }

  return { keys, nodes, priority };
}

/**
 * Sort one node's inputs into visit order: larger need, then larger size, then their position.
 * Inputs that all look alike (a fan-in of similar parts) are left as they are.
 */
function sortInputs(list: Int32Array, start: number, end: number, need: Float64Array, size: Float64Array): void {
  const n0 = need[list[start]!]!;
  const s0 = size[list[start]!]!;
  let alike = true;
  for (let p = start + 1; p < end && alike; p++) alike = need[list[p]!] === n0 && size[list[p]!] === s0;
  if (alike) return;
  const pos = Array.from({ length: end - start }, (_, k) => k);
  const item = (k: number) => list[start + k]!;
  pos.sort((a, b) => need[item(b)]! - need[item(a)]! || size[item(b)]! - size[item(a)]! || a - b);
  const sorted = pos.map(item);
  list.set(sorted, start);
}
