/**
 * A demo workload for the dashboard, shared by the page's demo mode (`?demo`, on Web Workers in
 * the tab) and test/e2e/dashboard.test.ts (on worker_threads in Node): a few thousand small
 * tasks under several prefixes (load -> transform -> a tree of combine -> total), the mean of
 * an 8 MB random array persisted on the workers (so their memory bars show something after the
 * run), and one task that fails on purpose so the errors panel has something to show.
 *
 * The functions are shipped to workers as source, so each is self-contained.
 */

import { array, delayed, type Client, type Delayed } from "tessera";

export interface WorkloadOptions {
  /** Number of load tasks (default 1500: about 3200 tasks in all). */
  loads?: number;
  /** Milliseconds of busy work per load and per transform task (default 0.25). */
  workMs?: number;
}

export interface WorkloadResult {
  /** Tasks of the load/transform/combine graph. */
  tasks: number;
  total: number;
  mean: number;
  /** The message of the failing task's error, as compute() rejected with it. */
  failure: string;
}

/** The message the failing task raises. */
export const FAILURE_MESSAGE = "bad input 13: the demo fails on purpose";

function load(i: number, ms: number): Float64Array {
  const until = performance.now() + ms;
  while (performance.now() < until);
  const out = new Float64Array(64);
  let s = i + 1;
  for (let k = 0; k < out.length; k++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[k] = s / 2147483648;
  }
  return out;
}

function transform(x: Float64Array, ms: number): number {
  const until = performance.now() + ms;
  while (performance.now() < until);
  let t = 0;
  for (let k = 0; k < x.length; k++) t += Math.sqrt(x[k]!);
  return t;
}

function combine(...xs: number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return t;
}

function explode(i: number): number {
  if (i === 13) throw new RangeError("bad input 13: the demo fails on purpose");
  return i;
}

/**
 * Run the workload on `client`; resolves when all of it has finished (the failure included),
 * with the persisted array: its chunks stay on the workers while it is referenced.
 */
export async function runWorkload(client: Client, options: WorkloadOptions = {}): Promise<WorkloadResult & { persisted: array.ChunkedArray }> {
  const loads = options.loads ?? 1500;
  const ms = options.workMs ?? 0.25;
  const loadD = delayed(load, { name: "load" });
  const transformD = delayed(transform, { name: "transform" });
  const combineD = delayed(combine, { name: "combine" });
  let level: Delayed<number>[] = [];
  for (let i = 0; i < loads; i++) level.push(transformD(loadD(i, ms), ms));
  let tasks = 2 * loads;
  while (level.length > 1) {
    const next: Delayed<number>[] = [];
    for (let i = 0; i < level.length; i += 8) next.push(combineD(...level.slice(i, i + 8)));
    tasks += next.length;
    level = next;
  }
  const persisted = client.persist(array.random.uniform([1000, 1000], { chunks: [125, 125], seed: 7 }));
  const meanOf = persisted.mean();
  const failing = delayed(explode, { name: "explode" })(13);
  const [totals, failure] = await Promise.all([
    // Unfused, so each prefix shows in the stream and the progress bars.
    client.compute([level[0]!, meanOf], { optimize: false }),
    client.compute(failing).then(
      () => "no error",
      (err: Error) => err.message,
    ),
  ]);
  // The mean is a 0-d NDArray.
  return { tasks, total: totals[0] as number, mean: (totals[1] as { data: ArrayLike<number> }).data[0]!, failure, persisted };
}
