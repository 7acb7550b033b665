/** tessera — browser entry: LocalCluster runs on Web Workers. */
export * from "./api.js";
export { LocalCluster } from "./cluster/browser.js";
export * as kernels from "./kernels/index.js";
import "./array/ops.js";
import "./dataframe/ops.js";
