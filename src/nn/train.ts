/**
 * Data-parallel training: `fitDataParallel(client, spec, { x, y }, options)`.
 *
 *  1. X and y become row blocks (src/ml/data.ts) and are persisted on the workers.
 *  2. Blocks are dealt to W replicas in contiguous shares (fixed by block order, so runs are
 *     reproducible wherever the blocks landed), each replica on the worker holding most of its
 *     share, so it trains mostly on data already in its worker's memory.
 *  3. One long-running `nn.replica` task per replica, pinned to its worker, runs every epoch.
 *     Every step each replica takes an equal slice of its shuffled rows (so a step covers
 *     about batchSize rows over all replicas and an epoch covers every row once), computes the
 *     gradient sum, and the replicas all-reduce through one SharedArrayBuffer (allreduce.ts):
 *     identical mean gradient, identical update, bit-identical replicas.
 *  4. The client polls the shared step log to call onStep / onEpoch while the run goes on.
 *  5. Checkpoints (`checkpoint: { dir, every }`): every N steps rank 0 copies its parameters and
 *     optimizer state into the shared buffer; the client writes them with the run's position
 *     (step, shuffle seed, each replica's blocks, the history so far) as one file, atomically
 *     (store.ts). `resume` starts from the latest (or a named) checkpoint with the same blocks per
 *     replica, so the rest of the run computes exactly what the uninterrupted run would have.
 *  6. A replica's worker lost mid-run (crashed, killed) stops the run with an error naming the
 *     worker and the step, or with `restart: true` the run goes on from the last checkpoint (or
 *     from its start) on the cluster's replacement worker, again bit-identical to a run that was
 *     never interrupted.
 *
 * The replicas share memory, so they must be threads of one process: a LocalCluster's workers
 * (Node worker_threads, or Web Workers on a cross-origin-isolated page). Remote workers and
 * ring all-reduce over peer channels are not supported yet.
 */

import type { Client } from "../client/client.js";
import { TaskError, TesseraError } from "../errors.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey, type Graph, type Key } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import { toRows, type MatrixInput, type TargetInput } from "../ml/data.js";
import { GraphValue, Held } from "../ml/run.js";
import { LOG_FIELDS, Reducer, allocReduceBuffer } from "./allreduce.js";
import { type Checkpoint, type TrainState, decodeCheckpoint, encodeCheckpoint } from "./checkpoint.js";
import { Model } from "./model.js";
import { parameterCount } from "./network.js";
import type { ReplicaResult, ReplicaSpec } from "./ops.js";
import { type LossName, type OptimizerSpec, type SequentialSpec, adam, widths } from "./spec.js";
import { type CheckpointDir, checkpointName, checkpointStep, latestCheckpoint, openCheckpointDir } from "./store.js";

export interface StepEvent {
  step: number;
  epoch: number;
  /** Mean loss over the step's rows (all replicas). */
  loss: number;
  rows: number;
  /** Seconds since the replicas started (this attempt), at the end of the step. */
  seconds: number;
  /** Rows per second of this step (its rows over the time since the step before). */
  samplesPerSecond: number;
}
export interface EpochEvent {
  epoch: number;
  loss: number;
  /** Training accuracy over the epoch's batches (null for mse). */
  accuracy: number | null;
  rows: number;
}
export interface CheckpointEvent {
  /** Steps completed when it was taken. */
  step: number;
  /** Where it was written. */
  path: string;
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
  onCheckpoint?: (e: CheckpointEvent) => void;
  signal?: AbortSignal;
  /** A replica waiting longer than this for the others fails the run (default 120 s). */
  timeoutMs?: number;
  /**
   * Write a checkpoint every `every` steps into `dir` (Node: a directory; browser: an OPFS
   * directory), and one at the end; only the newest `keep` are kept (default 2).
   */
  checkpoint?: { dir: string; every: number; keep?: number };
  /**
   * Continue from a checkpoint: `true` for the newest in checkpoint.dir (starting afresh when
   * there is none yet), or the path of a checkpoint file.
   */
  resume?: boolean | string;
  /** When a replica's worker is lost, go on from the last checkpoint (default false: fail). */
  restart?: boolean;
  /** Stop after this many steps in all (counted from the run's start, resumed steps included). */
  maxSteps?: number;
}

