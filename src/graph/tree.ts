/**
 * A combine tree over partial results kept in order: groups of `splitEvery` neighbours are
 * combined by `op`, level by level, until one key is left (dask's split_every). Used by array
 * and dataframe reductions.
 */

import { TesseraError } from "../errors.js";
import { Task, TaskRef, blockKey, type GraphNode, type Key } from "./task.js";

export function checkSplitEvery(splitEvery: number, what: string): number {
  if (!Number.isInteger(splitEvery) || splitEvery < 2) throw new TesseraError(`${what}: splitEvery must be an integer >= 2, got ${splitEvery}`);
  return splitEvery;
}

/**
 * Combine `keys` (in order) into one; pushes the combine tasks, named `name[...at, depth, i]`,
 * onto `nodes` (`at` tells apart the trees of one layer, e.g. one per output block).
 */
export function combineTree(
  keys: readonly Key[],
  name: string,
  op: string,
  splitEvery: number,
  nodes: GraphNode[],
  at: readonly number[] = [],
): Key {
  let level = [...keys];
  for (let depth = 0; level.length > 1; depth++) {
    const next: Key[] = [];
    for (let i = 0; i < level.length; i += splitEvery) {
      const group = level.slice(i, i + splitEvery);
      if (group.length === 1) {
        next.push(group[0]!);
        continue;
      }
      const key = blockKey(name, [...at, depth, next.length]);
      nodes.push(new Task(key, op, group.map((k) => new TaskRef(k))));
      next.push(key);
    }
    level = next;
  }
  return level[0]!;
}
