/**
 * Data-parallel training: `fitDataParallel(client, spec, { x, y }, options)`.
 *
 *  1. X and y become row blocks (src/ml/data.ts) and are persisted on the workers.
 *  2. Blocks are dealt to W replicas, each block to the replica on the worker that holds it
 *     (balanced by block count), so a replica trains on data already in its worker's memory.
 *  3. One long-running `nn.replica` task per replica, pinned to its worker, runs every epoch.
 *     Every step each replica takes an equal slice of its shuffled rows (so a step covers
 *     about batchSize rows over all replicas and an epoch covers every row once), computes the
 *     gradient sum, and the replicas all-reduce through one SharedArrayBuffer (allreduce.ts):
 *     identical mean gradient, identical update, bit-identical replicas.
 *  4. The client polls the shared step log to call onStep / onEpoch while the run goes on.
 *
 * The replicas share memory, so they must be threads of one process: a LocalCluster's workers
 * (Node worker_threads, or Web Workers on a cross-origin-isolated page). Remote workers and
 * ring all-reduce over peer channels are not supported yet.
 */

import type { Client } from "../client/client.js";
import { TaskError, TesseraError } from "../errors.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, type Graph, type Key } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import { toRows, type MatrixInput, type TargetInput } from "../ml/data.js";
import { GraphValue, Held } from "../ml/run.js";
import { Reducer, allocReduceBuffer } from "./allreduce.js";
import { Model } from "./model.js";
import { parameterCount } from "./network.js";
import type { ReplicaResult, ReplicaSpec } from "./ops.js";
import { type LossName, type OptimizerSpec, type SequentialSpec, adam, widths } from "./spec.js";

export interface StepEvent {
  step: number;
  epoch: number;
  /** Mean loss over the step's rows (all replicas). */
  loss: number;
  rows: number;
}
export interface EpochEvent {
  epoch: number;
  loss: number;
  /** Training accuracy over the epoch's batches (null for mse). */
  accuracy: number | null;
  rows: number;
}

export interface FitOptions {
  epochs?: number;
  /** Rows per step over all replicas (default 32). */
  batchSize?: number;
  optimizer?: OptimizerSpec;
  loss?: LossName;
  /** Number of replicas (default: every worker). */
  workers?: number;
  /** Seeds the shuffling and dropout (the weights come from the spec's seed). */
  seed?: number;
  onStep?: (e: StepEvent) => void;
  onEpoch?: (e: EpochEvent) => void;
  signal?: AbortSignal;
  /** A replica waiting longer than this for the others fails the run (default 120 s). */
  timeoutMs?: number;
}

export interface FitResult {
  model: Model;
  /** Per epoch: mean training loss and accuracy. */
  history: EpochEvent[];
  /** Each replica's final parameters (equal bit for bit; kept so callers can check). */
  replicaParams: Float32Array[];
  /** Workers the replicas ran on, by rank. */
  workers: string[];
  steps: number;
  /** Wall time of the training loop (slowest replica), and rows per second over it. */
  seconds: number;
  samplesPerSecond: number;
}