export interface FitResult {
  model: Model;
  /** Per epoch: mean training loss and accuracy. */
  history: EpochEvent[];
  /** Each replica's final parameters (equal bit for bit; kept so callers can check). */
  replicaParams: Float32Array[];
  /** Optimizer state and update count at the end (what a checkpoint stores). */
  optimizerState: Float32Array[];
  optimizerSteps: number;
  /** Workers the replicas ran on, by rank (of the last attempt). */
  workers: string[];
  /** Steps completed (all of them unless maxSteps stopped the run), and the step it started at. */
  steps: number;
  startStep: number;
  /** Restarts after lost workers. */
  restarts: number;
  /** Wall time of the training loop (slowest replica, last attempt), and rows per second over it. */
  seconds: number;
  samplesPerSecond: number;
  /** Per replica, seconds of its loop in: gathering rows, forward + loss + backward, the all-reduce (waiting for the others included), the optimizer. */
  timing: ReplicaResult["timing"][];
}

/** Where an attempt starts: a checkpoint's tensors and position, or nothing (step 0). */
interface Start {
  step: number;
  init: ReplicaSpec["init"];
  assign: number[][] | null;
  history: EpochEvent[];
  partial: TrainState["partial"];
  /** The checkpoint it came from (resume), for the checks that it fits this run. */
  checkpoint?: Checkpoint;
}

/** A replica's worker went away during an attempt. */
class WorkerLost extends Error {
  constructor(
    readonly worker: string,
    readonly rank: number,
    readonly step: number,
    readonly reason: string,
  ) {
    super(`nn.fitDataParallel: worker ${worker} (replica ${rank}) was lost at step ${step}: ${reason}`);
  }
}

const MAX_RESTARTS = 3;
/** How often the client reads the step log while a run goes on (onStep / onEpoch come in batches). */
const DRAIN_MS = 100;

