/**
 * The browser tier: the built e2e page (web-dist/e2e/index.html, from web/e2e/) starts a
 * 2-worker LocalCluster on Web Workers in a real headless Chromium and runs its checks; the
 * page publishes them on `window.__tesseraE2E`, and this test asserts each one, that the page
 * was cross-origin isolated, that both workers loaded the bundled worker chunk, and that
 * nothing logged an error. It leaves a screenshot in test-results/e2e-cluster.png.
 *
 * Needs `npm run build` (tsc + vite build) first; `npm test` does that.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckResult, E2EReport } from "../../web/e2e/report.js";
import { launchChromium, type BrowserSession } from "./browser.js";
import { serveStatic, type StaticServer } from "./server.js";
import { assertBuilt } from "./built.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WEB_DIST = join(ROOT, "web-dist");
const PAGE = join(WEB_DIST, "e2e", "index.html");
const SCREENSHOT = join(ROOT, "test-results", "e2e-cluster.png");
const PAGE_TIMEOUT_MS = 45_000;

/** Every check the page must report, in order. */
const CHECKS = [
  "start",
  "diamond",
  "map-gather",
  "fan-in",
  "scatter-sum",
  "task-error",
  "cross-origin-isolated",
  "worker-to-worker",
  "rebalance",
  "close",
  "out-of-core",
];



let server: StaticServer | undefined;
let browser: BrowserSession | undefined;
let report: E2EReport | undefined;
const workerUrls: string[] = [];

beforeAll(async () => {
  assertBuilt(PAGE, join(ROOT, "web"));
  server = await serveStatic(WEB_DIST);
  browser = await launchChromium();
  const { page } = browser;
  page.on("worker", (w) => workerUrls.push(w.url()));
  try {
    await page.goto(`${server.url}e2e/index.html`);
    await page.waitForFunction(() => window.__tesseraE2E?.done === true, null, { timeout: PAGE_TIMEOUT_MS });
    report = await page.evaluate(() => window.__tesseraE2E);
  } finally {
    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => {});
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

function check(name: string): CheckResult {
  expect(report, "the page published no report").toBeDefined();
  const c = report!.checks.find((x) => x.name === name);
  expect(c, `the page ran no check "${name}"`).toBeDefined();
  return c!;
}

describe("LocalCluster on Web Workers in Chromium", () => {
  it("runs every check on the page, without console or page errors", async () => {
    expect(report?.error).toBeUndefined();
    expect(report!.checks.map((c) => c.name)).toEqual(CHECKS);
    const failed = report!.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.result}`);
    expect(failed).toEqual([]);
    expect(browser!.errors).toEqual([]);
    // Every worker (2 for the checks, 2 for the out-of-core cluster) ran the worker chunk Vite
    // emitted (not a missing or unbundled file).
    expect(workerUrls).toHaveLength(4);
    for (const url of workerUrls) expect(url).toMatch(/\/assets\/browser-entry-[\w-]+\.js$/);
    // The table the screenshot shows has one row per check.
    expect(await browser!.page.locator("#checks tbody tr").count()).toBe(CHECKS.length);
  });

  it.each(CHECKS)("check %s passes", (name) => {
    const c = check(name);
    expect(c.ok, `${name}: ${c.result}`).toBe(true);
  });

  it("reports values, not just verdicts", () => {
    expect(check("diamond").result).toBe("[41,39,1599]");
    expect(check("fan-in").result).toMatch(/^400 tasks -> tessera.sum = 159600$/);
    expect(check("scatter-sum").result).toBe("sum of 1000000 x 0.5 = 500000");
    expect(check("task-error").result).toMatch(/^TaskError: .*boom-[0-9a-f]+.*no good: 7/);
    expect(check("cross-origin-isolated").result).toBe("page: true, worker: true");
    expect(check("worker-to-worker").result).toMatch(/moved \d+, copied \d+ \(8\.0 MB\); sum 2000000 on /);
    expect(check("out-of-core").result).toMatch(/^128 MiB on 2 x 16 MiB workers: sum 140737479966720, \d+ values spilled to OPFS$/);
  });
});
