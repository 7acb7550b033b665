/**
 * performanceReport() in Chromium: record the dashboard workload (web/dashboard/workload.ts) on
 * a 2-worker LocalCluster into one HTML file, open it from file:// (no server), and check it
 * shows the computation: task rectangles, every progress bar at 100%, the failing task, the
 * task graph; that it loads nothing from anywhere; and logs no error. Screenshots:
 * test-results/e2e-report.png and e2e-report-graph.png.
 *
 * Needs `npm run build` first (the report inlines web-dist/dashboard-report/).
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, performanceReport, type Client } from "../../dist/index.js";
import { FAILURE_MESSAGE, runWorkload, type WorkloadResult } from "../../web/dashboard/workload.js";
import { launchChromium, type BrowserSession } from "./browser.js";
import { assertBuilt, ROOT } from "./built.js";

const RESULTS = join(ROOT, "test-results");
const TIMEOUT_MS = 45_000;

interface ReportView {
  title: string;
  drawn: number;
  erred: number;
  rows: number;
  messages: number;
  prefixes: { prefix: string; percent: number }[];
  errors: string[];
  connection: string;
}

describe("performanceReport", () => {
  let client: Client | undefined;
  let browser: BrowserSession | undefined;
  let dir: string | undefined;
  let file = "";
  let html = "";
  let result: WorkloadResult | undefined;
  let view: ReportView | undefined;
  let graph: { nodes: number; edges: number; caption: string } | undefined;
  const fetched: string[] = [];

  beforeAll(async () => {
    assertBuilt(join(ROOT, "web-dist", "dashboard-report", "report.js"), join(ROOT, "web", "dashboard"));
    dir = mkdtempSync(join(tmpdir(), "tessera-report-"));
    file = join(dir, "report.html");
    client = await LocalCluster.start({ workers: 2, memoryLimit: "256MB", dashboard: false });
    const { persisted, ...rest } = await performanceReport(client, () => runWorkload(client!, { loads: 400 }), { filename: file, title: "dashboard workload" });
    void persisted;
    result = rest;
    html = readFileSync(file, "utf8");
    browser = await launchChromium();
    const { page } = browser;
    page.on("request", (r) => {
      if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) fetched.push(r.url());
    });
    try {
      await page.goto(pathToFileURL(file).href);
      await page.waitForFunction(() => Number(document.querySelector<HTMLElement>("#stream canvas")?.dataset.drawn ?? 0) > 0, null, { timeout: TIMEOUT_MS });
      view = await page.evaluate(() => {
        const canvas = document.querySelector<HTMLElement>("#stream canvas")!;
        return {
          title: document.title,
          drawn: Number(canvas.dataset.drawn),
          erred: Number(canvas.dataset.erred),
          rows: Number(canvas.dataset.rows),
          messages: window.__tesseraReport?.data.messages.length ?? 0,
          prefixes: [...document.querySelectorAll<HTMLElement>(".progress-row")].map((e) => ({ prefix: e.dataset.prefix!, percent: Number(e.dataset.percent) })),
          errors: [...document.querySelectorAll("#errors tbody tr")].map((e) => e.textContent ?? ""),
          connection: document.getElementById("connection")!.textContent ?? "",
        };
      });
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, "e2e-report.png"), fullPage: true });
      await page.evaluate(() => (location.hash = "#graph"));
      await page.waitForFunction(() => Number(document.querySelector<HTMLElement>("#graph canvas")!.dataset.nodes ?? 0) > 0, null, { timeout: TIMEOUT_MS });
      graph = await page.evaluate(() => {
        const c = document.querySelector<HTMLElement>("#graph canvas")!;
        return { nodes: Number(c.dataset.nodes), edges: Number(c.dataset.edges), caption: document.querySelector("#graph .caption")!.textContent ?? "" };
      });
      await page.screenshot({ path: join(RESULTS, "e2e-report-graph.png"), fullPage: true });
    } catch (err) {
      await page.screenshot({ path: join(RESULTS, "e2e-report.png"), fullPage: true }).catch(() => {});
      throw err;
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("writes one HTML file with the page's script, styles and the recording inlined", () => {
    expect(result!.failure).toContain(FAILURE_MESSAGE);
    expect(html).toContain('<script id="tessera-report" type="application/json">');
    expect(html).not.toMatch(/<script[^>]*\bsrc=/);
    expect(html).not.toMatch(/<link[^>]*rel="(stylesheet|modulepreload)"/);
    expect(html).not.toContain("../assets/");
  });

  it("opens from file:// with nothing fetched, and shows the whole computation", () => {
    expect(fetched).toEqual([]);
    expect(view!.title).toBe("tessera — dashboard workload");
    expect(view!.connection).toMatch(/^report · /);
    expect(view!.messages).toBeGreaterThan(1);
    expect(view!.rows).toBe(2);
    // 2 x 400 loads and transforms, ~60 combines, the array's tasks: most drawn (the feed samples only when thousands finish per tick).
    expect(view!.drawn).toBeGreaterThan(result!.tasks / 2);
    expect(view!.erred).toBe(1);
    const names = view!.prefixes.map((p) => p.prefix);
    expect(names).toEqual(expect.arrayContaining(["load", "transform", "combine", "explode"]));
    expect(view!.prefixes.every((p) => p.percent === 100)).toBe(true);
    expect(view!.errors).toHaveLength(1);
    expect(view!.errors[0]).toContain(FAILURE_MESSAGE);
  });

  it("keeps the task graph at its largest", () => {
    // At least the load/transform/combine graph (the array's tasks too, when caught together).
    expect(graph!.nodes).toBeGreaterThanOrEqual(result!.tasks);
    expect(graph!.edges).toBeGreaterThan(0);
  });

  it("logs no error", () => {
    expect(browser!.errors).toEqual([]);
  });

  it("still writes the report when the work fails, and passes the failure on", async () => {
    const failing = join(dir!, "failing.html");
    const boom = async () => {
      throw new RangeError("the work failed");
    };
    await expect(performanceReport(client!, boom, { filename: failing })).rejects.toThrow("the work failed");
    expect(existsSync(failing)).toBe(true);
    await expect(performanceReport(client!, 42 as never, { filename: failing })).rejects.toThrow("performanceReport: work must be a function or a promise, got number");
  });
});