export async function fitDataParallel(client: Client, spec: SequentialSpec, data: { x: MatrixInput; y: TargetInput }, options: FitOptions = {}): Promise<FitResult> {
  const what = "nn.fitDataParallel";
  const P = parameterCount(spec);
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 32;
  const loss = options.loss ?? "softmaxCrossEntropy";
  const optimizer = options.optimizer ?? adam();
  const seed = options.seed ?? 0;
  if (!Number.isInteger(epochs) || epochs < 1) throw new TesseraError(`${what}: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TesseraError(`${what}: batchSize must be a positive integer, got ${batchSize}`);
  const ck = options.checkpoint;
  if (ck !== undefined && (!Number.isInteger(ck.every) || ck.every < 1)) throw new TesseraError(`${what}: checkpoint.every must be a positive integer (steps), got ${ck.every}`);
  if (ck?.keep !== undefined && (!Number.isInteger(ck.keep) || ck.keep < 1)) throw new TesseraError(`${what}: checkpoint.keep must be a positive integer, got ${ck.keep}`);
  if (options.resume === true && !ck) throw new TesseraError(`${what}: resume: true reads the newest checkpoint of checkpoint.dir; give checkpoint: { dir, every } (or resume: "<checkpoint file>")`);
  if (options.maxSteps !== undefined && (!Number.isInteger(options.maxSteps) || options.maxSteps < 1)) throw new TesseraError(`${what}: maxSteps must be a positive integer, got ${options.maxSteps}`);
  const dir = ck ? await openCheckpointDir(ck.dir, what) : null;
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
    const W = options.workers ?? client.workers.length;
    if (!Number.isInteger(W) || W < 1) throw new TesseraError(`${what}: workers must be a positive integer, got ${W}`);
    const S = Math.max(1, Math.ceil(N / batchSize));
    const total = epochs * S;
    const endStep = Math.min(total, options.maxSteps ?? total);
    const stateSizes = optimizer.type === "sgd" ? [optimizer.momentum ? P : 0] : [P, P];
    const fresh: Start = { step: 0, init: null, assign: null, history: [], partial: { rows: 0, loss: 0, correct: 0 } };
    let start = options.resume ? ((await resumeFrom(options.resume, dir, what)) ?? fresh) : fresh;
    if (start !== fresh) checkResume(start, { spec, loss, optimizer, N, batchSize, S, W, seed, blocks: rows.x.length }, what);
    const written: string[] = [];
    let lastCheckpoint: Start | null = null;
    let restarts = 0;

    /** Write one checkpoint (and drop the oldest beyond `keep`). */
    const save = async (st: Start, t: number, state: Float32Array[], params: Float32Array, assign: number[][]): Promise<void> => {
      if (!dir) return;
      const train: TrainState = { step: st.step, stepsPerEpoch: S, epochs, batchSize, rows: N, seed, assign, history: st.history, partial: st.partial };
      const name = checkpointName(st.step);
      await dir.write(name, encodeCheckpoint({ spec, loss, params, optimizer: { spec: optimizer, t, state }, train }));
      written.push(name);
      const keep = ck!.keep ?? 2;
      const all = (await dir.list()).filter((n) => checkpointStep(n) >= 0).sort();
      for (const old of all.slice(0, Math.max(0, all.length - keep))) await dir.remove(old);
      options.onCheckpoint?.({ step: st.step, path: `${dir.where}/${name}` });
    };

    for (;;) {
      // Fix which blocks each rank trains on once: a restarted run must give each the same rows.
      if (!start.assign) start = { ...start, assign: deal(client, rows.x, W, what).assign };
      const attempt = await runAttempt(start);
      if (!(attempt instanceof WorkerLost)) return attempt;
      if (!options.restart) {
        throw new TesseraError(`${attempt.message}. Pass restart: true (with checkpoint: { dir, every }) to go on from the last checkpoint`, { cause: attempt });
      }
      if (++restarts > MAX_RESTARTS) throw new TesseraError(`${what}: gave up after ${MAX_RESTARTS} restarts; the last: ${attempt.message}`, { cause: attempt });
      start = lastCheckpoint ?? start;
      await waitForWorkers(client, W, options.timeoutMs ?? 120_000, what);
    }

    async function runAttempt(from: Start): Promise<FitResult | WorkerLost> {
      const { workers, assign } = place(client, rows.x, from.assign!, what);
      // A checkpoint past maxSteps: nothing to run, the result is the checkpoint's state.
      const last = Math.max(from.step, endStep);
      const stateFloats = stateSizes.reduce((a, b) => a + b, 0);
      const layout = { workers: W, size: P, steps: total, snapshot: ck ? P + stateFloats : 0, state: stateFloats };
      const sab = allocReduceBuffer(layout);
      const watcher = new Reducer(sab, layout, -1);
      const stop = new AbortController();
      let lost: WorkerLost | null = null;
      const onAbort = () => {
        watcher.abort(-1);
        stop.abort(options.signal?.reason);
      };
      options.signal?.addEventListener("abort", onAbort);
      const unlisten = client.runner.onWorkerLost((id, reason) => {
        const rank = workers.indexOf(id);
        if (rank < 0 || lost) return;
        lost = new WorkerLost(id, rank, watcher.logged, reason);
        watcher.abort(-1);
        stop.abort(lost);
      });

      const token = randomToken();
      const graph: Graph = new Map();
      const replicaKeys: Key[] = [];
      for (let r = 0; r < W; r++) {
        const mine = assign[r]!;
        const rs: ReplicaSpec = {
          spec, loss, optimizer, rank: r, layout, sab, epochs, stepsPerEpoch: S, startStep: from.step, endStep: last, init: from.init,
          checkpointEvery: ck?.every ?? 0, seed, d: rows.d, blocks: mine.length, timeoutMs: options.timeoutMs ?? 120_000,
        };
        const args = [opSpec(rs), ...mine.map((b) => new TaskRef(rows.x[b]!)), ...mine.map((b) => new TaskRef(rows.y![b]!))];
        const key = blockKey(`nn-replica-${token}`, [r]);
        graph.set(key, new Task(key, "nn.replica", args, { workers: [workers[r]!] }));
        replicaKeys.push(key);
      }

      const history = [...from.history];
      let seen = from.step;
      const acc = { ...from.partial };
      let lastMs = 0;
      const drain = () => {
        const upto = watcher.logged;
        for (; seen < upto; seen++) {
          const at = LOG_FIELDS * seen;
          const [n, l, c, ms] = [watcher.log[at]!, watcher.log[at + 1]!, watcher.log[at + 2]!, watcher.log[at + 3]!];
          const epoch = Math.floor(seen / S);
          const stepLoss = n > 0 ? l / n : NaN;
          const rate = ms > lastMs ? (1000 * n) / (ms - lastMs) : NaN;
          options.onStep?.({ step: seen, epoch, loss: stepLoss, rows: n, seconds: ms / 1000, samplesPerSecond: rate });
          // To the dashboard too (a chart per series), when something watches the cluster.
          if (Number.isFinite(stepLoss)) client.logMetric("training loss", seen, stepLoss);
          if (Number.isFinite(rate)) client.logMetric("training samples/s", seen, rate);
          lastMs = ms;
          acc.rows += n;
          acc.loss += l;
          acc.correct += c;
          if ((seen + 1) % S === 0) {
            const e: EpochEvent = { epoch, loss: acc.loss / acc.rows, accuracy: loss === "mse" ? null : acc.correct / acc.rows, rows: acc.rows };
            history.push(e);
            options.onEpoch?.(e);
            acc.rows = acc.loss = acc.correct = 0;
          }
        }
      };
      // Checkpoints: take each snapshot rank 0 publishes, in order, and write it.
      let writing: Promise<void> = Promise.resolve();
      let saveError: unknown = null;
      let watching = ck !== undefined;
      const takeOne = () => {
        const snap = watcher.take(stateSizes);
        if (!snap) return;
        drain(); // the log holds every step up to the snapshot's
        const st: Start = { step: snap.steps, init: { params: snap.params, t: snap.t, state: snap.state }, assign, history: history.filter((e) => e.epoch < Math.floor(snap.steps / S)), partial: partialAt(watcher.log, snap.steps, S, from) };
        lastCheckpoint = st;
        writing = writing.then(() => save(st, snap.t, snap.state, snap.params, assign)).catch((err: unknown) => {
          saveError ??= err;
          watcher.abort(-1);
        });
      };
      const watch = (async () => {
        while (watching) {
          await watcher.snapshotReady(50);
          takeOne();
        }
      })();
      // A few wake-ups a second: the replicas' threads want both cores, and events come in batches anyway.
      const timer = setInterval(drain, DRAIN_MS);
      let results: ReplicaResult[];
      try {
        const external = [...keys, ...rows.external];
        results = (await client.compute(new GraphValue(graph, replicaKeys, external, (v) => v as ReplicaResult[]), { optimize: false, signal: stop.signal })) as ReplicaResult[];
      } catch (err) {
        watcher.abort(-1);
        if (lost) return lost;
        if (saveError) throw saveError;
        throw firstCause(err, what);
      } finally {
        clearInterval(timer);
        watching = false;
        await watch;
        options.signal?.removeEventListener("abort", onAbort);
        unlisten();
        await writing;
      }
      drain();
      const r0 = results[0]!;
      if (dir && last > from.step) await save({ step: last, init: null, assign, history, partial: partialAt(watcher.log, last, S, from) }, r0.t, r0.optimizerState, r0.params, assign);
      if (saveError) throw saveError;
      const seconds = Math.max(...results.map((r) => r.seconds));
      return {
        model: new Model(spec, r0.params, loss),
        history,
        replicaParams: results.map((r) => r.params),
        optimizerState: r0.optimizerState,
        optimizerSteps: r0.t,
        workers,
        steps: last,
        startStep: from.step,
        restarts,
        seconds,
        samplesPerSecond: seconds > 0 ? (((last - from.step) / S) * N) / seconds : 0,
        timing: results.map((r) => r.timing),
      };
    }
  } finally {
    held.release();
  }
}

/** The running sums of the epoch in progress after `steps` steps: the attempt's step log, after what it started from. */
function partialAt(log: Float64Array, steps: number, S: number, from: Start): TrainState["partial"] {
  const epochStart = steps - (steps % S);
  const carried = from.step > epochStart;
  const p = carried ? { ...from.partial } : { rows: 0, loss: 0, correct: 0 };
  for (let s = carried ? from.step : epochStart; s < steps; s++) {
    p.rows += log[LOG_FIELDS * s]!;
    p.loss += log[LOG_FIELDS * s + 1]!;
    p.correct += log[LOG_FIELDS * s + 2]!;
  }
  return p;
}

async function resumeFrom(resume: true | string, dir: CheckpointDir | null, what: string): Promise<Start | null> {
  let bytes: Uint8Array;
  let where: string;
  if (resume === true) {
    const name = await latestCheckpoint(dir!);
    if (name === null) return null;
    bytes = await dir!.read(name);
    where = `${dir!.where}/${name}`;
  } else {
    const cut = resume.lastIndexOf("/");
    const d = await openCheckpointDir(cut > 0 ? resume.slice(0, cut) : ".", what);
    bytes = await d.read(resume.slice(cut + 1));
    where = resume;
  }
  const c = decodeCheckpoint(bytes);
  if (!c.train || !c.optimizer) throw new TesseraError(`${what}: ${where} is a model, not a training checkpoint (it has no optimizer state or run position)`);
  return {
    step: c.train.step,
    init: { params: c.params, t: c.optimizer.t, state: c.optimizer.state },
    assign: c.train.assign,
    history: c.train.history,
    partial: c.train.partial,
    checkpoint: c,
  };
}

/** A checkpoint continues this run only if it was written by the same run setup. */
function checkResume(start: Start, run: { spec: SequentialSpec; loss: LossName; optimizer: OptimizerSpec; N: number; batchSize: number; S: number; W: number; seed: number; blocks: number }, what: string): void {
  const c = start.checkpoint!;
  const t = c.train!;
  const differ = (name: string, was: unknown, now: unknown) => {
    throw new TesseraError(`${what}: cannot resume: the checkpoint's ${name} is ${JSON.stringify(was)} but this run's is ${JSON.stringify(now)}`);
  };
  if (JSON.stringify(c.spec) !== JSON.stringify(run.spec)) differ("model spec", c.spec, run.spec);
  if (c.loss !== run.loss) differ("loss", c.loss, run.loss);
  if (JSON.stringify(c.optimizer!.spec) !== JSON.stringify(run.optimizer)) differ("optimizer", c.optimizer!.spec, run.optimizer);
  if (t.rows !== run.N) differ("number of rows", t.rows, run.N);
  if (t.batchSize !== run.batchSize) differ("batchSize", t.batchSize, run.batchSize);
  if (t.seed !== run.seed) differ("seed", t.seed, run.seed);
  if (t.assign.length !== run.W) differ("number of replicas (workers)", t.assign.length, run.W);
  if (t.assign.flat().length !== run.blocks) differ("number of row blocks", t.assign.flat().length, run.blocks);
}

/** Wait until the cluster has `W` workers again (a lost one is replaced). */
async function waitForWorkers(client: Client, W: number, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (client.workers.length < W) {
    if (Date.now() - t0 > timeoutMs) throw new TesseraError(`${what}: waited ${timeoutMs / 1000} s for ${W} workers to restart on; the cluster has ${client.workers.length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Workers for a given assignment of blocks to ranks: for each rank, the free worker holding most of its blocks. */
function place(client: Client, xKeys: readonly Key[], assign: number[][], what: string): { workers: string[]; assign: number[][] } {
  const all = client.workers;
  if (assign.length > all.length) throw new TesseraError(`${what}: ${assign.length} replicas asked for but the cluster has ${all.length} worker(s)`);
  const has = client.whoHas(...xKeys);
  const used = new Set<string>();
  const workers = assign.map((blocks) => {
    let best = "", bestCount = -1;
    for (const w of all) {
      if (used.has(w)) continue;
      const count = blocks.filter((b) => (has[xKeys[b]!] ?? []).includes(w)).length;
      if (count > bestCount) [best, bestCount] = [w, count];
    }
    used.add(best);
    return best;
  });
  return { workers, assign };
}

function countGraph(xKeys: readonly Key[]): GraphValue<number[]> {
  const token = randomToken();
  const g: Graph = new Map();
  const keys = xKeys.map((k, i) => {
    const key = blockKey(`nn-rows-${token}`, [i]);
    g.set(key, new Task(key, "nn.rows", [new TaskRef(k)]));
    return key;
  });
  return new GraphValue(g, keys, [...xKeys], (v) => v as number[]);
}

/**
 * Deal the row blocks to W replicas: contiguous, balanced shares in block order, fixed by the
 * data alone (not by where the blocks landed), so two runs with the same seed compute the same
 * thing and a resumed or restarted run gives each replica the same rows. Each replica then goes
 * to the worker holding most of its blocks (place); the rest it fetches once, at its start.
 */
function deal(client: Client, xKeys: readonly Key[], W: number, what: string): { workers: string[]; assign: number[][] } {
  if (W > client.workers.length) throw new TesseraError(`${what}: ${W} replicas asked for but the cluster has ${client.workers.length} worker(s)`);
  const B = xKeys.length;
  const assign = Array.from({ length: W }, (_, r) => Array.from({ length: Math.floor(((r + 1) * B) / W) - Math.floor((r * B) / W) }, (_, i) => Math.floor((r * B) / W) + i));
  return place(client, xKeys, assign, what);
}

/** A replica's TesseraError (bad labels, a timeout) in the trainer's words; replicas stopped by another's failure are not the story. */
function firstCause(err: unknown, what: string): unknown {
  if (err instanceof TaskError && err.cause instanceof Error && err.cause.name === "TesseraError") {
    const msg = err.cause.message.startsWith("nn.") ? err.cause.message : `${what}: ${err.cause.message}`;
    return new TesseraError(msg, { cause: err });
  }
  return err;
}
