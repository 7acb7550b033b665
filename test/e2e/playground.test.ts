/**
 * The playground page (web-dist/playground/) in Chromium, served cross-origin isolated: each
 * example runs on the page's 2 Web Workers and shows its result, the dashboard beside the
 * editor draws the tasks, an edited program runs as edited, a broken one shows its error in the
 * page, and nothing is logged as a console error. Screenshots: test-results/e2e-playground-
 * <example>.png.
 *
 * Needs `npm run build` (wasm, tsc, vite build) first; `npm test` does that.
 */

import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { LocalCluster, dataframe as dd } from "../../dist/index.js";
import { launchChromium, type BrowserSession } from "./browser.js";
import { serveStatic, type StaticServer } from "./server.js";
import { assertBuilt, ROOT } from "./built.js";

const WEB_DIST = join(ROOT, "web-dist");
const PAGE = join(WEB_DIST, "playground", "index.html");
const RESULTS = join(ROOT, "test-results");
const TIMEOUT_MS = 60_000;

interface Shown {
  ok: boolean;
  error?: string;
  kind: string;
  values: Record<string, number>;
  table?: { rows: number; columns: string[]; cells: string[][] };
  chart?: { points: number; first: number; last: number };
  log: string;
  drawn: number;
  prefixes: string[];
}

/** Pick an example, run it (or what the editor holds), wait for the run to end, read what the page shows. */
async function run(page: Page, example: string, code?: string): Promise<Shown> {
  const before = await page.evaluate(() => window.__tesseraPlayground!.runs.length);
  await page.selectOption("#example", example);
  if (code !== undefined) await page.fill("#code", code);
  await page.click("#run");
  await page.waitForFunction((n) => window.__tesseraPlayground!.runs.length > n, before, { timeout: TIMEOUT_MS });
  // The panel redraws once per frame after the last feed message.
  await page.waitForTimeout(400);
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, `e2e-playground-${example}${code === undefined ? "" : "-edited"}.png`), fullPage: true });
  return page.evaluate(() => {
    const last = window.__tesseraPlayground!.runs.at(-1)!;
    const result = document.getElementById("result")!;
    const table = result.querySelector<HTMLTableElement>("table.frame");
    const chart = document.getElementById("chart")!;
    return {
      ok: last.ok,
      ...(last.error !== undefined ? { error: last.error } : {}),
      kind: result.dataset.kind ?? "",
      values: Object.fromEntries([...result.querySelectorAll<HTMLElement>("tr[data-key]")].map((r) => [r.dataset.key!, Number(r.dataset.value)])),
      ...(table
        ? {
            table: {
              rows: Number(table.dataset.rows),
              columns: JSON.parse(table.dataset.columns!) as string[],
              cells: [...table.tBodies[0]!.rows].map((r) => [...r.cells].map((c) => c.textContent ?? "")),
            },
          }
        : {}),
      ...(chart.dataset.points ? { chart: { points: Number(chart.dataset.points), first: Number(chart.dataset.first), last: Number(chart.dataset.last) } } : {}),
      log: document.getElementById("log")!.textContent ?? "",
      drawn: Number(document.querySelector<HTMLElement>("#stream canvas")!.dataset.drawn ?? 0),
      prefixes: [...document.querySelectorAll<HTMLElement>(".progress-row")].map((r) => r.dataset.prefix!),
    };
  });
}

