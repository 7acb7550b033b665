/**
 * The collection protocol (Dask's `__dask_graph__` / `__dask_keys__` / `__dask_postcompute__`):
 * anything that can describe its work as a graph and rebuild its value from the values of its
 * output keys can be computed or persisted by a client. Delayed values, futures, and later
 * arrays and dataframes implement it.
 */

import type { IndexedGraph } from "../graph/dag.js";
import type { Graph, Key } from "../graph/task.js";
import type { SourceDef } from "../worker/protocol.js";

export const COLLECTION: unique symbol = Symbol.for("tessera.collection") as never;
/** Optional: async work before the graph can be built (reading file metadata). */
export const PREPARE: unique symbol = Symbol.for("tessera.prepare") as never;

/** Structural view of a HighLevelGraph, so this module need not import it. */
export interface CullableGraph {
  cull(keys: Iterable<Key>, opts?: { external?: (key: Key) => boolean }): Graph;
}

export interface CollectionSpec<T> {
  /** The work, possibly lazy (a HighLevelGraph is culled to what `keys` need). */
  graph: Graph | CullableGraph;
  /**
   * The index of `graph` (dag.ts), when the collection built one on the way (a Delayed's walk
   * does): a client computing this collection alone uses it and never reads `graph`.
   */
  indexed?: IndexedGraph;
  /** Output keys whose values `finalize` turns into the result. */
  keys: readonly Key[];
  finalize(values: unknown[]): T;
  /** Functions shipped as source that the graph's tasks call. */
  sources?: readonly SourceDef[];
  /** Keys the graph references that live on the cluster already (futures); kept alive by the collection. */
  external?: readonly Key[];
  /** Rebuild the collection on top of keys held by the cluster (for persist). */
  rebuild(futures: readonly { key: Key }[]): Collection<T>;
}

export interface Collection<T> {
  [COLLECTION](): CollectionSpec<T>;
  [PREPARE]?(): Promise<void>;
}

export function isCollection(x: unknown): x is Collection<unknown> {
  return x !== null && typeof x === "object" && typeof (x as Record<PropertyKey, unknown>)[COLLECTION] === "function";
}
