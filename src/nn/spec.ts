/**
 * Models, layers, losses and optimizers as plain data. A spec is JSON-safe, so it travels to
 * the workers inside a task's arguments and into a checkpoint's header; the code that runs it
 * (network.ts) is registered in every worker and rebuilt from the spec there.
 */

import { TesseraError } from "../errors.js";

export type Activation = "relu" | "gelu" | "tanh" | "sigmoid";

export type LayerSpec =
  | { type: "dense"; inputs: number; outputs: number; bias: boolean; init: "glorot" | "he" }
  | { type: Activation }
  | { type: "dropout"; rate: number }
  | { type: "layerNorm"; features: number; eps: number }
  | { type: "embedding"; inputs: number; num: number; dim: number };

export interface SequentialSpec {
  kind: "sequential";
  layers: LayerSpec[];
  /** Seed of the initial weights (and of dropout masks, mixed with the step). */
  seed: number;
}

export type LossName = "softmaxCrossEntropy" | "binaryCrossEntropy" | "mse";

/**
 * A learning-rate schedule: the rate of update number `step` (0-based) from the optimizer's `lr`.
 *
 *   constant  lr
 *   step      lr · gamma^floor(step / every)                       (torch StepLR)
 *   cosine    minLr + (lr - minLr) · (1 + cos(π · min(step, T) / T)) / 2, T = `steps`, by default
 *             every step of the run                                 (torch CosineAnnealingLR)
 *   warmup    lr · (step + 1) / steps for the first `steps` updates, then `then` counted from the
 *             end of the warm-up (linear warm-up, then e.g. cosine)
 */
export type ScheduleSpec =
  | { type: "constant" }
  | { type: "step"; every: number; gamma: number }
  | { type: "cosine"; steps: number | null; minLr: number }
  | { type: "warmup"; steps: number; then: ScheduleSpec };

export type OptimizerSpec =
  | { type: "sgd"; lr: number; momentum: number; weightDecay: number; nesterov: boolean; schedule?: ScheduleSpec }
  | { type: "adam"; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean; schedule?: ScheduleSpec };

const positiveInt = (v: number, what: string): number => {
  if (!Number.isInteger(v) || v < 1) throw new TesseraError(`${what} must be a positive integer, got ${v}`);
  return v;
};

/** A fully connected layer: y = x·W + b, W [inputs, outputs]. `init` defaults to "he" (good before ReLU/GELU). */
export function dense(inputs: number, outputs: number, options: { bias?: boolean; init?: "glorot" | "he" } = {}): LayerSpec {
  return { type: "dense", inputs: positiveInt(inputs, "nn.dense inputs"), outputs: positiveInt(outputs, "nn.dense outputs"), bias: options.bias ?? true, init: options.init ?? "he" };
}
export const relu = (): LayerSpec => ({ type: "relu" });
export const gelu = (): LayerSpec => ({ type: "gelu" });
export const tanh = (): LayerSpec => ({ type: "tanh" });
export const sigmoid = (): LayerSpec => ({ type: "sigmoid" });

/** Zeroes a fraction `rate` of values while training (scaling the rest by 1 / (1 - rate)); identity in evaluation. */
export function dropout(rate: number): LayerSpec {
  if (!(rate >= 0 && rate < 1)) throw new TesseraError(`nn.dropout rate must be in [0, 1), got ${rate}`);
  return { type: "dropout", rate };
}

export function layerNorm(features: number, options: { eps?: number } = {}): LayerSpec {
  return { type: "layerNorm", features: positiveInt(features, "nn.layerNorm features"), eps: options.eps ?? 1e-5 };
}

/**
 * A lookup table for integer inputs: each of the `inputs` input columns holds an index in
 * [0, num) and becomes that row of a [num, dim] table, so the layer gives inputs · dim values
 * per row. It reads the raw inputs, so it comes first; the table learns like any weight.
 */
export function embedding(num: number, dim: number, options: { inputs?: number } = {}): LayerSpec {
  return { type: "embedding", inputs: positiveInt(options.inputs ?? 1, "nn.embedding inputs"), num: positiveInt(num, "nn.embedding num"), dim: positiveInt(dim, "nn.embedding dim") };
}

/** Layers applied in order; checks that each layer's width matches the one before. */
export function sequential(layers: readonly LayerSpec[], options: { seed?: number } = {}): SequentialSpec {
  const spec: SequentialSpec = { kind: "sequential", layers: layers.map((l) => ({ ...l })), seed: options.seed ?? 0 };
  widths(spec);
  return spec;
}

