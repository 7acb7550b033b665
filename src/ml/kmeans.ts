/**
 * KMeans (sklearn.cluster.KMeans, with dask-ml's k-means‖ initialization).
 *
 * fit persists X on the workers and then runs passes of one task per block, tree-reduced:
 *
 *   first pass       rows per block, NaN check, column variances (tol is relative to them)
 *   k-means‖ init    one uniformly drawn row; then `initMaxIter` rounds: φ = Σ d²(x, C), then
 *                    every row drawn with probability min(1, l·d²(x, C)/φ), l =
 *                    oversamplingFactor·k (draws keyed by the row's number, so any blocking
 *                    gives the same candidates). Each row's distance to its nearest candidate
 *                    (and which one) stays on the workers as a [rows, 2] block, updated with
 *                    only the new candidates, so distances are computed once per candidate;
 *                    φ and the draws read it. Its counts weight the candidates; on the client,
 *                    weighted k-means++ over them, then weighted Lloyd iterations.
 *   Lloyd            per iteration one pass of `ml.kmeans.step` (the wasm kernel
 *                    mlKmeansAssign): every row scored against all centres in integers, four
 *                    rows to a vector, from the block's quads (an int16 copy, each column
 *                    scaled to ±32767, made once per fit and kept beside it: i32x4.dot_i16x8_s
 *                    does 8 multiply-adds an instruction), and measured in f64 where the lead
 *                    is within the quantization's error bound,
 *                    so the assignments are plain Lloyd's. The rows' labels stay on the workers
 *                    from step to step; each block sends back how the rows that changed centre
 *                    changed the centres' sums and counts; the client moves the centres, until
 *                    they move less than tol (squared, in all)
 *   inertia          a last pass with the final centres
 *
 * Scoring every row beats skipping rows by bounds here: Hamerly's bounds (used before) spared
 * about half the rows, but reading and writing each row's state and branching on it took twice
 * the time per row of scoring them all, four rows to a vector.
 *
 * Differences from scikit-learn: one initialization (nInit 1); an empty cluster keeps its
 * centre (scikit-learn moves it to a far point); NaN in X is an error.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import type { ChunkedArray } from "../array/core.js";
import type { DataFrame } from "../dataframe/dataframe.js";
import { toRows, type MatrixInput, type Rows } from "./data.js";
import { checkKeys, intOption, notFitted, numberOption } from "./estimator.js";
import type { KmeansPartial } from "./kernels.js";
import { kmeansPlusPlus, lloyd } from "./kmeans-local.js";
import type { KmeansStepSpec, NearestSpec, SampleSpec } from "./ops.js";
import type { PredictSpec } from "./ops-predict.js";
import { blockOutput } from "./output.js";
import { checkSeed, Stream } from "./random.js";
import { fetchRows, GraphValue, inspect, persistRows, reduceBlocks, rethrow, type Held } from "./run.js";
import { currentClient } from "../client/current.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey, type Key } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import { encodeNumber, encodeNumbers, estimatorJSON, fittedFields, registerEstimator, type EstimatorJSON } from "./serialize.js";

export interface KMeansOptions {
  /** Number of clusters (default 8). */
  nClusters?: number;
  /** "k-means||" (default), "random" (k distinct rows), or the initial centres (k rows of d). */
  init?: "k-means||" | "random" | Float64Array | readonly (readonly number[])[];
  /** Expected draws per k-means‖ round, as a multiple of nClusters (default 2). */
  oversamplingFactor?: number;
  /** k-means‖ rounds (default 5). */
  initMaxIter?: number;
  /** Lloyd iterations at most (default 300). */
  maxIter?: number;
  /** Converged when the centres' total squared move is <= tol times the mean column variance (default 1e-4). */
  tol?: number;
  /** Seed of every random choice (default 0). */
  seed?: number;
}

export type Predicted<X> = X extends DataFrame ? DataFrame : ChunkedArray;

