/**
 * The dashboard in Chromium, fed two ways:
 *
 *   - from Node: a 2-worker LocalCluster (worker_threads) with startDashboard() serving the
 *     built page and the feed (Server-Sent Events). Chromium opens the dashboard's URL, then
 *     Node runs the demo workload (web/dashboard/workload.ts: ~3,200 tasks under several
 *     prefixes, an array mean, one task that fails on purpose) while the page watches;
 *   - in the page: web-dist/dashboard/index.html?demo starts its own 2-worker LocalCluster on
 *     Web Workers, subscribes with client.onMetrics, and runs the same workload.
 *
 * Either way the page must end with: task rectangles on the canvas (and colored pixels), every
 * prefix's progress bar at 100%, non-zero memory bars, the failing task in the errors list with
 * its message and stack, and no console error. Screenshots are left in
 * test-results/e2e-dashboard.png (Node feed) and test-results/e2e-dashboard-demo.png (in-page).
 *
 * Needs `npm run build` (wasm, tsc, vite build) first; `npm test` does that.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { LocalCluster, startDashboard, type Client, type DashboardServer } from "../../dist/index.js";
import { FAILURE_MESSAGE, runWorkload, type WorkloadResult } from "../../web/dashboard/workload.js";
import { launchChromium, type BrowserSession } from "./browser.js";
import { serveStatic, type StaticServer } from "./server.js";
import { assertBuilt, ROOT } from "./built.js";

const WEB_DIST = join(ROOT, "web-dist");
const PAGE = join(WEB_DIST, "dashboard", "index.html");
const RESULTS = join(ROOT, "test-results");
const TIMEOUT_MS = 45_000;

interface PageView {
  drawn: number;
  erred: number;
  rows: number;
  /** Pixels of the canvas that are neither background nor row stripes. */
  inked: number;
  prefixes: { prefix: string; done: number; total: number; erred: number; percent: number }[];
  workers: { worker: string; managed: number; unmanaged: number; limit: number }[];
  errors: { key: string; text: string; stack: string }[];
  summary: Record<string, string>;
  connection: string;
  /** The most memory the chart saw held by the workers together (bytes). */
  peakMemory: number;
}

/** What the page shows, read from its data- attributes and its canvas. */
function readPage(page: Page): Promise<PageView> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>("#stream canvas")!;
    const ctx = canvas.getContext("2d")!;
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      const [r, g, b, a] = [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!, pixels[i + 3]!];
      if (a > 0 && !(r > 240 && g > 240 && b > 240) && Math.max(r, g, b) - Math.min(r, g, b) > 40) inked++;
    }
    const num = (e: Element, k: string) => Number((e as HTMLElement).dataset[k]);
    return {
      drawn: Number(canvas.dataset.drawn ?? 0),
      erred: Number(canvas.dataset.erred ?? 0),
      rows: Number(canvas.dataset.rows ?? 0),
      inked,
      prefixes: [...document.querySelectorAll(".progress-row")].map((e) => ({
        prefix: (e as HTMLElement).dataset.prefix!,
        done: num(e, "done"),
        total: num(e, "total"),
        erred: num(e, "erred"),
        percent: num(e, "percent"),
      })),
      workers: [...document.querySelectorAll("#workers tbody tr")].map((e) => ({
        worker: (e as HTMLElement).dataset.worker!,
        managed: num(e, "managed"),
        unmanaged: num(e, "unmanaged"),
        limit: num(e, "limit"),
      })),
      errors: [...document.querySelectorAll("#errors tbody tr")].map((e) => ({
        key: (e as HTMLElement).dataset.key!,
        text: e.textContent ?? "",
        stack: e.querySelector("pre")?.textContent ?? "",
      })),
      summary: { ...document.getElementById("summary")!.dataset } as Record<string, string>,
      connection: document.getElementById("connection")!.dataset.state ?? "",
      peakMemory: Math.max(0, ...(window.__tesseraDashboard?.state.series.memory ?? [])),
    };
  });
}

/** Wait until every progress bar is full, the failure is listed, and each worker shows the persisted data. */
async function waitSettled(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll<HTMLElement>(".progress-row")];
      const full = rows.length >= 5 && rows.every((r) => r.dataset.percent === "100");
      const workers = [...document.querySelectorAll<HTMLElement>("#workers tbody tr")];
      // Each worker reports its own metrics, so wait for the whole persisted 8 MB, not just some of it.
      const managed = workers.map((w) => Number(w.dataset.managed));
      const holding = workers.length === 2 && managed.every((m) => m > 0) && managed.reduce((s, m) => s + m, 0) >= 8e6;
      const drawn = Number(document.querySelector<HTMLElement>("#stream canvas")!.dataset.drawn) > 0;
      return full && holding && drawn && document.querySelectorAll("#errors tbody tr").length > 0;
    },
    null,
    { timeout: TIMEOUT_MS, polling: 100 },
  );
}

