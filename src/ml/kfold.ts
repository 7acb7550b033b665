/**
 * Cross-validation folds over persisted data. A search persists X and y once (f64 row blocks on
 * the workers); a fold is arrays whose blocks are small `ml.fold` tasks over those persisted
 * blocks, run where they are, so nothing of X or y is sent again per candidate.
 *
 *   KFold   without shuffle, scikit-learn's folds: fold f tests the f-th contiguous run of rows
 *           (the first n % k folds one row longer), cut out of whichever blocks hold it. With
 *           shuffle, each block's rows are permuted (seeded by seed and the block's number) and
 *           each block gives fold f its f-th share (positions [floor(f·r/k), floor((f+1)·r/k))
 *           of the permutation): balanced in every block, and nothing moves between workers.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import { ChunkedArray } from "../array/core.js";
import { toRows, type MatrixInput, type Rows, type TargetInput } from "./data.js";
import { boolOption, checkKeys, intOption } from "./estimator.js";
import type { FoldSpec } from "./ops-postfit.js";
import { checkSeed } from "./random.js";
import { inspect, persistRows, type Held } from "./run.js";

// ---- persisted data and folds --------------------------------------------------------------

/** X and y persisted on the workers, with their rows per block: what every candidate reads. */
export interface Persisted {
  rows: Rows & { held: Held };
  counts: number[];
  n: number;
  /** Keep-alive for arrays built on the persisted keys. */
  anchor: { keys: string[]; futures: { key: string }[] };
}

export async function persistData(X: MatrixInput, y: TargetInput, what: string, options: ComputeOptions): Promise<Persisted> {
  if (y === undefined) throw new TesseraError(`${what}: y is missing`);
  const rows = await toRows(X, y, what);
  const data = await persistRows(rows, what, options);
  try {
    const info = await inspect(data, what, {}, options);
    return { rows: data, counts: info.rows, n: info.n, anchor: { keys: data.held.futures.map((f) => f.key), futures: [...data.held.futures] } };
  } catch (err) {
    data.held.release();
    throw err;
  }
}

/** Arrays whose blocks are `ml.fold` of the persisted blocks (empty pieces dropped). */
export function foldArrays(p: Persisted, pieces: (FoldPiece | null)[]): { X: ChunkedArray; y: ChunkedArray } {
  const name = randomToken();
  const xName = `ml-fold-x-${name}`;
  const yName = `ml-fold-y-${name}`;
  const xs: Task[] = [];
  const ys: Task[] = [];
  const counts: number[] = [];
  pieces.forEach((piece, b) => {
    if (!piece || piece.count === 0) return;
    const i = counts.length;
    counts.push(piece.count);
    xs.push(new Task(blockKey(xName, [i, 0]), "ml.fold", [opSpec({ ...piece.spec, d: p.rows.d }), new TaskRef(p.rows.x[b]!)]));
    ys.push(new Task(blockKey(yName, [i]), "ml.fold", [opSpec({ ...piece.spec, d: null }), new TaskRef(p.rows.y![b]!)]));
  });
  const n = counts.reduce((a, b) => a + b, 0);
  const X = new ChunkedArray(new HighLevelGraph([new MaterializedLayer(xName, xs)]), xName, [n, p.rows.d], [counts, [p.rows.d]], "float64", undefined, [p.anchor]);
  const y = new ChunkedArray(new HighLevelGraph([new MaterializedLayer(yName, ys)]), yName, [n], [[...counts]], "float64", undefined, [p.anchor]);
  return { X, y };
}

export interface FoldPiece {
  count: number;
  spec: Omit<FoldSpec, "d">;
}

/** All of the persisted data as arrays (an ml.fold task per block that takes every row). */
export function wholeArrays(p: Persisted): { X: ChunkedArray; y: ChunkedArray } {
  return foldArrays(p, p.counts.map((c): FoldPiece => ({ count: c, spec: { rows: [{ start: 0, end: c }], shuffle: null } })));
}

export interface KFoldOptions {
  /** Folds (default 5). */
  nSplits?: number;
  /** Permute each block's rows before cutting (default false). */
  shuffle?: boolean;
  seed?: number;
}

export class KFold {
  readonly nSplits: number;
  readonly shuffle: boolean;
  readonly seed: number;

  constructor(options: KFoldOptions = {}) {
    checkKeys("KFold", options, ["nSplits", "shuffle", "seed"]);
    this.nSplits = intOption("KFold", "nSplits", options.nSplits, 5, 2);
    this.shuffle = boolOption("KFold", "shuffle", options.shuffle, false);
    this.seed = checkSeed(options.seed ?? 0, "KFold");
  }

  getNSplits(): number {
    return this.nSplits;
  }

  /** Per block, what fold f's test (take) or train (!take) rows are. */
  pieces(counts: readonly number[], f: number, take: boolean): FoldPiece[] {
    const k = this.nSplits;
    if (this.shuffle) {
      return counts.map((r, b) => {
        const start = Math.floor((f * r) / k);
        const end = Math.floor(((f + 1) * r) / k);
        return { count: take ? end - start : r - (end - start), spec: { rows: null, shuffle: { seed: this.seed, stream: 5000 + b, start, end, take } } };
      });
    }
    const n = counts.reduce((a, b) => a + b, 0);
    // scikit-learn: fold sizes n // k, the first n % k one larger.
    const size = (i: number) => Math.floor(n / k) + (i < n % k ? 1 : 0);
    let s = 0;
    for (let i = 0; i < f; i++) s += size(i);
    const e = s + size(f);
    let at = 0;
    return counts.map((r) => {
      const lo = Math.max(0, s - at);
      const hi = Math.min(r, e - at);
      at += r;
      const ranges = lo < hi ? (take ? [{ start: lo, end: hi }] : [{ start: 0, end: lo }, { start: hi, end: r }]) : take ? [] : [{ start: 0, end: r }];
      const kept = ranges.filter((q) => q.end > q.start);
      return { count: kept.reduce((a, q) => a + q.end - q.start, 0), spec: { rows: kept, shuffle: null } };
    });
  }

  /**
   * The folds of (X, y): X and y are persisted once, and each fold's train and test arrays are
   * lazy `ml.fold` tasks over the persisted blocks. Call release() when done with them.
   */
  async split(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<{ folds: { trainX: ChunkedArray; trainY: ChunkedArray; testX: ChunkedArray; testY: ChunkedArray }[]; release(): void }> {
    const p = await persistData(X, y, "KFold.split", options);
    if (p.n < this.nSplits) {
      p.rows.held.release();
      throw new TesseraError(`KFold.split: nSplits = ${this.nSplits} is more than the ${p.n} rows`);
    }
    const folds = Array.from({ length: this.nSplits }, (_, f) => {
      const train = foldArrays(p, this.pieces(p.counts, f, false));
      const test = foldArrays(p, this.pieces(p.counts, f, true));
      return { trainX: train.X, trainY: train.y, testX: test.X, testY: test.y };
    });
    return { folds, release: () => p.rows.held.release() };
  }
}
