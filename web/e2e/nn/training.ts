/**
 * The data-parallel run of the OPFS checkpoint page (web/e2e/nn/), shared with its Node test
 * (test/e2e/nn-opfs.test.ts), which runs the same uninterrupted training on worker_threads and
 * requires the page's parameters to match it bit for bit. Dropout and a warm-up + cosine schedule,
 * so a resumed run must also get the masks and the learning rates right.
 */

import { array as da, nn } from "tessera";

/** 600 rows, 8 features, 3 classes that depend on the features nonlinearly (a seeded LCG). */
export function data(n = 600) {
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const X = new Float64Array(n * 8).map(u);
  const y = new Float64Array(n).map((_, i) => (X[i * 8]! * X[i * 8 + 1]! > 0 ? 1 : 0) + (X[i * 8 + 2]! > 0.3 ? 1 : 0));
  return { x: da.fromTypedArray(X, { shape: [n, 8], chunks: [100, 8] }), y: da.fromTypedArray(y, { chunks: [100] }) };
}

export const spec = nn.sequential([nn.dense(8, 32), nn.relu(), nn.dropout(0.2), nn.dense(32, 3)], { seed: 4 });
export const options = { epochs: 3, batchSize: 32, workers: 2, seed: 7, optimizer: nn.adam({ lr: 5e-3, schedule: nn.warmupLr(5, nn.cosineLr()) }) };
/** The interrupted run: checkpoints every `every` steps, stopped after `stop` steps. */
export const every = 10;
export const stop = 35;

/** A Float32Array's bits, for exact comparison across the page boundary. */
export const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

export interface NnPageReport {
  done: boolean;
  error?: string;
  crossOriginIsolated: boolean;
  /** The browser can rename files (FileSystemFileHandle.move): checkpoints are written to a temporary name, then renamed. */
  move: boolean;
  /** The OPFS directory the checkpoints went to (under navigator.storage.getDirectory()). */
  dir: string;
  /** onCheckpoint events of the interrupted run. */
  written: { step: number; path: string }[];
  /** The directory's entries after the interrupted run, sorted. */
  files: string[];
  /** Steps of the interrupted run, and the step the resumed one (on a fresh cluster) started at. */
  stopped: number;
  resumedFrom: number;
  steps: number;
  /** Bits of the uninterrupted run's parameters, optimizer state and step count. */
  whole: { params: number[]; state: number[][]; t: number; history: string };
  /** The same of the resumed run, per replica for the parameters. */
  resumed: { params: number[][]; state: number[][]; t: number; history: string };
}

declare global {
  interface Window {
    __tesseraNN?: NnPageReport;
  }
}
