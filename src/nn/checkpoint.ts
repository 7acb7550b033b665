/**
 * One binary checkpoint per model:
 *
 *   "TSNN" | u32 version | u32 header bytes | header (UTF-8 JSON) | padding to 4 | f32 tensors
 *
 * The header holds the spec, the loss, the optimizer (its spec and step count), for checkpoints
 * written while training the run's position (TrainState) and, per tensor, its name and length;
 * the tensors follow in that order, little-endian f32, so a reader can map them without parsing
 * numbers. Everything needed to resume is in it: parameters and optimizer state bit for bit, and
 * the step, which with the run's seed is the whole random state (shuffles and dropout masks are
 * drawn from streams keyed by seed, epoch, step and rank, not from a running generator).
 */

import { TesseraError } from "../errors.js";
import type { LossName, OptimizerSpec, SequentialSpec } from "./spec.js";

const MAGIC = 0x4e4e5354; // "TSNN" read as a little-endian u32
const VERSION = 1;

export interface Checkpoint {
  spec: SequentialSpec;
  loss: LossName;
  params: Float32Array;
  optimizer?: { spec: OptimizerSpec; t: number; state: Float32Array[] };
  /** Free-form numbers (steps, epochs) kept with the weights. */
  meta?: Record<string, number>;
  /** Where a data-parallel run stood (checkpoints written by fitDataParallel). */
  train?: TrainState;
}

/** A data-parallel run's position: what `resume` needs besides the tensors. */
export interface TrainState {
  /** Steps completed (the next step to run). */
  step: number;
  stepsPerEpoch: number;
  /** Epochs the run was asked for. */
  epochs: number;
  batchSize: number;
  /** Rows of the training data, and the seed of its shuffles and of dropout. */
  rows: number;
  seed: number;
  /** Row blocks per replica, by rank (so a resumed run gives each replica the same rows). */
  assign: number[][];
  /** Completed epochs' loss and accuracy, and the running sums of the epoch in progress. */
  history: { epoch: number; loss: number; accuracy: number | null; rows: number }[];
  partial: { rows: number; loss: number; correct: number };
}

interface Header {
  format: "tessera-nn";
  version: number;
  spec: SequentialSpec;
  loss: LossName;
  optimizer: { spec: OptimizerSpec; t: number } | null;
  meta: Record<string, number>;
  train?: TrainState;
  tensors: { name: string; length: number }[];
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const tensors: [string, Float32Array][] = [["params", c.params], ...(c.optimizer?.state ?? []).map((s, i): [string, Float32Array] => [`optimizer.${i}`, s])];
  const header: Header = {
    format: "tessera-nn",
    version: VERSION,
    spec: c.spec,
    loss: c.loss,
    optimizer: c.optimizer ? { spec: c.optimizer.spec, t: c.optimizer.t } : null,
    meta: c.meta ?? {},
    ...(c.train ? { train: c.train } : {}),
    tensors: tensors.map(([name, t]) => ({ name, length: t.length })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length) / 4) * 4;
  const total = start + tensors.reduce((s, [, t]) => s + t.byteLength, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  let at = start;
  for (const [, t] of tensors) {
    // Little-endian on every platform we run on; a DataView would be the portable slow path.
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), at);
    at += t.byteLength;
  }
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (!(bytes instanceof Uint8Array)) throw new TesseraError(`nn.load: expected the bytes of a checkpoint (a Uint8Array), got ${typeof bytes}`);
  if (bytes.length < 12) throw new TesseraError(`nn.load: ${bytes.length} bytes is too short for a checkpoint`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw new TesseraError("nn.load: not a tessera checkpoint (it does not start with \"TSNN\")");
  const version = dv.getUint32(4, true);
  if (version !== VERSION) throw new TesseraError(`nn.load: checkpoint version ${version} is not supported (this tessera reads version ${VERSION})`);
  const n = dv.getUint32(8, true);
  if (12 + n > bytes.length) throw new TesseraError("nn.load: the checkpoint is truncated (its header runs past the end)");
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + n))) as Header;
  } catch (err) {
    throw new TesseraError("nn.load: the checkpoint's header is not valid JSON", { cause: err });
  }
  let at = Math.ceil((12 + n) / 4) * 4;
  const tensors = new Map<string, Float32Array>();
  for (const t of header.tensors) {
    const end = at + t.length * 4;
    if (end > bytes.length) throw new TesseraError(`nn.load: the checkpoint is truncated (tensor ${t.name} needs ${end} bytes, there are ${bytes.length})`);
    // Copied, so the result owns aligned memory whatever the input's offset.
    tensors.set(t.name, new Float32Array(bytes.slice(at, end).buffer));
    at = end;
  }
  const params = tensors.get("params");
  if (!params) throw new TesseraError("nn.load: the checkpoint has no params tensor");
  const out: Checkpoint = { spec: header.spec, loss: header.loss, params, meta: header.meta };
  if (header.train) out.train = header.train;
  if (header.optimizer) {
    const state = header.tensors.filter((t) => t.name.startsWith("optimizer.")).map((t) => tensors.get(t.name)!);
    out.optimizer = { spec: header.optimizer.spec, t: header.optimizer.t, state };
  }
  return out;
}
