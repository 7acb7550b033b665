/**
 * Checkpoints to OPFS in a real Chromium: the built page web-dist/e2e/nn/index.html (from
 * web/e2e/nn/) trains an MLP data-parallel on a 2-worker LocalCluster of Web Workers, once
 * without interruption and once with checkpoints to the Origin Private File System stopped at
 * step 35, then resumes on a fresh cluster from the newest checkpoint. The resumed run must end
 * with the uninterrupted run's parameters (every replica), optimizer state and history, bit for
 * bit; and the uninterrupted run must match the same run in Node on worker_threads.
 *
 * Needs `npm run build` (wasm, tsc, vite build) first; `npm test` does that.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, nn } from "../../dist/index.js";
import { bits, data, options, spec, type NnPageReport } from "../../web/e2e/nn/training.js";
import { launchChromium, type BrowserSession } from "./browser.js";
import { serveStatic, type StaticServer } from "./server.js";
import { assertBuilt } from "./built.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WEB_DIST = join(ROOT, "web-dist");
const PAGE = join(WEB_DIST, "e2e", "nn", "index.html");
const SCREENSHOT = join(ROOT, "test-results", "e2e-nn-opfs.png");
const PAGE_TIMEOUT_MS = 60_000;

let server: StaticServer | undefined;
let browser: BrowserSession | undefined;
let report: NnPageReport | undefined;
let node: nn.FitResult | undefined;
const workerUrls: string[] = [];

beforeAll(async () => {
  assertBuilt(PAGE, join(ROOT, "web", "e2e", "nn"));
  const client = await LocalCluster.start({ workers: 2 });
  try {
    node = await nn.fitDataParallel(client, spec, data(), options);
  } finally {
    await client.close();
  }
  server = await serveStatic(WEB_DIST);
  browser = await launchChromium();
  const { page } = browser;
  page.on("worker", (w) => workerUrls.push(w.url()));
  try {
    await page.goto(`${server.url}e2e/nn/index.html`);
    await page.waitForFunction(() => window.__tesseraNN?.done === true, null, { timeout: PAGE_TIMEOUT_MS });
    report = await page.evaluate(() => window.__tesseraNN);
  } finally {
    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => {});
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("data-parallel training on Web Workers with checkpoints to OPFS", () => {
  it("writes checkpoints atomically into an OPFS directory, without errors", () => {
    expect(report, "the page published no report").toBeDefined();
    expect(report!.error).toBeUndefined();
    expect(report!.crossOriginIsolated).toBe(true);
    expect(browser!.errors).toEqual([]);
    // Two clusters of two Web Workers: the first run, then the resumed one.
    expect(workerUrls).toHaveLength(4);
    // Chromium renames files, so each checkpoint was written to a temporary name and moved.
    expect(report!.move).toBe(true);
    expect(report!.stopped).toBe(35);
    // Every 10 steps and at the end; the oldest beyond keep: 3 removed; no temporary file left.
    expect(report!.written.map((w) => w.step)).toEqual([10, 20, 30, 35]);
    expect(report!.written[3]!.path).toBe(`OPFS ${report!.dir}/step-000000035.tsnn`);
    expect(report!.files).toEqual(["step-000000020.tsnn", "step-000000030.tsnn", "step-000000035.tsnn"]);
  });

  it("resumed on a fresh cluster from the newest checkpoint, ends bit for bit where the uninterrupted run does", () => {
    const { whole, resumed } = report!;
    expect(report!.resumedFrom).toBe(35);
    expect(report!.steps).toBe(3 * 19);
    expect(resumed.params.length).toBe(2);
    for (const p of resumed.params) expect(p).toEqual(whole.params);
    expect(resumed.state).toEqual(whole.state);
    expect(resumed.t).toBe(whole.t);
    expect(resumed.history).toBe(whole.history);
  });

  it("trains the same bits in Chromium as in Node", () => {
    expect(report!.whole.params).toEqual(bits(node!.replicaParams[0]!));
    expect(report!.whole.state).toEqual(node!.optimizerState.map(bits));
  });
});
