/**
 * Browser parity for arrays: the built page web-dist/array/index.html (from web/array/) runs the
 * pipeline of web/array/pipeline.ts on a 2-worker LocalCluster of Web Workers in headless
 * Chromium; this test runs the same module in Node on a 2-worker LocalCluster of worker_threads
 * and requires every output to match bit for bit (dtype, shape, every element's bits). It also
 * checks that the page was cross-origin isolated, that both workers ran the bundled worker chunk
 * and fetched the emitted wasm asset, and that nothing logged an error. It leaves a screenshot in
 * test-results/e2e-array.png.
 *
 * Needs `npm run build` (wasm, tsc, vite build) first; `npm test` does that.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../../dist/index.js";
import { runPipeline, type ArrayPageReport, type PipelineOutput } from "../../web/array/pipeline.js";
import { launchChromium, type BrowserSession } from "./browser.js";
import { serveStatic, type StaticServer } from "./server.js";
import { assertBuilt } from "./built.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WEB_DIST = join(ROOT, "web-dist");
const PAGE = join(WEB_DIST, "array", "index.html");
const SCREENSHOT = join(ROOT, "test-results", "e2e-array.png");
const PAGE_TIMEOUT_MS = 45_000;



let server: StaticServer | undefined;
let browser: BrowserSession | undefined;
let report: ArrayPageReport | undefined;
let node: PipelineOutput[] | undefined;
const workerUrls: string[] = [];
const wasmResponses: { url: string; status: number; type: string | undefined }[] = [];

beforeAll(async () => {
  assertBuilt(PAGE, join(ROOT, "web", "array"));
  // Node first, on worker_threads: the same pipeline module, resolved to dist/ through "tessera".
  const client = await LocalCluster.start({ workers: 2 });
  try {
    node = await runPipeline(client);
  } finally {
    await client.close();
  }
  server = await serveStatic(WEB_DIST);
  browser = await launchChromium();
  const { page } = browser;
  page.on("worker", (w) => workerUrls.push(w.url()));
  // Responses of dedicated workers' fetches reach the context (checked with playwright-core 1.65).
  browser.context.on("response", (r) => {
    if (r.url().endsWith(".wasm")) wasmResponses.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] });
  });
  try {
    await page.goto(`${server.url}array/index.html`);
    await page.waitForFunction(() => window.__tesseraArray?.done === true, null, { timeout: PAGE_TIMEOUT_MS });
    report = await page.evaluate(() => window.__tesseraArray);
  } finally {
    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => {});
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The first difference between two outputs' bits, or undefined. */
function firstDifference(a: PipelineOutput, b: PipelineOutput): string | undefined {
  if (a.dtype !== b.dtype) return `dtype ${a.dtype} vs ${b.dtype}`;
  if (JSON.stringify(a.shape) !== JSON.stringify(b.shape)) return `shape [${a.shape}] vs [${b.shape}]`;
  const i = a.hex.findIndex((h, k) => h !== b.hex[k]);
  return i < 0 ? undefined : `element ${i}: 0x${a.hex[i]} vs 0x${b.hex[i]}`;
}

describe("the array pipeline in Chromium (Web Workers) and in Node (worker_threads)", () => {
  it("runs in the page on 2 cross-origin isolated Web Workers, without errors", async () => {
    expect(report, "the page published no report").toBeDefined();
    expect(report!.error).toBeUndefined();
    expect(report!.crossOriginIsolated).toBe(true);
    expect(report!.workers).toBe(2);
    expect(browser!.errors).toEqual([]);
    // Both workers ran the worker chunk Vite emitted, and fetched the wasm asset it emitted.
    expect(workerUrls).toHaveLength(2);
    for (const url of workerUrls) expect(url).toMatch(/\/assets\/browser-entry-[\w-]+\.js$/);
    expect(wasmResponses.length).toBeGreaterThan(0);
    for (const r of wasmResponses) {
      expect(r.url).toMatch(/\/assets\/tessera-[\w-]+\.wasm$/);
      expect(r.status).toBe(200);
      expect(r.type).toBe("application/wasm");
    }
    // The table the screenshot shows: one row per output.
    expect(await browser!.page.locator("#outputs tbody tr").count()).toBe(node!.length);
  });

  it("gives the same outputs, bit for bit, as Node", () => {
    expect(report!.outputs.map((o) => o.name)).toEqual(node!.map((o) => o.name));
    const diffs = node!.flatMap((o, i) => {
      const d = firstDifference(o, report!.outputs[i]!);
      return d ? [`${o.name}: node vs browser: ${d}`] : [];
    });
    expect(diffs).toEqual([]);
  });

  it("computes real values (not empty or degenerate outputs)", () => {
    const byName = new Map(node!.map((o) => [o.name, o]));
    expect(byName.get("normal")!.shape).toEqual([120, 40]);
    expect(new Set(byName.get("normal")!.hex).size).toBe(120 * 40);
    expect(byName.get("chain.sum()")!.shape).toEqual([]);
    expect(byName.get("chain.sum(axis=0)")!.shape).toEqual([40]);
    expect(byName.get("uniform f32 .sigmoid().sum()")!.dtype).toBe("float32");
    expect(byName.get("integers")!.dtype).toBe("int32");
    expect(byName.get("rechunked.gt(0.7).any(axis=0)")!.dtype).toBe("bool");
  });
});
