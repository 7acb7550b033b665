/**
 * Errors raised while building, culling, fusing and ordering graphs. Each names the key(s)
 * involved so a message points at the task a user wrote, not at our internals, and carries
 * them as fields so callers (the client, the dashboard) can show or match on them.
 *
 * These live in src/graph because graph is the bottom of the import tree; a project-wide
 * errors module can re-export them.
 */

import type { Key } from "./task.js";

/** A key as it appears in messages: quoted and escaped, so "" and " x" stay visible. */
const quote = (key: string): string => JSON.stringify(key);

export class GraphError extends Error {
  override readonly name: string = "GraphError";
}

/** A key was asked for, or referenced as a dependency, but no node produces it. */
export class MissingKeyError extends GraphError {
  override readonly name: string = "MissingKeyError";
  constructor(
    readonly key: Key,
    /** The node whose arguments reference `key`; undefined when `key` was requested directly. */
    readonly referrer: Key | undefined,
    hint = "",
  ) {
    super(
      referrer === undefined
        ? `requested key ${quote(key)} is not in the graph${hint}`
        : `key ${quote(key)}, a dependency of ${quote(referrer)}, is not in the graph${hint}`,
    );
  }
}

/** The graph has a cycle; `cycle` lists its keys, each a dependency of the next, first repeated last. */
export class CycleError extends GraphError {
  override readonly name: string = "CycleError";
  constructor(readonly cycle: readonly Key[]) {
    super(`graph has a cycle: ${cycle.map(quote).join(" -> ")}`);
  }
}

/** A value could not be turned into a deterministic token. */
export class TokenizeError extends GraphError {
  override readonly name: string = "TokenizeError";
}
