/**
 * A dataframe pipeline in Chromium reading a Parquet file by URL and by File. The test writes a
 * Parquet file with tessera's own writer (48,000 rows, 8 row groups, so 8 partitions; the
 * pipeline's columns key/x/n/w interleaved with payload columns it never uses), then:
 *
 *   - Node: runs web/dataframe/pipeline.ts (filter, assign, groupby-agg with sum/mean/count, len,
 *     head) on a 2-worker LocalCluster of worker_threads, reading the file by path, and checks
 *     the answers against a plain-JS reference computed from the generated columns;
 *   - Chromium: the built page web-dist/dataframe/index.html runs the same module on a 2-worker
 *     LocalCluster of Web Workers, first reading the file by http URL from the test's static
 *     server (range requests), then as a File set on its <input type=file> (setInputFiles).
 *
 * Both browser passes must equal Node's, cell for cell (exact float64 bits). The server's log
 * shows the URL pass read only byte ranges (206), never a payload column's bytes (the footer's
 * 64 KiB tail aside) and every row group's used columns, under half the file in all; the File
 * pass made no request for it. Nothing may log an error in the page or its workers. It leaves
 * a screenshot in test-results/e2e-dataframe.png.
 *
 * Needs `npm run build` (wasm, tsc, vite build) first; `npm test` does that.
 */

import { mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parquetMetadata } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, dataframe as dd } from "../../dist/index.js";
import { cell, runPipeline, USED_COLUMNS, type DataframePageReport, type PipelineResult } from "../../web/dataframe/pipeline.js";
import { launchChromium, type BrowserSession } from "./browser.js";
import { serveStatic, type ServedRequest, type StaticServer } from "./server.js";
import { assertBuilt } from "./built.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WEB_DIST = join(ROOT, "web-dist");
const PAGE = join(WEB_DIST, "dataframe", "index.html");
const SCREENSHOT = join(ROOT, "test-results", "e2e-dataframe.png");
const PAGE_TIMEOUT_MS = 45_000;

const N = 48_000;
const ROW_GROUP = 6_000;
const KEYS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
/** The footer read: readParquet fetches the file's last 64 KiB first (parquet-footer.ts). */
const FOOTER_FETCH = 64 * 1024;

/** The generated columns, deterministic (an LCG). */
function makeColumns() {
  let s = 20261126;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const payload = () => Float64Array.from({ length: N }, () => next() * 1e6 - 5e5);
  const key = Array.from({ length: N }, () => KEYS[Math.floor(next() * KEYS.length)]!);
  const x = Float64Array.from({ length: N }, () => next() * 2 - 1);
  const n = Int32Array.from({ length: N }, () => Math.floor(next() * 1000));
  const w = Array.from({ length: N }, (_, i) => (i % 13 === 0 ? null : Math.round(next() * 1000) / 100));
  const label = Array.from({ length: N }, (_, i) => `row-${i.toString(36)}-${Math.floor(next() * 1e9).toString(36)}`);
  // Used columns between unused ones, so a reader that read whole row groups would be caught.
  return { key, p1: payload(), x, p2: payload(), n, label, w, p3: payload(), p4: payload() };
}
type Columns = ReturnType<typeof makeColumns>;

/** The pipeline's answers computed directly from the columns (plain JS). */
function reference(c: Columns) {
  const kept = Array.from({ length: N }, (_, i) => i).filter((i) => c.x[i]! > -0.5 && c.n[i]! % 4 !== 0 && c.key[i] !== "zeta");
  const groups = new Map<string, { xs: number[]; ys: number[]; n: number; big: number }>();
  for (const i of kept) {
    const g = groups.get(c.key[i]!) ?? { xs: [], ys: [], n: 0, big: 0 };
    groups.set(c.key[i]!, g);
    g.xs.push(c.x[i]!);
    if (c.w[i] !== null) g.ys.push(c.x[i]! * c.n[i]! + c.w[i]!);
    g.n += c.n[i]!;
    g.big += c.x[i]! > 0.5 ? 1 : 0;
  }
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  const grouped = [...groups.keys()].sort().map((k) => {
    const g = groups.get(k)!;
    return { key: k, xSum: sum(g.xs), xMean: sum(g.xs) / g.xs.length, xCount: g.xs.length, ySum: sum(g.ys), yMean: sum(g.ys) / g.ys.length, yCount: g.ys.length, nSum: g.n, bigSum: g.big };
  });
  const head = kept.slice(0, 6).map((i) => {
    const w = c.w[i]!;
    const y = w === null ? null : c.x[i]! * c.n[i]! + w;
    return [c.key[i], c.x[i], c.n[i], w, y, c.x[i]! > 0.5].map(cell);
  });
  return { kept: kept.length, grouped, head };
}