export class KMeans {
  readonly nClusters: number;
  readonly init: "k-means||" | "random" | Float64Array;
  readonly oversamplingFactor: number;
  readonly initMaxIter: number;
  readonly maxIter: number;
  readonly tol: number;
  readonly seed: number;
  /** Centres, row-major [nClusters, nFeaturesIn] (after fit). */
  clusterCenters: Float64Array | null = null;
  /** Σ squared distance of each row to its nearest centre. */
  inertia = NaN;
  /** Lloyd iterations of the fit. */
  nIter = 0;
  nFeaturesIn = 0;
  featureNames: string[] | null = null;
  /** The centres the Lloyd iterations started from. */
  initCenters: Float64Array | null = null;

  constructor(options: KMeansOptions = {}) {
    const E = "KMeans";
    checkKeys(E, options, ["nClusters", "init", "oversamplingFactor", "initMaxIter", "maxIter", "tol", "seed"]);
    this.nClusters = intOption(E, "nClusters", options.nClusters, 8, 1);
    this.oversamplingFactor = numberOption(E, "oversamplingFactor", options.oversamplingFactor, 2, 0, Infinity, { lo: true });
    this.initMaxIter = intOption(E, "initMaxIter", options.initMaxIter, 5, 1);
    this.maxIter = intOption(E, "maxIter", options.maxIter, 300, 1);
    this.tol = numberOption(E, "tol", options.tol, 1e-4, 0, Infinity);
    this.seed = checkSeed(options.seed ?? 0, E);
    const init = options.init ?? "k-means||";
    if (init === "k-means||" || init === "random") this.init = init;
    else if (init instanceof Float64Array || Array.isArray(init)) this.init = initArray(init, this.nClusters);
    else throw new TesseraError(`KMeans: init must be "k-means||", "random" or the initial centres; got ${JSON.stringify(init)}`);
  }

  /** Cluster X: see the module notes for the passes this runs. */
  async fit(X: MatrixInput, options: ComputeOptions = {}): Promise<this> {
    const what = "KMeans.fit";
    const k = this.nClusters;
    const rows = await toRows(X, undefined, what);
    const data = await persistRows(rows, what, options);
    try {
      const info = await inspect(data, what, { moments: true }, options);
      const d = data.d;
      if (info.n < k) throw new TesseraError(`${what}: X has ${info.n} rows, fewer than nClusters (${k})`);
      if (this.init instanceof Float64Array && this.init.length !== k * d) {
        throw new TesseraError(`${what}: init has ${this.init.length / k} values per centre, but X has ${d} features`);
      }
      const meanVar = info.moments!.m2.reduce((s, m2) => s + m2 / info.n, 0) / d;
      const tolAbs = this.tol * meanVar;
      const passes = await Passes.start(data, info.rows, info.offsets, info.moments!.mean, what, options);
      try {
        await this.run(passes, info.n, tolAbs);
      } finally {
        passes.quads.held.release();
      }
      this.featureNames = rows.columns;
      return this;
    } finally {
      data.held.release();
    }
  }

  /** Initialization, Lloyd iterations and the inertia, over the quads made for this fit. */
  private async run(passes: Passes, n: number, tolAbs: number): Promise<void> {
    const k = this.nClusters;
    const d = passes.d;
    let C: Float64Array;
    if (this.init instanceof Float64Array) C = Float64Array.from(this.init);
    else if (this.init === "random") C = await passes.rows(distinctRows(n, k, new Stream(this.seed, 1)));
    else C = await this.scalable(passes, n, tolAbs);
    this.initCenters = Float64Array.from(C);
    // Lloyd iterations, each one step (ml.kmeans.step) that labels every row, exactly as plain
    // Lloyd; sums and counts are kept here, from each step's changes (the rows that moved).
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    let state: State | null = null;
    let iter = 0;
    try {
      while (iter < this.maxIter) {
        const step = await passes.step(state, C);
        state?.held.release();
        state = step.state;
        iter++;
        for (let i = 0; i < k * d; i++) sums[i] += step.delta.sums[i]!;
        for (let c = 0; c < k; c++) counts[c] += step.delta.counts[c]!;
        const next = new Float64Array(C.length);
        let shift = 0;
        for (let c = 0; c < k; c++) {
          const count = counts[c]!;
          for (let j = 0; j < d; j++) {
            const v = count > 0 ? sums[c * d + j]! / count : C[c * d + j]!;
            next[c * d + j] = v;
            shift += (v - C[c * d + j]!) ** 2;
          }
        }
        C = next;
        if (shift <= tolAbs) break;
      }
    } finally {
      state?.held.release();
    }
    this.inertia = await passes.inertia(C);
    this.clusterCenters = C;
    this.nIter = iter;
    this.nFeaturesIn = d;
  }