export async function fitDataParallel(client: Client, spec: SequentialSpec, data: { x: MatrixInput; y: TargetInput }, options: FitOptions = {}): Promise<FitResult> {
  const what = "nn.fitDataParallel";
  const P = parameterCount(spec);
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 32;
  const loss = options.loss ?? "softmaxCrossEntropy";
  const optimizer = options.optimizer ?? adam();
  if (!Number.isInteger(epochs) || epochs < 1) throw new TesseraError(`${what}: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TesseraError(`${what}: batchSize must be a positive integer, got ${batchSize}`);
  const rows = await toRows(data.x, data.y, what);
  if (rows.d !== widths(spec)[0]) throw new TesseraError(`${what}: the model takes ${widths(spec)[0]} features; X has ${rows.d}`);

  // Persist X and y: each replica reads blocks already on its worker.
  const keys = [...rows.x, ...rows.y!];
  const held = client.persist(new GraphValue(rows.graph, keys, rows.external, () => undefined)) as unknown as Held;
  try {
    await Promise.all(held.futures.map((f) => f.wait()));
    const counts = (await client.compute(countGraph(rows.x), { optimize: false })) as number[];
    const N = counts.reduce((a, b) => a + b, 0);
    if (N === 0) throw new TesseraError(`${what}: X has no rows`);
    const { workers, assign } = deal(client, rows.x, options.workers, what);
    const W = workers.length;
    const S = Math.max(1, Math.ceil(N / batchSize));
    const layout = { workers: W, size: P, steps: epochs * S };
    const sab = allocReduceBuffer(layout);
    const watcher = new Reducer(sab, layout, -1);
    const onAbort = () => watcher.abort(-1);
    options.signal?.addEventListener("abort", onAbort);

    const token = randomToken();
    const graph: Graph = new Map();
    const replicaKeys: Key[] = [];
    for (let r = 0; r < W; r++) {
      const mine = assign[r]!;
      const rs: ReplicaSpec = {
        spec, loss, optimizer, rank: r, layout, sab, epochs, stepsPerEpoch: S, seed: options.seed ?? 0, d: rows.d,
        blocks: mine.length, timeoutMs: options.timeoutMs ?? 120_000,
      };
      const args = [opSpec(rs), ...mine.map((b) => new TaskRef(rows.x[b]!)), ...mine.map((b) => new TaskRef(rows.y![b]!))];
      const key = `nn-replica-${token}-${r}`;
      graph.set(key, new Task(key, "nn.replica", args, { workers: [workers[r]!] }));
      replicaKeys.push(key);
    }

    const history: EpochEvent[] = [];
    let seen = 0;
    const epochAcc = { rows: 0, loss: 0, correct: 0 };
    const drain = () => {
      const upto = watcher.logged;
      for (; seen < upto; seen++) {
        const [n, l, c] = [watcher.log[3 * seen]!, watcher.log[3 * seen + 1]!, watcher.log[3 * seen + 2]!];
        const epoch = Math.floor(seen / S);
        options.onStep?.({ step: seen, epoch, loss: n > 0 ? l / n : NaN, rows: n });
        epochAcc.rows += n;
        epochAcc.loss += l;
        epochAcc.correct += c;
        if ((seen + 1) % S === 0) {
          const e: EpochEvent = { epoch, loss: epochAcc.loss / epochAcc.rows, accuracy: loss === "mse" ? null : epochAcc.correct / epochAcc.rows, rows: epochAcc.rows };
          history.push(e);
          options.onEpoch?.(e);
          epochAcc.rows = epochAcc.loss = epochAcc.correct = 0;
        }
      }
    };
    const timer = setInterval(drain, 20);
    let results: ReplicaResult[];
    try {
      const external = [...keys, ...rows.external];
      results = (await client.compute(new GraphValue(graph, replicaKeys, external, (v) => v as ReplicaResult[]), {
        optimize: false,
        ...(options.signal ? { signal: options.signal } : {}),
      })) as ReplicaResult[];
    } catch (err) {
      watcher.abort(-1);
      throw firstCause(err, what);
    } finally {
      clearInterval(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
    drain();
    const seconds = Math.max(...results.map((r) => r.seconds));
    return {
      model: new Model(spec, results[0]!.params, loss),
      history,
      replicaParams: results.map((r) => r.params),
      workers,
      steps: epochs * S,
      seconds,
      samplesPerSecond: (N * epochs) / seconds,
    };
  } finally {
    held.release();
  }
}

function countGraph(xKeys: readonly Key[]): GraphValue<number[]> {
  const token = randomToken();
  const g: Graph = new Map();
  const keys = xKeys.map((k, i) => {
    const key = `nn-rows-${token}-${i}`;
    g.set(key, new Task(key, "nn.rows", [new TaskRef(k)]));
    return key;
  });
  return new GraphValue(g, keys, [...xKeys], (v) => v as number[]);
}

/** Pick the replicas' workers (those holding the most blocks) and deal each block to one. */
function deal(client: Client, xKeys: readonly Key[], wanted: number | undefined, what: string): { workers: string[]; assign: number[][] } {
  const all = client.workers;
  const W = wanted ?? all.length;
  if (!Number.isInteger(W) || W < 1) throw new TesseraError(`${what}: workers must be a positive integer, got ${W}`);
  if (W > all.length) throw new TesseraError(`${what}: ${W} replicas asked for but the cluster has ${all.length} worker(s)`);
  const has = client.whoHas(...xKeys);
  const held = new Map(all.map((w) => [w, 0]));
  for (const k of xKeys) for (const w of has[k] ?? []) held.set(w, (held.get(w) ?? 0) + 1);
  const workers = [...all].sort((a, b) => held.get(b)! - held.get(a)! || (a < b ? -1 : 1)).slice(0, W);
  const assign: number[][] = workers.map(() => []);
  const fair = Math.ceil(xKeys.length / W);
  xKeys.forEach((k, b) => {
    const holders = (has[k] ?? []).map((w) => workers.indexOf(w)).filter((r) => r >= 0 && assign[r]!.length < fair);
    const r = holders[0] ?? assign.reduce((best, a, i) => (a.length < assign[best]!.length ? i : best), 0);
    assign[r]!.push(b);
  });
  return { workers, assign };
}

/** A replica's TesseraError (bad labels, a timeout) in the trainer's words; replicas stopped by another's failure are not the story. */
function firstCause(err: unknown, what: string): unknown {
  if (err instanceof TaskError && err.cause instanceof Error && err.cause.name === "TesseraError") {
    const msg = err.cause.message.startsWith("nn.") ? err.cause.message : `${what}: ${err.cause.message}`;
    return new TesseraError(msg, { cause: err });
  }
  return err;
}
