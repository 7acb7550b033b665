/**
 * tessera's nn: small f32 networks whose forward and backward run on the wasm matmul, trained
 * data-parallel across a LocalCluster's workers, fed from arrays and dataframes.
 *
 *   spec.ts        layers, losses and optimizers as plain data (they travel to workers)
 *   network.ts     a network in one thread's wasm memory: forward, loss, backward
 *   optim.ts       SGD (momentum, Nesterov), Adam, AdamW
 *   checkpoint.ts  one binary file: JSON header + raw f32
 *   model.ts       Model: evaluate, predict, save / load
 *   batches.ts     toBatches, shardedBatches: mini-batches assembled on the workers, prefetched
 *   shards.ts      which partitions each shard of a pipeline reads (per worker, where they lie)
 *   allreduce.ts   the shared-memory gradient all-reduce (and checkpoint hand-off)
 *   tfjs.ts        toTfBatches: batches as TF.js { xs, ys } tensors
 *   onnx.ts        toOnnxFeeds: batches as ONNX Runtime feeds (views, no copy)
 *   store.ts       checkpoint directories (Node fs, browser OPFS), written atomically
 *   train.ts       fitDataParallel: checkpoints, resume, restart after a lost worker
 *   ops.ts         the worker ops (nn.*)
 */

import "./ops.js";

export { dense, relu, gelu, tanh, sigmoid, dropout, layerNorm, embedding, sequential, sgd, adam, adamw, widths } from "./spec.js";
export { constantLr, stepLr, cosineLr, warmupLr, learningRate } from "./spec.js";
export type { LayerSpec, SequentialSpec, LossName, OptimizerSpec, Activation, ScheduleSpec } from "./spec.js";
export { Model, createModel, type Evaluation } from "./model.js";
export { parameterCount, initialParameters } from "./network.js";
export { Optimizer } from "./optim.js";
export { encodeCheckpoint, decodeCheckpoint, type Checkpoint, type TrainState } from "./checkpoint.js";
export { toBatches, shardedBatches, type Batch, type BatchOptions, type BatchShard, type ShardedBatchOptions } from "./batches.js";
export type { ShardSpec } from "./shards.js";
export { toTfBatches, type TfLike, type TfBatchOptions } from "./tfjs.js";
export { toOnnxFeeds, onnxFeeds, type OrtLike, type OnnxFeedOptions } from "./onnx.js";
export { fitDataParallel, type FitOptions, type FitResult, type StepEvent, type EpochEvent, type CheckpointEvent } from "./train.js";

import { Model } from "./model.js";
/** A model from checkpoint bytes (see Model.save). */
export const load = (bytes: Uint8Array): Model => Model.load(bytes);
