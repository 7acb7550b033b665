/**
 * The current client: the most recently started one that is still open, used by
 * `delayed(...).compute()` and collections' `compute()` (Dask's default client).
 */

import { TesseraError } from "../errors.js";
import type { ComputeProgress } from "../dashboard/protocol.js";
import type { Client } from "./client.js";

export interface ComputeOptions {
  /** Abort the computation: running tasks are cancelled, results nobody else wants are dropped. */
  signal?: AbortSignal;
  /** Fuse linear chains into single tasks before submitting (default true). */
  optimize?: boolean;
  /** Retries for every task of the graph that does not set its own. */
  retries?: number;
  /** Priority for every task of the graph (higher runs first). */
  priority?: number;
  /**
   * Report progress: `true` draws a progress bar on stderr when it is a terminal (nothing
   * otherwise); a function receives the graph's progress ~5 times a second and once at the end.
   */
  progress?: boolean | ((p: ComputeProgress) => void);
}

const clients: Client[] = [];

export function setCurrentClient(c: Client): void {
  clients.push(c);
}

export function dropClient(c: Client): void {
  const i = clients.lastIndexOf(c);
  if (i >= 0) clients.splice(i, 1);
}

export function currentClient(): Client {
  const c = clients[clients.length - 1];
  if (!c) throw new TesseraError("no client is running: start one with `await LocalCluster.start()`, or call client.compute(x)");
  return c;
}