function checkView(v: PageView, tasks: number, measured: boolean): void {
  // Task rectangles: most tasks drawn (the feed samples only when thousands finish per tick),
  // the failure among them, and real ink.
  expect(v.rows).toBe(2);
  expect(v.drawn).toBeGreaterThanOrEqual(tasks / 2);
  expect(v.erred).toBe(1);
  expect(v.inked).toBeGreaterThan(5000);
  // Progress: each prefix at 100%; the failing one counted as failed.
  const byPrefix = new Map(v.prefixes.map((p) => [p.prefix, p]));
  for (const name of ["load", "transform", "combine"]) {
    const p = byPrefix.get(name);
    expect(p, `no progress bar for ${name}: ${[...byPrefix.keys()].join(", ")}`).toBeDefined();
    expect(p!.total).toBeGreaterThan(0);
    expect(p!.done).toBe(p!.total);
    expect(p!.percent).toBe(100);
  }
  expect(byPrefix.get("explode")).toMatchObject({ total: 1, done: 0, erred: 1, percent: 100 });
  expect(v.prefixes.every((p) => p.percent === 100)).toBe(true);
  // Memory bars: two workers under a known limit, each holding part of the persisted 8 MB
  // array; Node also measures each worker's whole memory (unmanaged), a browser cannot.
  expect(v.workers).toHaveLength(2);
  for (const w of v.workers) {
    expect(w.limit).toBe(256e6);
    expect(w.managed).toBeGreaterThan(0);
    if (measured) expect(w.unmanaged).toBeGreaterThan(0);
  }
  expect(v.workers.reduce((s, w) => s + w.managed, 0)).toBeGreaterThanOrEqual(8e6);
  expect(v.peakMemory).toBeGreaterThan(0);
  // The failure, with its message and the worker's stack.
  expect(v.errors).toHaveLength(1);
  expect(v.errors[0]!.key).toMatch(/^explode-/);
  expect(v.errors[0]!.text).toContain(`RangeError: ${FAILURE_MESSAGE}`);
  expect(v.errors[0]!.stack).toContain(FAILURE_MESSAGE);
  expect(v.errors[0]!.stack).toMatch(/\n\s+at /);
  expect(Number(v.summary.erred)).toBe(1);
}

describe("the dashboard page fed by a Node dashboard server", () => {
  let client: Client | undefined;
  let dashboard: DashboardServer | undefined;
  let browser: BrowserSession | undefined;
  let result: (WorkloadResult & { persisted: unknown }) | undefined;
  let view: PageView | undefined;

  beforeAll(async () => {
    assertBuilt(PAGE, join(ROOT, "web", "dashboard"));
    client = await LocalCluster.start({ workers: 2, memoryLimit: "256MB" });
    dashboard = await startDashboard(client);
    browser = await launchChromium();
    const { page } = browser;
    try {
      await page.goto(dashboard.url);
      await page.waitForFunction(() => document.getElementById("connection")?.dataset.state === "live", null, { timeout: TIMEOUT_MS });
      // The page watches while Node computes.
      result = await runWorkload(client);
      await waitSettled(page);
      view = await readPage(page);
    } finally {
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, "e2e-dashboard.png"), fullPage: true }).catch(() => {});
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await client?.close();
  });

  it("serves the page at client.dashboardLink and streams the feed while the workload runs", () => {
    expect(client!.dashboardLink).toBe(dashboard!.url);
    expect(dashboard!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(result!.tasks).toBeGreaterThan(3000);
    expect(result!.failure).toContain(FAILURE_MESSAGE);
    expect(view!.connection).toBe("live");
    expect(Number(view!.summary.messages)).toBeGreaterThan(1);
  });

  it("shows task rectangles, full progress bars, memory bars and the failed task", () => {
    checkView(view!, result!.tasks, true);
  });

  it("logs no error in the page", () => {
    expect(browser!.errors).toEqual([]);
  });

  it("answers /feed.json with a snapshot, and stops with the client", async () => {
    const res = await fetch(`${dashboard!.url}feed.json`);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const snap = (await res.json()) as { kind: string; progress: { name: string }[]; errors: { key: string }[]; ops: string[] };
    expect(snap.kind).toBe("snapshot");
    expect(snap.progress.map((p) => p.name)).toEqual(expect.arrayContaining(["load", "transform", "combine", "explode"]));
    expect(snap.errors.map((e) => e.key)).toEqual([expect.stringMatching(/^explode-/)]);
    expect(snap.ops).toEqual(expect.arrayContaining(["load()", "transform()", "combine()", "explode()"]));
    expect((await fetch(`${dashboard!.url}nope.txt`)).status).toBe(404);
    await client!.close();
    expect(client!.dashboardLink).toBeUndefined();
    await expect(fetch(`${dashboard!.url}feed.json`)).rejects.toThrow();
  });
});

describe("the dashboard page fed in the page (client.onMetrics on Web Workers)", () => {
  let server: StaticServer | undefined;
  let browser: BrowserSession | undefined;
  let demo: WorkloadResult | { error: string } | undefined;
  let view: PageView | undefined;

  beforeAll(async () => {
    assertBuilt(PAGE, join(ROOT, "web", "dashboard"));
    server = await serveStatic(WEB_DIST);
    browser = await launchChromium();
    const { page } = browser;
    try {
      await page.goto(`${server.url}dashboard/index.html?demo`);
      await page.waitForFunction(() => window.__tesseraDashboard?.demo !== undefined, null, { timeout: TIMEOUT_MS });
      demo = await page.evaluate(() => window.__tesseraDashboard!.demo);
      await waitSettled(page);
      view = await readPage(page);
    } finally {
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, "e2e-dashboard-demo.png"), fullPage: true }).catch(() => {});
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("runs the workload on 2 Web Workers and shows it as the Node-fed page does", () => {
    expect(demo).toBeDefined();
    expect(demo).not.toHaveProperty("error");
    const r = demo as WorkloadResult;
    expect(r.failure).toContain(FAILURE_MESSAGE);
    expect(view!.connection).toBe("live");
    checkView(view!, r.tasks, false);
  });

  it("logs no error in the page or its workers", () => {
    expect(browser!.errors).toEqual([]);
  });
});
