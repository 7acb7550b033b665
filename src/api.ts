// The public API shared by the Node and browser entries (each adds its own LocalCluster).
export { Client, type SubmitOptions, type ScatterOptions, type ComputeOptions } from "./client/client.js";
export { Future, type FutureStatus } from "./client/future.js";
export { Delayed, delayed, type DelayedOptions } from "./client/delayed.js";
export { op, OpRef } from "./client/functions.js";
export { COLLECTION, PREPARE, isCollection, type Collection, type CollectionSpec } from "./client/collection.js";
export { currentClient } from "./client/current.js";
export { TaskError, CancelledError, TesseraError, type SerializedError } from "./errors.js";
export { registerOp, type TaskContext, type OpFn } from "./worker/registry.js";
export type { LocalClusterOptions } from "./cluster/local-cluster.js";
export type { StoryEntry, TaskStateName } from "./scheduler/events.js";
export type { WorkerMetrics } from "./worker/control.js";
export type { FeedMessage, FeedTasks, FeedActivity, FeedGraph, FeedPrefix, FeedWorker, FeedError, FeedMemory, ProgressEvent, ComputeProgress } from "./dashboard/protocol.js";
export type { MemoryMetrics, MemoryThresholds } from "./worker/memory-types.js";
export * as graph from "./graph/index.js";
export * as array from "./array/index.js";
export * as dataframe from "./dataframe/index.js";
export * as ml from "./ml/index.js";
export * as nn from "./nn/index.js";
