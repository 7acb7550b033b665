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
  | { type: "layerNorm"; features: number; eps: number };

export interface SequentialSpec {
  kind: "sequential";
  layers: LayerSpec[];
  /** Seed of the initial weights (and of dropout masks, mixed with the step). */
  seed: number;
}

export type LossName = "softmaxCrossEntropy" | "binaryCrossEntropy" | "mse";

export type OptimizerSpec =
  | { type: "sgd"; lr: number; momentum: number; weightDecay: number; nesterov: boolean }
  | { type: "adam"; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean };

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
    } else if (width === null) {
      throw new TesseraError(`nn.sequential: layer ${i} (${l.type}) cannot come first: start with nn.dense or nn.layerNorm, which fix the input width`);
    }
    out.push(width!);
  });
  if (out.length === 0) throw new TesseraError("nn.sequential: give at least one layer");
  return out;
}

export function sgd(options: { lr?: number; momentum?: number; weightDecay?: number; nesterov?: boolean } = {}): OptimizerSpec {
  return { type: "sgd", lr: options.lr ?? 0.01, momentum: options.momentum ?? 0, weightDecay: options.weightDecay ?? 0, nesterov: options.nesterov ?? false };
}

/** Adam; `weightDecay` is added to the gradient (L2), as torch.optim.Adam does. */
export function adam(options: { lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number } = {}): OptimizerSpec {
  return { type: "adam", lr: options.lr ?? 1e-3, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, eps: options.eps ?? 1e-8, weightDecay: options.weightDecay ?? 0, decoupled: false };
}

/** AdamW: weight decay applied to the weights directly (decoupled), as torch.optim.AdamW does. */
export function adamw(options: { lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number } = {}): OptimizerSpec {
  const a = adam(options) as Extract<OptimizerSpec, { type: "adam" }>;
  return { ...a, weightDecay: options.weightDecay ?? 0.01, decoupled: true };
}
