/**
 * Rows whose blocks sit in wasm memory on the workers, for fits that read them many times
 * (L-BFGS evaluations): persisted once through `ml.wasm`, so every later pass hands the
 * kernels the block in place. A block that is plain data (scattered from the client, or
 * fetched from another worker) would otherwise be copied into wasm memory on every pass.
 */

import { currentClient, type ComputeOptions } from "../client/current.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import type { Rows } from "./data.js";
import { GraphValue, rethrow, type Held } from "./run.js";

/** Persisted rows (an empty graph over held keys) with x and y blocks in wasm memory; release `held` when done. */
export async function residentRows(data: Rows, what: string, options: ComputeOptions = {}, wait = true): Promise<Rows & { held: Held }> {
  const token = randomToken();
  const xName = `ml-wasm-x-${token}`;
  const yName = `ml-wasm-y-${token}`;
  const xs = data.x.map((k, i) => new Task(blockKey(xName, [i]), "ml.wasm", [opSpec({}), new TaskRef(k)]));
  const ys = (data.y ?? []).map((k, i) => new Task(blockKey(yName, [i]), "ml.wasm", [opSpec({}), new TaskRef(k)]));
  const layers = [new MaterializedLayer(xName, xs), ...(ys.length > 0 ? [new MaterializedLayer(yName, ys)] : [])];
  const keys = [...xs, ...ys].map((t) => t.key);
  const held = currentClient().persist(new GraphValue(new HighLevelGraph(layers), keys, data.external, () => undefined), options) as unknown as Held;
  // Without waiting, the next pass is submitted behind these tasks: one round trip for both.
  if (wait) {
    try {
      await Promise.all(held.futures.map((f) => f.wait()));
    } catch (err) {
      held.release();
      rethrow(err, what);
    }
  }
  const x = xs.map((t) => t.key);
  const y = data.y ? ys.map((t) => t.key) : null;
  return { ...data, graph: new HighLevelGraph(), x, y, external: keys, hold: [held], held };
}
