/**
 * tessera — Dask for the web. Node entry: LocalCluster runs on worker_threads.
 * See README.md for a tour; src/api.ts lists what is shared with the browser entry.
 */
export * from "./api.js";
export { LocalCluster } from "./cluster/node.js";
export { startDashboard, servePages, type DashboardOptions, type DashboardServer } from "./dashboard/server.js";
export { performanceReport, type PerformanceReportOptions } from "./dashboard/report.js";
export * as kernels from "./kernels/node-index.js";

// The inline executor runs array ops on this thread: read kernels from disk, as workers do.
import { configureKernels } from "./kernels/instance.js";
import { readWasm } from "./kernels/node.js";
import "./array/ops.js";
import "./dataframe/ops.js";
configureKernels({ source: () => readWasm() });
