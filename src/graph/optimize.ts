/**
 * The optimizations a client runs before submitting: cull away what the requested keys do
 * not need, then fuse linear chains (keeping the requested keys visible). Each pass lives in
 * its own module (cull.ts, fuse.ts); this one composes them and is where new passes join.
 */

import { cull, type CullOptions } from "./cull.js";
import { fuse, type FuseResult } from "./fuse.js";
import { HighLevelGraph } from "./layers.js";
import type { Graph, Key } from "./task.js";

export { cull, cullWith, type CullOptions, type NodeLookup } from "./cull.js";
export { fuse, type FuseOptions, type FuseResult } from "./fuse.js";

export interface OptimizeOptions extends CullOptions {
  /** Fuse linear chains (default true). */
  fuse?: boolean;
  /** Passed to fuse (default 256). */
  maxChainLength?: number;
}

/**
 * Cull `graph` to what `keys` need, then fuse chains. A HighLevelGraph is culled layer-aware,
 * so generated layers only build the nodes that are needed.
 */
export function optimize(
  graph: Graph | HighLevelGraph,
  keys: Iterable<Key>,
  opts: OptimizeOptions = {},
): FuseResult {
  const wanted = [...keys];
  const culled = graph instanceof HighLevelGraph ? graph.cull(wanted, opts) : cull(graph, wanted, opts);
  if (opts.fuse === false) return { graph: culled, renamed: new Map() };
  return fuse(culled, { keep: wanted, maxChainLength: opts.maxChainLength ?? 256 });
}