  /** k-means‖: candidates drawn over a few rounds, reduced to k centres on the client. */
  private async scalable(passes: Passes, n: number, tolAbs: number): Promise<Float64Array> {
    const k = this.nClusters;
    const d = passes.d;
    let C = await passes.rows([new Stream(this.seed, 0).int(n)]);
    let state = await passes.nearest(null, C, 0);
    try {
      const l = this.oversamplingFactor * k;
      const add = async (rows: Float64Array) => {
        const next = await passes.nearest(state, rows, C.length / d);
        state.held.release();
        state = next;
        const all = new Float64Array(C.length + rows.length);
        all.set(C);
        all.set(rows, C.length);
        C = all;
      };
      for (let round = 0; round < this.initMaxIter; round++) {
        const { phi } = await passes.cost(state, C.length / d, false);
        if (!(phi > 0)) break; // every row sits on a candidate
        const drawn = await passes.sample(state, l, phi, this.seed, round);
        if (drawn.length > 0) await add(drawn);
      }
      // Fewer candidates than clusters (tiny or repetitive data): top up with random rows.
      if (C.length / d < k) await add(await passes.rows(distinctRows(n, k, new Stream(this.seed, 2))));
      const m = C.length / d;
      const weights = (await passes.cost(state, m, true)).counts!;
      const start = kmeansPlusPlus(C, weights, m, d, k, new Stream(this.seed, 3));
      return lloyd(C, weights, m, d, start, k, { maxIter: 300, tol: tolAbs });
    } finally {
      state.held.release();
    }
  }

  private model(method: string): { d: number; C: Float64Array; nc: number } {
    if (!this.clusterCenters) throw notFitted("KMeans", method);
    return { d: this.nFeaturesIn, C: this.clusterCenters, nc: this.nClusters };
  }

  /** The nearest centre of each row, int32 (lazy). */
  predict<X extends MatrixInput>(X: X): Predicted<X> {
    const predict: PredictSpec = { kind: "kmeans-label", ...this.model("predict") };
    return blockOutput(X, { predict, prefix: "kmeans-predict", names: ["label"], columns: this.featureNames, what: "KMeans.predict" }) as Predicted<X>;
  }

  /** The distance of each row to every centre, [n, nClusters] (lazy). */
  transform<X extends MatrixInput>(X: X): Predicted<X> {
    const m = this.model("transform");
    const predict: PredictSpec = { kind: "kmeans-distance", ...m };
    const names = Array.from({ length: m.nc }, (_, c) => `distance_${c}`);
    return blockOutput(X, { predict, prefix: "kmeans-transform", names, columns: this.featureNames, what: "KMeans.transform" }) as Predicted<X>;
  }

  /** Minus the inertia of X with the fitted centres (scikit-learn's score). */
  async score(X: MatrixInput, options: ComputeOptions = {}): Promise<number> {
    const what = "KMeans.score";
    const m = this.model("score");
    const rows = await toRows(X, undefined, what);
    if (rows.d !== m.d) throw new TesseraError(`${what}: X has ${rows.d} features, but the model was fitted with ${m.d}`);
    const s = await reduceBlocks<KmeansPartial>(rows, { name: "ml-kmeans", op: "ml.kmeans", combine: "ml.sum", spec: () => ({ ...m, sums: false, counts: false }) }, what, options);
    if (!Number.isFinite(s.inertia)) throw new TesseraError(`${what}: X has NaN or infinite values`);
    return -s.inertia;
  }

