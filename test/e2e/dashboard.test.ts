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
 * its message and stack, and no console error. The Node-fed page also shows inputs fetched
 * between the workers in the task stream, each worker's CPU, the workers table and the task
 * graph (drawn while the workload runs; "too large" above the limit asked for); a third cluster
 * with a small memory limit shows spills. Screenshots are left in test-results/:
 * e2e-dashboard.png (Node feed), -workers.png, -graph.png, -too-large.png, -spill.png, and
 * e2e-dashboard-demo.png (in-page).
 *
 * Needs `npm run build` (wasm, tsc, vite build) first; `npm test` does that.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { LocalCluster, array, delayed, op, startDashboard, type Client, type DashboardServer } from "../../dist/index.js";
import { DEMO_SERIES, DEMO_SERIES_POINTS, FAILURE_MESSAGE, runWorkload, type WorkloadResult } from "../../web/dashboard/workload.js";
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
  transfers: number;
  spills: number;
  rows: number;
  /** Pixels of the canvas that are neither background nor row stripes. */
  inked: number;
  prefixes: { prefix: string; done: number; total: number; erred: number; percent: number }[];
  workers: { worker: string; managed: number; unmanaged: number; limit: number; cpu: string }[];
  errors: { key: string; text: string; stack: string }[];
  summary: Record<string, string>;
  connection: string;
  /** The most memory the chart saw held by the workers together (bytes). */
  peakMemory: number;
  /** The logged-series charts: name, points drawn, last value. */
  metrics: { name: string; points: number; last: number }[];
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
      transfers: Number(canvas.dataset.transfers ?? 0),
      spills: Number(canvas.dataset.spills ?? 0),
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
        cpu: (e as HTMLElement).dataset.cpu ?? "",
      })),
      errors: [...document.querySelectorAll("#errors tbody tr")].map((e) => ({
        key: (e as HTMLElement).dataset.key!,
        text: e.textContent ?? "",
        stack: e.querySelector("pre")?.textContent ?? "",
      })),
      summary: { ...document.getElementById("summary")!.dataset } as Record<string, string>,
      connection: document.getElementById("connection")!.dataset.state ?? "",
      peakMemory: Math.max(0, ...(window.__tesseraDashboard?.state.series.memory ?? [])),
      metrics: [...document.querySelectorAll<HTMLElement>("#metrics .metric")].map((e) => ({ name: e.dataset.name!, points: Number(e.dataset.points), last: Number(e.dataset.last) })),
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
      if (!document.querySelector<HTMLElement>("#metrics .metric")?.dataset.points) return false;
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

interface TableRow {
  worker: string;
  nthreads: number;
  limit: number;
  managed: number;
  cpu: string;
  executed: number;
  paused: string;
  spilled: number;
  cells: number;
}

/** The workers page's rows, once it shows `n` of them. */
async function readTable(page: Page, n: number): Promise<TableRow[]> {
  await page.waitForFunction((n) => document.querySelectorAll("#worker-table tbody tr").length === n, n, { timeout: TIMEOUT_MS });
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLTableRowElement>("#worker-table tbody tr")].map((e) => ({
      worker: e.dataset.worker!,
      nthreads: Number(e.dataset.nthreads),
      limit: Number(e.dataset.limit),
      managed: Number(e.dataset.managed),
      cpu: e.dataset.cpu ?? "",
      executed: Number(e.dataset.executed),
      paused: e.dataset.paused ?? "",
      spilled: Number(e.dataset.spilled),
      cells: e.cells.length,
    })),
  );
}