describe("the playground", () => {
  let server: StaticServer | undefined;
  let browser: BrowserSession | undefined;
  let page: Page;
  let dir = "";
  let parquetFile = "";

  beforeAll(async () => {
    assertBuilt(PAGE, join(ROOT, "web", "playground"));
    // A Parquet file for the "chosen from disk" run, written by tessera in Node.
    dir = await mkdtemp(join(tmpdir(), "tessera-e2e-playground-"));
    const client = await LocalCluster.start({ workers: 1, dashboard: false });
    try {
      const n = 3000;
      const fruit = Array.from({ length: n }, (_, i) => ["apple", "pear", "plum"][i % 3]!);
      const weight = Float64Array.from({ length: n }, (_, i) => (i % 3) * 100 + 1);
      const written = await dd.fromArrays({ fruit, weight }, { npartitions: 1 }).toParquet(dir);
      parquetFile = written[0] as string;
    } finally {
      await client.close();
    }
    // The same file by URL, from the page's own origin (COEP: cross-origin files would need CORP headers).
    server = await serveStatic(WEB_DIST, 0, { mounts: { "data/": dir } });
    browser = await launchChromium();
    page = browser.page;
    await page.goto(`${server.url}playground/index.html`);
    await page.waitForFunction(() => window.__tesseraPlayground?.ready === true || window.__tesseraPlayground?.error !== undefined, null, { timeout: TIMEOUT_MS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("starts its workers in a cross-origin isolated page", async () => {
    const r = await page.evaluate(() => window.__tesseraPlayground!);
    expect(r.error).toBeUndefined();
    expect(r.crossOriginIsolated).toBe(true);
    expect(await page.locator("#code").inputValue()).toContain("array.random.normal");
  });

  it("runs the array statistics example, with the dashboard drawing its tasks", async () => {
    const s = await run(page, "array");
    expect(s.error).toBeUndefined();
    expect(s.ok).toBe(true);
    expect(s.kind).toBe("object");
    // 16 million samples of N(10, 2): mean and std to about 1e-3, 1 - Phi(1) = 0.1587 above 12.
    expect(s.values.mean).toBeCloseTo(10, 2);
    expect(s.values.std).toBeCloseTo(2, 2);
    expect(s.values.min).toBeLessThan(0);
    expect(s.values.max).toBeGreaterThan(20);
    expect(s.values["share above 12"]).toBeCloseTo(0.1587, 2);
    expect(s.drawn).toBeGreaterThan(0);
    expect(s.prefixes.length).toBeGreaterThan(0);
  }, 90_000);

  it("runs the Parquet example on its sample file: groupby -> table", async () => {
    const s = await run(page, "parquet");
    expect(s.error).toBeUndefined();
    expect(s.kind).toBe("table");
    expect(s.table!.rows).toBe(5);
    expect(s.table!.columns[0]).toBe("city");
    expect(s.table!.cells.map((r) => r[0]).sort()).toEqual(["Hanoi", "Lima", "Lisbon", "Nairobi", "Oslo"]);
    expect(s.log).toContain("20000 rows in 8 partitions; grouping by city");
  }, 90_000);

  it("runs the Parquet example on a file chosen from disk", async () => {
    await page.setInputFiles("#file", parquetFile);
    const s = await run(page, "parquet");
    await page.setInputFiles("#file", []);
    expect(s.error).toBeUndefined();
    expect(s.table!.rows).toBe(3);
    expect(s.table!.columns[0]).toBe("fruit");
    const byFruit = new Map(s.table!.cells.map((r) => [r[0], r.slice(1)]));
    // weight mean and count per fruit: apple 1, pear 101, plum 201; 1000 rows each.
    expect(byFruit.get("apple")).toEqual(["1", "1,000"]);
    expect(byFruit.get("pear")).toEqual(["101", "1,000"]);
    expect(byFruit.get("plum")).toEqual(["201", "1,000"]);
  }, 90_000);

  it("runs the Parquet example on a file given by URL", async () => {
    const name = parquetFile.split(/[\\/]/).pop()!;
    await page.fill("#url", `${server!.url}data/${name}`);
    const s = await run(page, "parquet");
    await page.fill("#url", "");
    expect(s.error).toBeUndefined();
    expect(s.table!.cells.map((r) => r[0]).sort()).toEqual(["apple", "pear", "plum"]);
    expect(server!.requests.some((q) => q.path === `/data/${name}`)).toBe(true);
  }, 90_000);

  it("runs the training example and draws its loss curve", async () => {
    const s = await run(page, "training");
    expect(s.error).toBeUndefined();
    expect(s.ok).toBe(true);
    // 40 epochs of ceil(2000 / 64) = 32 steps.
    expect(s.values.steps).toBe(1280);
    expect(s.chart!.points).toBe(1280);
    expect(s.chart!.last).toBeLessThan(s.chart!.first / 4);
    expect(s.values.accuracy).toBeGreaterThan(0.9);
    expect(s.log).toContain("epoch 40:");
  }, 120_000);

  it("runs the Parquet -> one-hot, scaler -> MLP pipeline, with held-out accuracy", async () => {
    await page.setInputFiles("#file", []);
    await page.fill("#url", "");
    const s = await run(page, "pipeline");
    expect(s.error).toBeUndefined();
    expect(s.ok).toBe(true);
    // 6000 rows, 6 measurements + 4 one-hot regions, 3 classes; 80% train: 15 epochs of ceil(4800 / 64) steps at most.
    expect(s.log).toContain("6000 rows, 10 features (one-hot: region), 3 classes");
    expect(s.values["held-out rows"]).toBeGreaterThan(1000);
    expect(s.values["held-out accuracy"]).toBeGreaterThan(0.9);
    expect(s.chart!.points).toBe(s.values.steps);
    expect(s.chart!.last).toBeLessThan(s.chart!.first / 3);
  }, 120_000);

  it("runs an edited program, and shows a failing one's error in the page", async () => {
    const edited = await run(page, "array", "const { array } = tessera;\nshow({ total: (await client.compute(array.ones([100, 100], { chunks: [25, 25] }).sum())).item() });");
    expect(edited.values).toEqual({ total: 10000 });
    const broken = await run(page, "array", "const x = tessera.array.ones([10]);\nawait client.compute(x.nosuchmethod());");
    expect(broken.ok).toBe(false);
    expect(broken.kind).toBe("error");
    expect(broken.error).toMatch(/TypeError: .*nosuchmethod/);
  }, 90_000);

  it("logs no error in the page or its workers", () => {
    expect(browser!.errors).toEqual([]);
  });
});
