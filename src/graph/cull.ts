/**
 * Cull: keep only what the wanted keys need. A walk backwards from the wanted keys over
 * dependencies, with an explicit stack (graphs have chains of a million nodes), that asks a
 * `lookup` for each node it reaches. The lookup is how HighLevelGraph.cull materializes only
 * the nodes it needs from lazily generated layers; for a plain Graph it is `graph.get`.
 *
 * A dependency nobody produces is an error naming it and the node that referenced it, unless
 * `external` says the scheduler already holds it (a future or a persisted result).
 */

import { GraphError, MissingKeyError } from "./errors.js";
import type { Graph, GraphNode, Key } from "./task.js";

/** A key as it appears in messages: quoted and escaped, so "" and " x" stay visible. */
const quote = (key: string): string => JSON.stringify(key);

export interface CullOptions {
  /** Keys produced outside this graph (futures, persisted data): left out, not an error. */
  external?: (key: Key) => boolean;
}

/** Finds the node for a key; `hint` is added to a MissingKeyError's message. */
export interface NodeLookup {
  get(key: Key): GraphNode | undefined;
  readonly hint?: string;
}

/**
 * The culled graph for `keys` using `lookup`. Nodes appear with each node's dependencies
 * reached before the walk moves on, wanted keys first-come; the Map's order carries no
 * meaning beyond determinism.
 */
export function cullWith(lookup: NodeLookup, keys: Iterable<Key>, opts: CullOptions = {}): Graph {
  const out: Graph = new Map();
  const external = opts.external;
  // Parallel stacks: a key to visit and who referenced it (for the error message).
  const stack: Key[] = [];
  const from: (Key | undefined)[] = [];
  for (const k of keys) {
    stack.push(k);
    from.push(undefined);
  }
  // Reverse so the first wanted key is visited first.
  stack.reverse();
  while (stack.length > 0) {
    const key = stack.pop()!;
    const referrer = from.pop();
    if (out.has(key)) continue;
    const node = lookup.get(key);
    if (node === undefined) {
      if (external?.(key)) continue;
      throw new MissingKeyError(key, referrer, lookup.hint ?? "");
    }
    if (node.key !== key) {
      throw new GraphError(`lookup for ${quote(key)} returned a node whose key is ${quote(node.key)}`);
    }
    out.set(key, node);
    const deps = node.deps;
    // Already-visited deps are skipped when popped; checking here too would double the
    // Map lookups on chains, the common case.
    for (let i = deps.length - 1; i >= 0; i--) {
      stack.push(deps[i]!);
      from.push(key);
    }
  }
  return out;
}

/** The subgraph of `graph` that `keys` need. Throws MissingKeyError for a dangling reference. */
export function cull(graph: Graph, keys: Iterable<Key>, opts: CullOptions = {}): Graph {
  return cullWith(graph, keys, opts);
}