  /** `{ format: "tessera-ml", version: 1, estimator, params, fitted }`; see ml.fromJSON. */
  toJSON(): EstimatorJSON {
    const init = this.init;
    const w = init.length / this.nClusters;
    const params = {
      nClusters: this.nClusters,
      // Rows, as the constructor takes them (and model selection clones from these params).
      init: init instanceof Float64Array ? Array.from({ length: this.nClusters }, (_, c) => Array.from(init.subarray(c * w, (c + 1) * w))) : init,
      oversamplingFactor: this.oversamplingFactor,
      initMaxIter: this.initMaxIter,
      maxIter: this.maxIter,
      tol: this.tol,
      seed: this.seed,
    };
    const fitted = this.clusterCenters
      ? {
          clusterCenters: encodeNumbers(this.clusterCenters),
          inertia: encodeNumber(this.inertia),
          nIter: this.nIter,
          nFeaturesIn: this.nFeaturesIn,
          featureNames: this.featureNames,
          initCenters: this.initCenters ? encodeNumbers(this.initCenters) : null,
        }
      : null;
    return estimatorJSON("KMeans", params, fitted);
  }

  static fromJSON(json: EstimatorJSON): KMeans {
    const out = new KMeans(json.params as KMeansOptions);
    const f = fittedFields(json);
    if (f) {
      out.nFeaturesIn = f.int("nFeaturesIn");
      out.clusterCenters = f.f64("clusterCenters", out.nClusters * out.nFeaturesIn);
      out.inertia = f.number("inertia");
      out.nIter = f.int("nIter");
      out.featureNames = f.strings("featureNames");
      out.initCenters = f.f64OrNull("initCenters", out.nClusters * out.nFeaturesIn);
    }
    return out;
  }
}

registerEstimator("KMeans", KMeans.fromJSON);

/** Per-block blocks a fit keeps on the workers (quads, k-means‖ and Lloyd states). */
interface State {
  keys: Key[];
  held: Held;
}

/**
 * The passes of a fit over persisted rows. Each X block has its quads beside it on the workers
 * (ml.kmeans.quads: an int16 copy, four rows interleaved, shifted by the data's mean m0), made once
 * and read by every nearest-centre pass; the f64 rows are read only for the exact distances.
 */
class Passes {
  readonly d: number;
  private constructor(
    private readonly data: Rows,
    private readonly counts: number[],
    private readonly offsets: number[],
    private readonly m0: Float64Array,
    /** The quads of each X block (the caller releases them). */
    readonly quads: State,
    private readonly what: string,
    private readonly options: ComputeOptions,
  ) {
    this.d = data.d;
  }

  static async start(data: Rows, counts: number[], offsets: number[], m0: Float64Array, what: string, options: ComputeOptions): Promise<Passes> {
    const quads = persistBlocks(data, "ml-kmeans-quads", "ml.kmeans.quads", opSpec({ d: data.d, m0 }), [], options);
    await settled(quads, what);
    return new Passes(data, counts, offsets, m0, quads, what, options);
  }

  /** The rows with each block's quads as the op's next input. */
  private withQuads(): Rows {
    return { ...this.data, external: [...this.data.external, ...this.quads.keys] };
  }

  /** Σ each row's squared distance to its nearest of the centres C. */
  async inertia(C: Float64Array): Promise<number> {
    const spec = { d: this.d, C, nc: C.length / this.d, m0: this.m0 };
    const pass = { name: "ml-kmeans-inertia", op: "ml.kmeans.inertia", combine: "ml.sum", spec: () => spec, extra: this.quads.keys };
    return (await reduceBlocks<KmeansPartial>(this.withQuads(), pass, this.what, this.options)).inertia;
  }

  /**
   * One Lloyd step on every block: the new labels stay on the workers, their changes to the
   * sums and counts come back (one round trip).
   */
  async step(prev: State | null, C: Float64Array): Promise<{ state: State; delta: { sums: Float64Array; counts: Float64Array } }> {
    const d = this.d;
    const nc = C.length / d;
    const state = persistBlocks(this.data, "ml-kmeans-step", "ml.kmeans.step", opSpec<KmeansStepSpec>({ d, C, nc, m0: this.m0 }), [this.quads, prev], this.options);
    try {
      const rows: Rows = { ...this.data, x: state.keys, y: null, d: 1, graph: new HighLevelGraph(), external: state.keys };
      const delta = await reduceBlocks<{ sums: Float64Array; counts: Float64Array }>(
        rows,
        { name: "ml-kmeans-delta", op: "ml.kmeans.delta", combine: "ml.sum", spec: () => ({ d, nc }) },
        this.what,
        this.options,
      );
      return { state, delta };
    } catch (err) {
      state.held.release();
      throw err;
    }
  }

