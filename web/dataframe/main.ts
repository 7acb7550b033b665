/**
 * The dataframe page: starts a 2-worker LocalCluster on Web Workers, runs the shared pipeline
 * (pipeline.ts) on the Parquet file named by `?parquet=<url>` (read by range requests), then on
 * the File chosen in the <input type=file>, draws each pass's results (a summary line, the
 * groupby table, the first rows) and publishes them on `window.__tesseraDataframe` for
 * test/e2e/dataframe.test.ts, which runs the same pipeline in Node and compares.
 */

import { LocalCluster, type Client } from "tessera";
import { PIPELINE_TEXT, runPipeline, type DataframePageReport, type PassReport, type TableOut } from "./pipeline.js";

const status = document.getElementById("status")!;
const input = document.querySelector<HTMLInputElement>("#file")!;
document.getElementById("pipeline")!.textContent = PIPELINE_TEXT;

const report: DataframePageReport = { ready: false, crossOriginIsolated: globalThis.crossOriginIsolated === true, workers: 0, done: false };
/** Publish a snapshot (the test polls for fields appearing). */
const publish = () => {
  window.__tesseraDataframe = structuredClone(report);
};

// Listening from the start, so a file chosen while the URL pass runs is not missed.
const chosen = new Promise<File>((resolve) => {
  input.addEventListener("change", () => {
    const f = input.files?.[0];
    if (f) resolve(f);
  });
});

const describeError = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** An exact cell (pipeline.ts's cell()) as short readable text. */
function show(c: string): string {
  if (c.startsWith('"')) return JSON.parse(c) as string;
  if (c.endsWith("n") && c !== "NaN") return c.slice(0, -1);
  const v = Number(c);
  if (c === "null" || c === "true" || c === "false" || Number.isNaN(v)) return c;
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function drawTable(t: TableOut, id: string): HTMLTableElement {
  const table = el("table");
  table.dataset.table = id;
  const head = table.createTHead().insertRow();
  for (const n of t.names) head.append(el("th", n));
  const body = table.createTBody();
  for (const row of t.rows) {
    const tr = body.insertRow();
    for (const c of row) tr.append(el("td", show(c), c.startsWith('"') ? undefined : "num"));
  }
  return table;
}

function drawPass(section: HTMLElement, title: string, pass: PassReport): void {
  section.replaceChildren(el("h2", title));
  if (pass.error || !pass.result) {
    section.append(el("p", `error: ${pass.error ?? "no result"}`, "error"));
  } else {
    const r = pass.result;
    section.append(
      el("p", `${r.rows} rows in ${r.npartitions} partitions (one per row group); ${r.kept} rows after filter — ${pass.ms.toFixed(0)} ms`, "summary"),
      el("h3", `groupby("key").agg(…): ${r.grouped.rows.length} groups`),
      drawTable(r.grouped, "grouped"),
      el("h3", "head(6) of the filtered rows"),
      drawTable(r.head, "head"),
    );
  }
  section.hidden = false;
}

async function pass(kind: "url" | "file", source: string | File, label: string): Promise<PassReport> {
  const t0 = performance.now();
  try {
    const result = await runPipeline(source);
    return { kind, source: label, ms: performance.now() - t0, result };
  } catch (err) {
    return { kind, source: label, ms: performance.now() - t0, error: describeError(err) };
  }
}

async function main(): Promise<void> {
  let client: Client | undefined;
  try {
    client = await LocalCluster.start({ workers: 2 });
    report.ready = true;
    report.workers = client.workers.length;
    publish();
    const param = new URLSearchParams(location.search).get("parquet");
    if (param) {
      const url = new URL(param, location.href).href;
      status.textContent = `reading ${url} on ${report.workers} Web Workers…`;
      report.url = await pass("url", url, url);
      drawPass(document.getElementById("url")!, `by URL: ${new URL(url).pathname} (range requests)`, report.url);
      publish();
    }
    status.textContent = `${report.url ? "read by URL; " : ""}choose a Parquet file to run the pipeline on it`;
    const file = await chosen;
    const label = `${file.name} (${file.size} bytes)`;
    status.textContent = `reading the File ${label}…`;
    report.file = await pass("file", file, label);
    drawPass(document.getElementById("file-pass")!, `by File: ${label} (<input type=file>)`, report.file);
  } finally {
    await client?.close();
  }
}

main()
  .catch((err: unknown) => {
    report.error = describeError(err);
  })
  .then(() => {
    const failed = report.error ?? report.url?.error ?? report.file?.error;
    const passes = [report.url, report.file].filter((p) => p?.result).length;
    status.textContent = failed
      ? `error: ${failed}`
      : `${passes} pass${passes === 1 ? "" : "es"} on ${report.workers} Web Workers (cross-origin isolated: ${report.crossOriginIsolated})`;
    document.body.dataset.done = failed ? "failed" : "ok";
    report.done = true;
    publish();
  });
