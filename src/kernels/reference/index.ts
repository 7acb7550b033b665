/** Plain-JS implementations of every kernel: the tests' oracle, and a fallback without wasm. */

export { evalExpr, scalarOp, type RefArray } from "./elementwise.js";
export { reduceRef, reduceAxisRef, cumsumRef, histogramRef, bincountRef } from "./reduce.js";
export { matmulRef } from "./matmul.js";
export { philoxRef, uniformRef, normalRef, integersRef } from "./random.js";
