/**
 * The dashboard's demo workload, shared by `tessera dashboard --demo` (Node), the dashboard
 * page's `?demo` mode (Web Workers in the tab, web/dashboard/workload.ts) and the e2e tests: a
 * few thousand small tasks under several prefixes (load -> transform -> a tree of combine ->
 * total), the mean of an 8 MB random array persisted on the workers (so their memory bars show
 * something after the run), and one task that fails on purpose so the errors page has
 * something to show.
 *
 * The engine comes in as an argument (`api`): the page passes its browser build of tessera, the
 * CLI its Node build, so this module imports nothing at run time and each caller keeps one copy
 * of the engine. The task functions are shipped to workers as source, so each is self-contained.
 */

/** A lazy value (a Delayed); opaque here. */
type Lazy = object;
/** A chunked array: what the workload calls on it. */
interface DemoArray {
  mean(): Lazy;
}

/**
 * What the workload uses of tessera, structurally, so that either build's exports fit (the
 * browser's types and the Node build's are separate declarations of the same classes).
 */
export interface DemoApi<A extends DemoArray> {
  delayed(fn: (...args: never[]) => unknown, options: { name: string }): (...args: unknown[]) => Lazy;
  array: { random: { uniform(shape: number[], options: { chunks: number[]; seed: number }): A } };
}

export interface DemoClient<A> {
  persist(x: A): A;
  compute(x: unknown, options?: { optimize?: boolean }): Promise<unknown>;
  logMetric(name: string, x: number, y: number): void;
}

/** The series the workload logs (as a training loop logs its loss), and its number of points. */
export const DEMO_SERIES = "demo: 1/(1+i)";
export const DEMO_SERIES_POINTS = 20;

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
export async function runDemoWorkload<A extends DemoArray>(
  api: DemoApi<A>,
  client: DemoClient<A>,
  options: WorkloadOptions = {},
): Promise<WorkloadResult & { persisted: A }> {
  const loads = options.loads ?? 1500;
  const ms = options.workMs ?? 0.25;
  const loadD = api.delayed(load, { name: "load" });
  const transformD = api.delayed(transform, { name: "transform" });
  const combineD = api.delayed(combine, { name: "combine" });
  let level: Lazy[] = [];
  for (let i = 0; i < loads; i++) level.push(transformD(loadD(i, ms), ms));
  let tasks = 2 * loads;
  while (level.length > 1) {
    const next: Lazy[] = [];
    for (let i = 0; i < level.length; i += 8) next.push(combineD(...level.slice(i, i + 8)));
    tasks += next.length;
    level = next;
  }
  const persisted = client.persist(api.array.random.uniform([1000, 1000], { chunks: [125, 125], seed: 7 }));
  const meanOf = persisted.mean();
  const failing = api.delayed(explode, { name: "explode" })(13);
  const [totals, failure] = await Promise.all([
    // Unfused, so each prefix shows in the stream and the progress bars.
    client.compute([level[0]!, meanOf], { optimize: false }),
    client.compute(failing).then(
      () => "no error",
      (err: Error) => err.message,
    ),
  ]);
  // A series for the dashboard's logged-series panel, as a training loop logs its loss per step.
  for (let i = 0; i < DEMO_SERIES_POINTS; i++) client.logMetric(DEMO_SERIES, i, 1 / (1 + i));
  // The mean is a 0-d NDArray.
  const both = totals as [number, { data: ArrayLike<number> }];
  return { tasks, total: both[0], mean: both[1].data[0]!, failure, persisted };
}
