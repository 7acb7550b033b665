/**
 * The graph layer: node classes, tokens, layered graphs and the passes a client runs before
 * submitting (cull, fuse, order). Nothing here knows about workers, arrays or dataframes.
 */

export * from "./task.js";
export * from "./errors.js";
export * from "./keys.js";
export * from "./tokenize.js";
export * from "./layers.js";
export * from "./optimize.js";
export * from "./order.js";
