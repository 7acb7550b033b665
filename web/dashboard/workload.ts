/**
 * The dashboard's demo workload (src/dashboard/demo.ts) on this page's tessera: the page's
 * `?demo` mode and test/e2e/dashboard.test.ts run it (the test on the Node build, which the
 * "tessera" import resolves to there). See demo.ts for what it computes.
 */

import { array, delayed, type Client } from "tessera";
import { runDemoWorkload, type WorkloadOptions } from "../../src/dashboard/demo.js";

export { DEMO_SERIES, DEMO_SERIES_POINTS, FAILURE_MESSAGE, type WorkloadOptions, type WorkloadResult } from "../../src/dashboard/demo.js";

export function runWorkload(client: Client, options: WorkloadOptions = {}) {
  return runDemoWorkload({ delayed, array }, client, options);
}