/** The width of the input and of every layer's output; throws on a mismatch. */
export function widths(spec: SequentialSpec): number[] {
  if (spec?.kind !== "sequential" || !Array.isArray(spec.layers)) throw new TesseraError("nn: a model spec must come from nn.sequential([...])");
  let width: number | null = null;
  const out: number[] = [];
  spec.layers.forEach((l, i) => {
    if (l.type === "dense") {
      if (width !== null && width !== l.inputs) throw new TesseraError(`nn.sequential: layer ${i} (dense) takes ${l.inputs} inputs but the layer before gives ${width}`);
      if (width === null) out.push(l.inputs);
      width = l.outputs;
    } else if (l.type === "layerNorm") {
      if (width !== null && width !== l.features) throw new TesseraError(`nn.sequential: layer ${i} (layerNorm) normalizes ${l.features} features but the layer before gives ${width}`);
      if (width === null) out.push(l.features);
      width = l.features;
    } else if (l.type === "embedding") {
      if (width !== null) throw new TesseraError(`nn.sequential: layer ${i} (embedding) must come first: it reads the integer inputs`);
      out.push(l.inputs);
      width = l.inputs * l.dim;
    } else if (width === null) {
      throw new TesseraError(`nn.sequential: layer ${i} (${l.type}) cannot come first: start with nn.dense or nn.layerNorm, which fix the input width`);
    }
    out.push(width!);
  });
  if (out.length === 0) throw new TesseraError("nn.sequential: give at least one layer");
  return out;
}

const withSchedule = (schedule: ScheduleSpec | undefined) => (schedule && schedule.type !== "constant" ? { schedule: checkSchedule(schedule) } : {});

export function sgd(options: { lr?: number; momentum?: number; weightDecay?: number; nesterov?: boolean; schedule?: ScheduleSpec } = {}): OptimizerSpec {
  return { type: "sgd", lr: options.lr ?? 0.01, momentum: options.momentum ?? 0, weightDecay: options.weightDecay ?? 0, nesterov: options.nesterov ?? false, ...withSchedule(options.schedule) };
}

/** Adam; `weightDecay` is added to the gradient (L2), as torch.optim.Adam does. */
export function adam(options: { lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; schedule?: ScheduleSpec } = {}): OptimizerSpec {
  return { type: "adam", lr: options.lr ?? 1e-3, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, eps: options.eps ?? 1e-8, weightDecay: options.weightDecay ?? 0, decoupled: false, ...withSchedule(options.schedule) };
}

/** AdamW: weight decay applied to the weights directly (decoupled), as torch.optim.AdamW does. */
export function adamw(options: { lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; schedule?: ScheduleSpec } = {}): OptimizerSpec {
  const a = adam(options) as Extract<OptimizerSpec, { type: "adam" }>;
  return { ...a, weightDecay: options.weightDecay ?? 0.01, decoupled: true };
}

export const constantLr = (): ScheduleSpec => ({ type: "constant" });

/** lr · gamma every `every` updates (torch.optim.lr_scheduler.StepLR). */
export function stepLr(options: { every: number; gamma?: number }): ScheduleSpec {
  return checkSchedule({ type: "step", every: options?.every, gamma: options?.gamma ?? 0.1 });
}

/** Cosine annealing from lr to `minLr` over `steps` updates (default: the whole run). */
export function cosineLr(options: { steps?: number; minLr?: number } = {}): ScheduleSpec {
  return checkSchedule({ type: "cosine", steps: options.steps ?? null, minLr: options.minLr ?? 0 });
}

/** Linear warm-up over `steps` updates, then `then` (default constant). */
export function warmupLr(steps: number, then: ScheduleSpec = constantLr()): ScheduleSpec {
  return checkSchedule({ type: "warmup", steps, then });
}

function checkSchedule(s: ScheduleSpec): ScheduleSpec {
  switch (s?.type) {
    case "constant":
      return s;
    case "step":
      positiveInt(s.every, "nn.stepLr every");
      if (!(s.gamma > 0)) throw new TesseraError(`nn.stepLr: gamma must be positive, got ${s.gamma}`);
      return s;
    case "cosine":
      if (s.steps !== null) positiveInt(s.steps, "nn.cosineLr steps");
      if (!(s.minLr >= 0)) throw new TesseraError(`nn.cosineLr: minLr must be >= 0, got ${s.minLr}`);
      return s;
    case "warmup":
      positiveInt(s.steps, "nn.warmupLr steps");
      checkSchedule(s.then);
      return s;
    default:
      throw new TesseraError(`nn: a learning-rate schedule must come from nn.constantLr, nn.stepLr, nn.cosineLr or nn.warmupLr; got ${JSON.stringify(s)}`);
  }
}

/**
 * The learning rate of update `step` (0-based) under `schedule` from the base rate `lr`;
 * `total` is the run's number of updates (what cosine anneals over unless given `steps`).
 */
export function learningRate(schedule: ScheduleSpec | undefined, lr: number, step: number, total: number | null): number {
  if (!schedule) return lr;
  switch (schedule.type) {
    case "constant":
      return lr;
    case "step":
      return lr * Math.pow(schedule.gamma, Math.floor(step / schedule.every));
    case "cosine": {
      const T = schedule.steps ?? total;
      if (T === null) throw new TesseraError("nn.cosineLr: give steps (the optimizer does not know how long the run is)");
      return schedule.minLr + ((lr - schedule.minLr) * (1 + Math.cos((Math.PI * Math.min(step, T)) / T))) / 2;
    }
    case "warmup":
      if (step < schedule.steps) return (lr * (step + 1)) / schedule.steps;
      return learningRate(schedule.then, lr, step - schedule.steps, total === null ? null : Math.max(1, total - schedule.steps));
  }
}
