/**
 * Fuse linear chains into single tasks, so a chain of elementwise steps on one chunk is one
 * scheduler round trip and its intermediates never leave the worker.
 *
 *   x[0] -> inc[0] -> double[0] -> sum        x[0] ... double[0] become one Fused node
 *                                             keyed double[0], tasks [x[0], inc[0], double[0]]
 *
 * A node A is merged into its dependent B when A is not in `keep`, B is A's only dependent,
 * and either B has no other dependency (a chain link) or A is a DataNode (a constant: inlining
 * it delays nothing), and some worker may run both (their `workers` restrictions, where they
 * have them, overlap: a fused task runs where all its tasks may). Merges form in-trees; each tree becomes one Fused node under the key of
 * its root (the last node), so dependents outside it keep working unchanged. Tasks inside are
 * in post-order, so each runs after its inputs.
 *
 * One pass over the nodes in topological order (inputs first) decides everything: when B is
 * reached its inputs' groups are final, and an input's group joins B's only while the total
 * stays within maxChainLength, so a long chain is cut into pieces of that length from its
 * start. Linear time, no recursion: a 1M-node chain is 1M loop iterations.
 */

import { indexGraph, topoOrder, type IndexedGraph } from "./dag.js";
import { Alias, Fused, type DataNode, type Graph, type GraphNode, type Key, type Task } from "./task.js";
import { GraphError } from "./errors.js";

export interface FuseOptions {
  /** Keys that must stay visible (the requested outputs): never fused into a dependent. */
  keep: Iterable<Key>;
  /** Most tasks in one fused node (default 256): bounds the work one task does. */
  maxChainLength?: number;
}

export interface FuseResult {
  graph: Graph;
  /** Each fused-away key -> the key of the node that now computes it. */
  renamed: Map<Key, Key>;
  /** When nothing fused: `graph` is the input itself, and this its index (for order to reuse). */
  indexed?: IndexedGraph;
}

type Inner = Task | Alias | DataNode;

/** Number of tasks a node contributes to a fused node. */
function weightOf(node: GraphNode): number {
  return node.kind === "fused" ? node.tasks.length : 1;
}

/** The workers a node's task is restricted to; undefined: any. */
function restrictionOf(node: GraphNode): readonly string[] | undefined {
  const w = node.kind === "task" || node.kind === "fused" ? node.options?.workers : undefined;
  return w !== undefined && w.length > 0 ? w : undefined;
}

/** Append `node`'s tasks. A Fused node's value is its key: alias it if its last task is named otherwise. */
function appendTasks(out: Inner[], node: GraphNode): void {
  if (node.kind !== "fused") {
    out.push(node);
    return;
  }
  for (const t of node.tasks) out.push(t);
  const last = node.tasks[node.tasks.length - 1]!;
  if (last.key !== node.key) out.push(new Alias(node.key, last.key));
}

export function fuse(graph: Graph, opts: FuseOptions): FuseResult {
  const g = indexGraph(graph);
  const r = fuseIndexed(g, opts);
  return r.graph ? { graph: r.graph, renamed: r.renamed } : { graph, renamed: r.renamed, indexed: g };
}

/** `fuse` over a graph's index; `graph` is undefined when nothing fused (the index stands). */
export function fuseIndexed(g: IndexedGraph, opts: FuseOptions): { graph?: Graph; renamed: Map<Key, Key> } {
  const maxLength = opts.maxChainLength ?? 256;
  if (!(maxLength >= 1)) throw new GraphError(`fuse: maxChainLength must be at least 1, got ${maxLength}`);
  const { n, nodes, depStart, depList, dependentStart } = g;
  const order = topoOrder(g);

  const keep = new Uint8Array(n);
  for (const k of opts.keep) {
    const i = g.index.get(k);
    if (i !== undefined) keep[i] = 1;
  }

  // parent[a] = b when a was merged into b's group; weight[b] = tasks in the group rooted at b.
  const parent = new Int32Array(n).fill(-1);
  const weight = new Int32Array(n);
  // The workers a group may run on (where its tasks' restrictions meet), for restricted groups.
  const groupWorkers = new Map<number, readonly string[]>();
  let merged = 0;
  for (let t = 0; t < n; t++) {
    const b = order[t]!;
    const node = nodes[b]!;
    let w = weightOf(node);
    let workers = restrictionOf(node);
    const soleDep = node.deps.length === 1;
    for (let p = depStart[b]!; p < depStart[b + 1]!; p++) {
      const a = depList[p]!;
      if (keep[a] === 1 || dependentStart[a + 1]! - dependentStart[a]! !== 1) continue;
      if (!soleDep && nodes[a]!.kind !== "data") continue;
      if (w + weight[a]! > maxLength) continue;
      const aWorkers = groupWorkers.get(a);
      if (aWorkers !== undefined) {
        const both = workers === undefined ? aWorkers : aWorkers.filter((x) => workers!.includes(x));
        // Restricted to workers that share none: no one task can run them both.
        if (both.length === 0) continue;
        workers = both;
      }
      parent[a] = b;
      w += weight[a]!;
      merged++;
    }
    weight[b] = w;
    if (workers !== undefined) groupWorkers.set(b, workers);
  }

  const renamed = new Map<Key, Key>();
  if (merged === 0) return { renamed };
  const out: Graph = new Map();

  // Emit groups in the input Map's order of their roots. Members are listed by an iterative
  // post-order walk over "merged into" edges: a member's own members come before it.
  const stack: number[] = [];
  const cursor: number[] = [];
  for (let r = 0; r < n; r++) {
    if (parent[r] !== -1) continue;
    const root = nodes[r]!;
    if (weight[r] === weightOf(root)) {
      out.set(root.key, root);
      continue;
    }
    const tasks: Inner[] = [];
    stack.push(r);
    cursor.push(depStart[r]!);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const x = stack[top]!;
      const p = cursor[top]!;
      if (p < depStart[x + 1]!) {
        cursor[top] = p + 1;
        const a = depList[p]!;
        if (parent[a] === x) {
          stack.push(a);
          cursor.push(depStart[a]!);
        }
        continue;
      }
      stack.pop();
      cursor.pop();
      appendTasks(tasks, nodes[x]!);
      if (x !== r) renamed.set(g.keys[x]!, root.key);
    }
    out.set(root.key, new Fused(root.key, tasks));
  }
  return { graph: out, renamed };
}
