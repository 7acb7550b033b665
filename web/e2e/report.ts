/**
 * What the e2e page hands to the test: one entry per check, published on
 * `window.__tesseraE2E` (and drawn as the page's table). Shared by web/e2e/main.ts and
 * test/e2e/cluster.test.ts so both sides agree on the shape.
 */

export interface CheckResult {
  /** Short id, e.g. "diamond"; also the table row's `data-check`. */
  name: string;
  ok: boolean;
  /** What the check saw, as text (the value, or the error's name and message). */
  result: string;
  ms: number;
}

export interface E2EReport {
  /** True once every check has run (or the page gave up). */
  done: boolean;
  /** Every check passed. */
  ok: boolean;
  checks: CheckResult[];
  /** Set when the page failed before or outside the checks (e.g. the cluster did not start). */
  error?: string;
  totalMs: number;
}

declare global {
  interface Window {
    __tesseraE2E?: E2EReport;
  }
}
