/**
 * Which partitions (row blocks) each shard of a data pipeline reads: `toBatches(c, { shard:
 * { index, count } })` and `shardedBatches(c, { count })`, the data side of data-parallel
 * training (PyTorch's DistributedSampler, but by where the data lies).
 *
 * Persisted data: a shard per worker. The `count` workers holding the most rows become the
 * shards' homes, listed in the client's worker order (shard i is the i-th of them), and each
 * partition goes to the shard whose worker holds it, so every worker reads what it already has.
 * A partition held nowhere (not persisted) or only by a worker without a shard goes to the shard
 * with the fewest rows so far, in partition order. Shard sizes follow the placement.
 *
 * Data not persisted: contiguous, balanced runs of partitions in partition order, like
 * fitDataParallel deals them; the shards have no home worker.
 *
 * Either way every partition is in exactly one shard, and the plan is a function of the
 * partitions' holders alone (no timing), so it is the same on every call while the data stays put.
 */

import type { Client } from "../client/client.js";
import { TesseraError } from "../errors.js";
import type { HighLevelGraph } from "../graph/layers.js";
import type { Key } from "../graph/task.js";

export interface ShardSpec {
  /** This shard, 0 <= index < count (a rank). */
  index: number;
  /** Number of shards (the world size). */
  count: number;
}

export interface ShardPlan {
  /** Per shard: the worker holding its partitions, or null when the data is not persisted. */
  workers: (string | null)[];
  /** Per shard: its partitions (indices of row blocks), ascending. */
  partitions: number[][];
}

/** The shard option, checked. */
export function checkShard(shard: unknown, what: string): ShardSpec {
  const s = shard as Partial<ShardSpec> | null;
  if (s === null || typeof s !== "object") throw new TesseraError(`${what}: shard must be { index, count }, got ${JSON.stringify(shard)}`);
  if (!Number.isInteger(s.count) || s.count! < 1) throw new TesseraError(`${what}: shard.count must be a positive integer (the number of shards), got ${JSON.stringify(s.count)}`);
  if (!Number.isInteger(s.index) || s.index! < 0 || s.index! >= s.count!) {
    throw new TesseraError(`${what}: shard.index must be an integer in 0..${s.count! - 1} (shard.count is ${s.count}), got ${JSON.stringify(s.index)}`);
  }
  return { index: s.index!, count: s.count! };
}

/**
 * The plan for `count` shards of partitions held by `holders[b]` (null: nowhere) and weighing
 * `weights[b]` (rows, or 1 each when unknown), over the cluster's `workers` in client order.
 */
export function planShards(holders: readonly (string | null)[], weights: readonly number[], workers: readonly string[], count: number, what: string): ShardPlan {
  const B = holders.length;
  if (holders.every((h) => h === null)) {
    const partitions = Array.from({ length: count }, (_, s) => {
      const lo = Math.floor((s * B) / count), hi = Math.floor(((s + 1) * B) / count);
      return Array.from({ length: hi - lo }, (_, i) => lo + i);
    });
    return { workers: partitions.map(() => null), partitions };
  }
  if (count > workers.length) {
    throw new TesseraError(`${what}: ${count} shards asked for, but the persisted data is on a cluster of ${workers.length} worker(s): per-worker sharding gives at most one shard per worker`);
  }
  const load = new Map(workers.map((w) => [w, 0]));
  holders.forEach((h, b) => h !== null && load.has(h) && load.set(h, load.get(h)! + weights[b]!));
  // Most rows first (a stable sort keeps client order among equals), then back in client order.
  const homes = [...workers].sort((a, b) => load.get(b)! - load.get(a)!).slice(0, count);
  homes.sort((a, b) => workers.indexOf(a) - workers.indexOf(b));
  const partitions: number[][] = homes.map(() => []);
  const size = homes.map(() => 0);
  const rest: number[] = [];
  holders.forEach((h, b) => {
    const s = h === null ? -1 : homes.indexOf(h);
    if (s < 0) return void rest.push(b);
    partitions[s]!.push(b);
    size[s]! += weights[b]!;
  });
  for (const b of rest) {
    const s = size.indexOf(Math.min(...size));
    partitions[s]!.push(b);
    size[s]! += weights[b]!;
  }
  for (const p of partitions) p.sort((a, b) => a - b);
  return { workers: homes, partitions };
}

/** How deep to look through a block's tasks for the persisted keys it reads (astype, rechunk, frameMatrix). */
const MAX_DEPTH = 4;

/**
 * The worker holding each block: the one holding the block's key, or else most of the persisted
 * keys its task reads (a dataframe partition under its matrix task, an array block under an
 * astype); null when nothing it reads is held anywhere.
 */
export function blockHolders(client: Client, graph: HighLevelGraph, keys: readonly Key[]): (string | null)[] {
  const order = client.workers;
  return keys.map((key) => {
    const votes = new Map<string, number>();
    const seen = new Set<Key>();
    const visit = (k: Key, depth: number): void => {
      if (seen.has(k)) return;
      seen.add(k);
      const has = client.whoHas(k)[k] ?? [];
      if (has.length > 0) {
        for (const w of has) votes.set(w, (votes.get(w) ?? 0) + 1);
        return;
      }
      if (depth < MAX_DEPTH) for (const dep of graph.get(k)?.deps ?? []) visit(dep, depth + 1);
    };
    visit(key, 0);
    let best: string | null = null;
    for (const w of order) if ((votes.get(w) ?? 0) > (best === null ? 0 : votes.get(best)!)) best = w;
    return best;
  });
}