describe("the dashboard page fed by a Node dashboard server", () => {
  let client: Client | undefined;
  let dashboard: DashboardServer | undefined;
  let browser: BrowserSession | undefined;
  let graphPage: Page | undefined;
  let result: (WorkloadResult & { persisted: unknown }) | undefined;
  let view: PageView | undefined;
  let table: TableRow[] | undefined;
  let errorsPage: { errors: boolean; stream: boolean; table: boolean; rows: number } | undefined;
  let graph: { peak: number; nodes: number; edges: number; states: Record<string, number>; caption: string } | undefined;

  beforeAll(async () => {
    assertBuilt(PAGE, join(ROOT, "web", "dashboard"));
    client = await LocalCluster.start({ workers: 2, memoryLimit: "256MB" });
    dashboard = await startDashboard(client);
    browser = await launchChromium();
    const { page } = browser;
    // A second tab on the graph page, recording the most tasks it drew while the workload ran.
    graphPage = await browser.context.newPage();
    graphPage.on("console", (m) => m.type() === "error" && browser!.errors.push(`graph page: ${m.text()}`));
    graphPage.on("pageerror", (e) => browser!.errors.push(`graph page: ${e.message}`));
    try {
      await page.goto(dashboard.url);
      await graphPage.goto(`${dashboard.url}#graph`);
      await graphPage.evaluate(() => {
        const w = window as unknown as { peakNodes: number };
        w.peakNodes = 0;
        setInterval(() => (w.peakNodes = Math.max(w.peakNodes, Number(document.querySelector<HTMLElement>("#graph canvas")!.dataset.nodes ?? 0))), 50);
      });
      await page.waitForFunction(() => document.getElementById("connection")?.dataset.state === "live", null, { timeout: TIMEOUT_MS });
      // The page watches while Node computes; the graph tab is pictured mid-run if it catches it.
      const midRun = graphPage
        .waitForFunction(() => Number(document.querySelector<HTMLElement>("#graph canvas")!.dataset.nodes) > 1000, null, { timeout: TIMEOUT_MS, polling: 50 })
        .then(() => graphPage!.screenshot({ path: join(RESULTS, "e2e-dashboard-graph-running.png") }))
        .catch(() => {});
      // Beside the workload, 1,500 tasks held ~2.5 s behind one slow task: the graph page, which
      // refreshes each second, sees over 1,000 tasks however fast the machine runs the rest.
      const slow = delayed(
        async (ms: number) => {
          await new Promise((r) => setTimeout(r, ms));
          return 1;
        },
        { name: "hold" },
      )(2500);
      const held = delayed((x: number, j: number) => x + j, { name: "held" });
      const holding = client.compute(delayed(op("tessera.sum"), { name: "held-sum" })(Array.from({ length: 1500 }, (_, i) => held(slow, i))));
      result = await runWorkload(client);
      await holding;
      await midRun;
      await waitSettled(page);
      // CPU comes from two metrics polls of each worker.
      await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>("#workers tbody tr")].every((r) => r.dataset.cpu !== ""), null, { timeout: TIMEOUT_MS });
      view = await readPage(page);
      await page.goto(`${dashboard.url}#workers`);
      table = await readTable(page, 2);
      await page.screenshot({ path: join(RESULTS, "e2e-dashboard-workers.png"), fullPage: true });
      await page.goto(`${dashboard.url}#errors`);
      errorsPage = await page.evaluate(() => {
        const shown = (sel: string) => document.querySelector<HTMLElement>(sel)!.offsetParent !== null;
        return { errors: shown("#errors"), stream: shown("#stream"), table: shown("#worker-table"), rows: document.querySelectorAll("#errors tbody tr").length };
      });
      await page.screenshot({ path: join(RESULTS, "e2e-dashboard-errors.png"), fullPage: true });
      await graphPage.waitForFunction(() => Number(document.querySelector<HTMLElement>("#graph canvas")!.dataset.nodes) > 0, null, { timeout: TIMEOUT_MS });
      graph = await graphPage.evaluate(() => {
        const c = document.querySelector<HTMLElement>("#graph canvas")!;
        return {
          peak: (window as unknown as { peakNodes: number }).peakNodes,
          nodes: Number(c.dataset.nodes),
          edges: Number(c.dataset.edges),
          states: JSON.parse(c.dataset.states ?? "{}") as Record<string, number>,
          caption: document.querySelector("#graph .caption")!.textContent ?? "",
        };
      });
      await graphPage.screenshot({ path: join(RESULTS, "e2e-dashboard-graph.png"), fullPage: true });
    } finally {
      mkdirSync(RESULTS, { recursive: true });
      await page.goto(`${dashboard.url}#status`).catch(() => {});
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

  it("charts the series the workload logged (client.logMetric)", () => {
    expect(view!.metrics).toEqual([{ name: DEMO_SERIES, points: DEMO_SERIES_POINTS, last: 1 / DEMO_SERIES_POINTS }]);
  });

  it("shows inputs fetched between the workers, and each worker's CPU", () => {
    // The combine tasks read transforms from both workers: some inputs cross over.
    expect(view!.transfers).toBeGreaterThan(0);
    for (const w of view!.workers) {
      expect(Number(w.cpu)).toBeGreaterThanOrEqual(0);
      expect(Number(w.cpu)).toBeLessThanOrEqual(1);
    }
  });

  it("shows only the failed tasks on the errors page", () => {
    expect(errorsPage).toEqual({ errors: true, stream: false, table: false, rows: 1 });
  });

  it("lists the workers on the workers page", () => {
    expect(table!.map((r) => r.worker).sort()).toEqual([...client!.workers].sort());
    for (const r of table!) {
      expect(r.cells).toBe(11);
      expect(r.nthreads).toBe(1);
      expect(r.limit).toBe(256e6);
      expect(r.managed).toBeGreaterThan(0);
      expect(r.cpu).not.toBe("");
      expect(r.executed).toBeGreaterThan(0);
      expect(r.paused).toBe("false");
    }
    // From the last metrics poll, which may be a moment behind the last tasks.
    expect(table!.reduce((s, r) => s + r.executed, 0)).toBeGreaterThan(result!.tasks / 2);
  });

  it("draws the task graph while the workload runs, and the tasks held after it", async () => {
    // Thousands of tasks at the peak (the loads, transforms, combines and the array's chunks).
    expect(graph!.peak).toBeGreaterThan(1000);
    // After it: the persisted array's 64 chunks, in memory.
    expect(graph!.nodes).toBeGreaterThanOrEqual(64);
    expect(graph!.states.memory).toBeGreaterThanOrEqual(64);
    expect(graph!.caption).toMatch(/tasks/);
    // Above the limit asked for: the count, no drawing.
    const small = (await (await fetch(`${dashboard!.url}graph.json?limit=10`)).json()) as { tooLarge: boolean; total: number; key: string[] };
    expect(small.tooLarge).toBe(true);
    expect(small.total).toBeGreaterThanOrEqual(64);
    expect(small.key).toEqual([]);
    await graphPage!.goto(`${dashboard!.url}?graph=${encodeURIComponent("/graph.json?limit=10")}#graph`);
    await graphPage!.waitForFunction(() => document.querySelector("#graph .caption.too-large") !== null, null, { timeout: TIMEOUT_MS });
    const caption = await graphPage!.locator("#graph .caption").textContent();
    expect(caption).toContain(`holds ${small.total} tasks: too large to draw`);
    await graphPage!.screenshot({ path: join(RESULTS, "e2e-dashboard-too-large.png") });
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

describe("the dashboard showing spills (a cluster with a small memory limit)", () => {
  let client: Client | undefined;
  let browser: BrowserSession | undefined;
  let spills = 0;
  let table: TableRow[] | undefined;

  beforeAll(async () => {
    assertBuilt(PAGE, join(ROOT, "web", "dashboard"));
    // Past 50% of 24 MB of results a worker spills; spilling at, pausing at or terminating at
    // measured memory are off, so only the results count.
    client = await LocalCluster.start({ workers: 2, memoryLimit: "24MB", memory: { target: 0.5, spill: false, pause: false, terminate: false } });
    const dashboard = await startDashboard(client);
    browser = await launchChromium();
    const { page } = browser;
    try {
      await page.goto(dashboard.url);
      await page.waitForFunction(() => document.getElementById("connection")?.dataset.state === "live", null, { timeout: TIMEOUT_MS });
      // 32 MB of chunks held on two workers (~16 MB each, over their 12 MB target), then read back for a sum.
      const x = client.persist(array.random.uniform([2000, 2000], { chunks: [250, 250], seed: 3 }));
      await client.compute(x.sum());
      await page.waitForFunction(() => Number(document.querySelector<HTMLElement>("#stream canvas")!.dataset.spills) > 0, null, { timeout: TIMEOUT_MS });
      spills = await page.evaluate(() => Number(document.querySelector<HTMLElement>("#stream canvas")!.dataset.spills));
      await page.screenshot({ path: join(RESULTS, "e2e-dashboard-spill.png"), fullPage: true });
      await page.goto(`${dashboard.url}#workers`);
      table = await readTable(page, 2);
    } finally {
      mkdirSync(RESULTS, { recursive: true });
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await client?.close();
  });

  it("draws spills in the task stream and lists spilled bytes on the workers page", () => {
    expect(spills).toBeGreaterThan(0);
    expect(table!.some((r) => r.spilled > 0)).toBe(true);
    expect(browser!.errors).toEqual([]);
  });
});

describe("the dashboard page fed in the page (client.onMetrics on Web Workers)", () => {
  let server: StaticServer | undefined;
  let browser: BrowserSession | undefined;
  let demo: WorkloadResult | { error: string } | undefined;
  let view: PageView | undefined;
  let graphNodes = 0;

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
      // The graph page, fed by client.taskGraph() in the tab: the persisted array's chunks.
      await page.evaluate(() => (location.hash = "#graph"));
      await page.waitForFunction(() => Number(document.querySelector<HTMLElement>("#graph canvas")!.dataset.nodes) > 0, null, { timeout: TIMEOUT_MS });
      graphNodes = await page.evaluate(() => Number(document.querySelector<HTMLElement>("#graph canvas")!.dataset.nodes));
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
    expect(view!.transfers).toBeGreaterThan(0);
    expect(graphNodes).toBeGreaterThanOrEqual(64);
  });

  it("logs no error in the page or its workers", () => {
    expect(browser!.errors).toEqual([]);
  });
});