  /** Per row, the nearest candidate so far (state kept on the workers), given the new candidates C. */
  async nearest(prev: State | null, C: Float64Array, base: number): Promise<State> {
    const spec = opSpec<NearestSpec>({ d: this.d, C, nc: C.length / this.d, base, m0: this.m0 });
    const state = persistBlocks(this.data, "ml-kmeans-nearest", "ml.kmeans.nearest", spec, [this.quads, prev], this.options);
    await settled(state, this.what);
    return state;
  }

  /** φ = Σ d²(x, candidates), and (counts) the rows nearest each of the m candidates. */
  cost(state: State, m: number, counts: boolean): Promise<{ phi: number; counts?: Float64Array }> {
    const rows: Rows = { ...this.data, x: state.keys, y: null, d: 2, graph: new HighLevelGraph(), external: state.keys };
    return reduceBlocks(rows, { name: "ml-kmeans-cost", op: "ml.kmeans.cost", combine: "ml.sum", spec: () => ({ m, counts }) }, this.what, this.options);
  }

  /** The rows drawn in one k-means‖ round, in row order. */
  async sample(state: State, l: number, phi: number, seed: number, round: number): Promise<Float64Array> {
    const rows: Rows = { ...this.data, y: state.keys, external: [...this.data.x, ...state.keys] };
    const base = { d: this.d, l, phi, seed, round };
    const s = await reduceBlocks<{ rows: Float64Array }>(
      rows,
      { name: "ml-kmeans-sample", op: "ml.kmeans.sample", combine: "ml.concat", withY: true, spec: (block): SampleSpec => ({ ...base, offset: this.offsets[block]! }) },
      this.what,
      this.options,
    );
    return s.rows;
  }

  rows(indices: number[]): Promise<Float64Array> {
    const sorted = [...indices].sort((a, b) => a - b);
    return fetchRows(this.data, sorted, this.counts, this.what, this.options);
  }
}

/**
 * A block per row block, `op(spec, x[i], inputs[0][i], ...)` (null inputs left out), persisted
 * on the workers (not waited for).
 */
function persistBlocks(data: Rows, prefix: string, op: string, spec: unknown, inputs: (State | null)[], options: ComputeOptions): State {
  const name = `${prefix}-${randomToken()}`;
  const given = inputs.filter((s): s is State => s !== null);
  const nodes = data.x.map((xk, i) => new Task(blockKey(name, [i]), op, [spec, new TaskRef(xk), ...given.map((s) => new TaskRef(s.keys[i]!))]));
  const keys = nodes.map((t) => t.key);
  const graph = new HighLevelGraph([new MaterializedLayer(name, nodes)]);
  const held = currentClient().persist(new GraphValue(graph, keys, [...data.x, ...given.flatMap((s) => s.keys)], () => undefined), options) as unknown as Held;
  return { keys, held };
}

/** Wait for persisted blocks; on an error they are released and it is thrown in `what`'s words. */
async function settled(state: State, what: string): Promise<void> {
  try {
    await Promise.all(state.held.futures.map((f) => f.wait()));
  } catch (err) {
    state.held.release();
    rethrow(err, what);
  }
}

/** k distinct row numbers below n, in a seeded random order (Floyd's algorithm). */
function distinctRows(n: number, k: number, rng: Stream): number[] {
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen];
}

function initArray(init: Float64Array | readonly (readonly number[])[], k: number): Float64Array {
  if (init instanceof Float64Array) {
    if (init.length === 0 || init.length % k !== 0) throw new TesseraError(`KMeans: init holds ${init.length} values, not nClusters (${k}) rows of equal length`);
    return Float64Array.from(init);
  }
  if (init.length !== k) throw new TesseraError(`KMeans: init has ${init.length} centres, but nClusters is ${k}`);
  const d = init[0]!.length;
  const out = new Float64Array(k * d);
  init.forEach((row, c) => {
    if (!Array.isArray(row) || row.length !== d) throw new TesseraError(`KMeans: init centre ${c} has ${Array.isArray(row) ? row.length : "no"} values, expected ${d}`);
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new TesseraError(`KMeans: init centre ${c} has ${v} at ${j}`);
      out[c * d + j] = v;
    });
  });
  return out;
}