let dir: string;
let file: string;
let fileSize: number;
let columns: Columns;
let chunks: { rowGroup: number; column: string; start: number; end: number }[] = [];
let node: PipelineResult | undefined;
let server: StaticServer | undefined;
let browser: BrowserSession | undefined;
let report: DataframePageReport | undefined;
/** The server's log for the Parquet file after the URL pass, and what came after it. */
let urlPassRequests: ServedRequest[] = [];
let laterRequests: ServedRequest[] = [];
const workerUrls: string[] = [];
const DATA_PATH = "/data/part.0.parquet";

beforeAll(async () => {
  assertBuilt(PAGE, join(ROOT, "web", "dataframe"));
  dir = await mkdtemp(join(tmpdir(), "tessera-e2e-df-"));
  columns = makeColumns();
  // Node, on worker_threads: write the file with tessera's writer, then run the pipeline by path.
  const client = await LocalCluster.start({ workers: 2 });
  try {
    const written = await dd.fromArrays(columns, { npartitions: 1 }).toParquet(dir, { rowGroupSize: ROW_GROUP });
    file = written[0] as string;
    node = await runPipeline(file);
  } finally {
    await client.close();
  }
  const bytes = await readFile(file);
  fileSize = bytes.byteLength;
  const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  chunks = meta.row_groups.flatMap((rg, rowGroup) =>
    rg.columns.map((c) => {
      const m = c.meta_data!;
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
      return { rowGroup, column: m.path_in_schema.join("."), start, end: start + Number(m.total_compressed_size) };
    }),
  );

  server = await serveStatic(WEB_DIST, 0, { mounts: { "data/": dir } });
  browser = await launchChromium();
  const { page } = browser;
  page.on("worker", (w) => workerUrls.push(w.url()));
  const parquetLog = () => server!.requests.filter((r) => r.path === DATA_PATH);
  try {
    await page.goto(`${server.url}dataframe/index.html?parquet=${encodeURIComponent(DATA_PATH)}`);
    await page.waitForFunction(() => window.__tesseraDataframe?.url !== undefined || window.__tesseraDataframe?.done === true, null, { timeout: PAGE_TIMEOUT_MS });
    urlPassRequests = parquetLog();
    // The second pass: the same file, chosen through the page's <input type=file>.
    await page.locator("#file").setInputFiles(file);
    await page.waitForFunction(() => window.__tesseraDataframe?.done === true, null, { timeout: PAGE_TIMEOUT_MS });
    laterRequests = parquetLog().slice(urlPassRequests.length);
    report = await page.evaluate(() => window.__tesseraDataframe);
  } finally {
    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => {});
  }
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a dataframe pipeline in Chromium reading a Parquet file by URL and by File", () => {
  it("the file has several row groups, so several partitions", () => {
    expect(new Set(chunks.map((c) => c.rowGroup)).size).toBe(N / ROW_GROUP);
    expect(node!.npartitions).toBe(N / ROW_GROUP);
  });

  it("Node (worker_threads) computes the right answers", () => {
    const want = reference(columns);
    const r = node!;
    expect(r.rows).toBe(N);
    expect(r.kept).toBe(want.kept);
    expect(r.grouped.names).toEqual(["key", "x_sum", "x_mean", "x_count", "y_sum", "y_mean", "y_count", "n_sum", "big_sum"]);
    expect(r.grouped.rows.map((row) => row[0])).toEqual(want.grouped.map((g) => cell(g.key)));
    r.grouped.rows.forEach((row, i) => {
      const g = want.grouped[i]!;
      const num = (c: string) => Number(c.replace(/n$/, ""));
      expect(num(row[1]!)).toBeCloseTo(g.xSum, 6);
      expect(num(row[2]!)).toBeCloseTo(g.xMean, 12);
      expect(row[3]).toBe(`${g.xCount}n`);
      expect(num(row[4]!)).toBeCloseTo(g.ySum, 4);
      expect(num(row[5]!)).toBeCloseTo(g.yMean, 9);
      expect(row[6]).toBe(`${g.yCount}n`);
      expect(row[7]).toBe(`${g.nSum}n`);
      expect(row[8]).toBe(`${g.bigSum}n`);
    });
    // "zeta" is filtered out; w's nulls make y's count smaller than x's.
    expect(r.grouped.rows).toHaveLength(KEYS.length - 1);
    expect(r.grouped.rows.some((row) => row[6] !== row[3])).toBe(true);
    expect(r.head.names).toEqual(["key", "x", "n", "w", "y", "big"]);
    expect(r.head.rows).toEqual(want.head);
  });

  it("runs in the page on 2 cross-origin isolated Web Workers, without errors", async () => {
    expect(report, "the page published no report").toBeDefined();
    expect(report!.error).toBeUndefined();
    expect(report!.url?.error).toBeUndefined();
    expect(report!.file?.error).toBeUndefined();
    expect(report!.crossOriginIsolated).toBe(true);
    expect(report!.workers).toBe(2);
    expect(browser!.errors).toEqual([]);
    expect(workerUrls).toHaveLength(2);
    for (const url of workerUrls) expect(url).toMatch(/\/assets\/browser-entry-[\w-]+\.js$/);
    // What the screenshot shows: both passes' groupby tables and heads.
    const page = browser!.page;
    for (const pass of ["url", "file"]) {
      expect(await page.locator(`section[data-pass="${pass}"] table[data-table="grouped"] tbody tr`).count()).toBe(node!.grouped.rows.length);
      expect(await page.locator(`section[data-pass="${pass}"] table[data-table="head"] tbody tr`).count()).toBe(6);
    }
    expect(await page.locator("body").getAttribute("data-done")).toBe("ok");
  });

  it("gives Node's results, cell for cell, by URL and by File", () => {
    expect(report!.url?.kind).toBe("url");
    expect(report!.url?.source).toBe(`${server!.url}${DATA_PATH.slice(1)}`);
    expect(report!.file?.kind).toBe("file");
    expect(report!.file?.source).toBe(`part.0.parquet (${fileSize} bytes)`);
    expect(report!.url?.result).toEqual(node);
    expect(report!.file?.result).toEqual(node);
  });

  it("by URL, reads only byte ranges of the columns used; by File, asks the server for nothing", () => {
    const gets = urlPassRequests.filter((r) => r.method === "GET");
    // The size from HEAD (client), then range reads only: the footer and the used column chunks.
    expect(urlPassRequests.filter((r) => r.method === "HEAD").map((r) => r.status)).toEqual([200]);
    expect(gets.length).toBeGreaterThan(N / ROW_GROUP);
    for (const r of gets) {
      expect(r.range, `a GET without Range`).toMatch(/^bytes=\d+-\d+$/);
      expect(r.status).toBe(206);
    }
    const ranges = gets.map((r) => {
      const [a, b] = r.range!.slice(6).split("-").map(Number) as [number, number];
      return { start: a, end: b + 1 };
    });
    const footer = ranges.filter((r) => r.end === fileSize && r.end - r.start <= FOOTER_FETCH);
    expect(footer.length).toBeGreaterThan(0);
    const reads = ranges.filter((r) => !footer.includes(r));
    const used = new Set<string>(USED_COLUMNS);
    const overlaps = (r: { start: number; end: number }, c: { start: number; end: number }) => r.start < c.end && c.start < r.end;
    const unusedRead = chunks.filter((c) => !used.has(c.column) && reads.some((r) => overlaps(r, c)));
    expect(unusedRead.map((c) => `${c.column}@${c.rowGroup}`)).toEqual([]);
    const covered = (c: { start: number; end: number }) => reads.some((r) => r.start <= c.start && c.end <= r.end);
    const missed = chunks.filter((c) => used.has(c.column) && !covered(c));
    expect(missed.map((c) => `${c.column}@${c.rowGroup}`)).toEqual([]);
    // Distinct bytes fetched (the union of all ranges, footer included): under half the file.
    const sorted = [...ranges].sort((a, b) => a.start - b.start);
    let distinct = 0;
    let upTo = 0;
    for (const r of sorted) {
      distinct += Math.max(0, r.end - Math.max(r.start, upTo));
      upTo = Math.max(upTo, r.end);
    }
    const usedBytes = chunks.filter((c) => used.has(c.column)).reduce((s, c) => s + c.end - c.start, 0);
    expect(distinct).toBeGreaterThanOrEqual(usedBytes);
    expect(distinct).toBeLessThan(fileSize / 2);
    // The File pass read the File, not the URL.
    expect(laterRequests).toEqual([]);
  });

  it("the static server answers byte ranges as HTTP says", async () => {
    const url = `${server!.url}${DATA_PATH.slice(1)}`;
    const get = async (range?: string) => {
      const res = await fetch(url, range ? { headers: { Range: range } } : {});
      return { status: res.status, range: res.headers.get("content-range"), accept: res.headers.get("accept-ranges"), body: new Uint8Array(await res.arrayBuffer()) };
    };
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    const first = await get("bytes=0-3");
    expect([first.status, first.range, text(first.body)]).toEqual([206, `bytes 0-3/${fileSize}`, "PAR1"]);
    const last = await get("bytes=-4");
    expect([last.status, last.range, text(last.body)]).toEqual([206, `bytes ${fileSize - 4}-${fileSize - 1}/${fileSize}`, "PAR1"]);
    const open = await get(`bytes=${fileSize - 2}-`);
    expect([open.status, open.body.length]).toEqual([206, 2]);
    const past = await get(`bytes=${fileSize}-`);
    expect([past.status, past.range]).toEqual([416, `bytes */${fileSize}`]);
    const whole = await get();
    expect([whole.status, whole.accept, whole.body.length]).toEqual([200, "bytes", fileSize]);
    const multi = await get("bytes=0-1,4-5");
    expect([multi.status, multi.body.length]).toEqual([200, fileSize]);
  });
});
