/**
 * Spilling in a real Chromium: a SpillStore on the Origin Private File System inside a
 * dedicated worker (sync access handles exist only there), over the built dist/ modules served
 * as they are (test/e2e/opfs/). Values go to the worker's OPFS file and come back byte for byte;
 * a closing worker removes its file, and a terminated one's file is removed from the page.
 *
 * Needs `npm run build` (tsc) first; `npm test` does that.
 */

import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, type BrowserSession } from "./browser.js";
import { serveStatic, type StaticServer } from "./server.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PAGE_DIR = fileURLToPath(new URL("./opfs/", import.meta.url));

interface WorkerResult {
  ok: boolean;
  error?: string;
  spilledAfterPut: string[];
  maxManaged: number;
  identical: boolean;
  metrics: { spillCount: number; unspillCount: number; spillErrors: number; spillTo?: string; limit: number };
  warnings: string[];
}
interface Report {
  error?: string;
  closing: WorkerResult;
  afterClose: string[];
  crashing: WorkerResult;
  whileAlive: string[];
  afterCrash: string[];
}

let server: StaticServer | undefined;
let browser: BrowserSession | undefined;
let report: Report | undefined;

beforeAll(async () => {
  server = await serveStatic(PAGE_DIR, 0, { mounts: { "dist/": `${ROOT}dist` } });
  browser = await launchChromium();
  await browser.page.goto(`${server.url}index.html`);
  await browser.page.waitForFunction(() => (window as { __opfs?: unknown }).__opfs !== undefined, null, { timeout: 20_000 });
  report = await browser.page.evaluate(() => (window as unknown as { __opfs: Report }).__opfs);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("spilling to OPFS in Chromium", () => {
  it("spills past target and reads values back byte for byte, from inside a worker", () => {
    expect(report?.error).toBeUndefined();
    for (const r of [report!.closing, report!.crashing]) {
      expect(r.error).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(r.spilledAfterPut.length).toBeGreaterThanOrEqual(5); // 16 MiB put, 6 MiB target
      expect(r.maxManaged).toBeLessThanOrEqual(6 * 2 ** 20);
      expect(r.identical).toBe(true);
      expect(r.metrics.spillErrors).toBe(0);
      expect(r.metrics.unspillCount).toBeGreaterThanOrEqual(r.spilledAfterPut.length);
      expect(r.metrics.spillTo).toMatch(/^OPFS tessera-spill\//);
      expect(r.warnings).toEqual([]);
    }
    expect(browser!.errors).toEqual([]);
  });

  it("removes a worker's spill file when it closes, and a terminated worker's from the page", () => {
    expect(report!.afterClose).not.toContain("closing-worker");
    expect(report!.whileAlive).toContain("crashing-worker");
    expect(report!.afterCrash).not.toContain("crashing-worker");
  });
});
