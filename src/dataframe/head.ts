/**
 * head / tail: compute partitions one at a time from the front (or back) until there are
 * enough rows, so `head()` of a 100 GB dataset reads one partition.
 */

import type { Table } from "apache-arrow";
import { COLLECTION, PREPARE, type Collection } from "../client/collection.js";
import { currentClient } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { blockKey } from "../graph/task.js";
import type { DataFrame } from "./dataframe.js";
import { concatFrames, sliceFrame, type Frame } from "./frame.js";
import { frameToArrow } from "./io/arrow.js";
import { deriveSchema } from "./steps.js";

async function partition(df: DataFrame, i: number): Promise<Frame> {
  const low = df.lowered();
  const key = blockKey(low.name, [i]);
  const c: Collection<Frame> = {
    [COLLECTION]: () => ({ graph: low.graph, keys: [key], external: low.external, finalize: (v) => v[0] as Frame, rebuild: () => c }),
  };
  return currentClient().compute(c);
}

async function take(df: DataFrame, n: number, fromEnd: boolean): Promise<Table> {
  if (!Number.isInteger(n) || n < 0) throw new TesseraError(`${fromEnd ? "tail" : "head"}: n must be a non-negative integer, got ${n}`);
  await df[PREPARE]();
  deriveSchema(df.input.schema(), df.steps);
  const parts = df.input.npartitions();
  const frames: Frame[] = [];
  let rows = 0;
  for (let k = 0; k < parts && rows < n; k++) {
    const f = await partition(df, fromEnd ? parts - 1 - k : k);
    frames.push(f);
    rows += f.length;
  }
  if (frames.length === 0) return df.compute();
  const all = concatFrames(fromEnd ? frames.reverse() : frames);
  return frameToArrow(fromEnd ? sliceFrame(all, Math.max(0, all.length - n), all.length) : sliceFrame(all, 0, n));
}

export const head = (df: DataFrame, n: number): Promise<Table> => take(df, n, false);
export const tail = (df: DataFrame, n: number): Promise<Table> => take(df, n, true);
