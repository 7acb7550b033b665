/**
 * performanceReport (Node): record the dashboard feed while a computation runs and write it as
 * one standalone HTML file, like Dask's `performance_report`. The file holds the dashboard page
 * (its markup, and its script and styles inlined from web-dist/dashboard-report/, a single
 * classic script Vite builds for this) and the recorded messages as JSON; it opens from disk
 * with no server and shows the whole computation: task stream, progress, workers, the task
 * graph at its largest, and failures.
 *
 *   const total = await performanceReport(client, () => client.compute(x.sum()), { filename: "report.html" });
 */

import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Client } from "../client/client.js";
import { TesseraError } from "../errors.js";
import { metricsOf } from "./collector.js";
import type { FeedActivity, FeedGraph, FeedMessage, FeedTasks } from "./protocol.js";
import { DEFAULT_ROOT } from "./server.js";

export interface PerformanceReportOptions {
  /** Where to write the report (default "tessera-report.html", in the working directory). */
  filename?: string;
  /** Shown in the page's title (default "performance report"). */
  title?: string;
  /** The built pages (default: web-dist/ of this package). */
  root?: string;
}

/** The recording embedded in the page (web/dashboard/report.ts reads it). */
export interface ReportData {
  title: string;
  start: number;
  stop: number;
  messages: FeedMessage[];
  graph?: FeedGraph;
}

/** Milliseconds between looks at the scheduler's task count while recording (see lookAtGraph). */
const GRAPH_POLL_MS = 50;
/** Longest wait for the feed's message covering the end of the computation. */
const FLUSH_MS = 3000;

/**
 * Run `work` (a function, or a promise already running) while recording the dashboard feed of
 * `client`'s cluster, then write the report to `options.filename`. Resolves with what `work`
 * gave; if it fails, the report is still written and the failure is passed on.
 */
export async function performanceReport<T>(client: Client, work: (() => T | Promise<T>) | Promise<T>, options: PerformanceReportOptions = {}): Promise<T> {
  if (typeof work !== "function" && !(work instanceof Promise)) {
    throw new TesseraError(`performanceReport: work must be a function or a promise, got ${work === null ? "null" : typeof work}`);
  }
  const filename = resolve(options.filename ?? "tessera-report.html");
  const root = resolve(options.root ?? DEFAULT_ROOT);
  // Read the page first: a missing build should fail before the computation, not after it.
  const page = await readPage(root);
  const messages: FeedMessage[] = [];
  let waiter: ((m: FeedMessage) => void) | undefined;
  const start = Date.now();
  // The report's snapshot is taken now, before the work, so that everything the work does comes
  // as updates after it: the feed's own snapshot comes at its next tick, which may be after a
  // short computation has ended, and would then be the report's only message.
  const unsubscribe = client.onMetrics(
    (m) => {
      messages.push(m);
      waiter?.(m);
    },
    { snapshot: false },
  );
  messages.push(metricsOf(client.runner).snapshot());
  // The graph is largest right after it is submitted, and shrinks as finished tasks are
  // forgotten: look whenever the scheduler holds more tasks than the graph kept (an O(1) check),
  // at each worker report (the first comes right after submission) and every 50 ms.
  let graph: FeedGraph | undefined;
  const scheduler = client.runner.scheduler;
  const lookAtGraph = (): void => {
    if (graph && scheduler.tasks.size <= graph.total) return;
    try {
      const g = client.taskGraph();
      if (!graph || rank(g) > rank(graph)) graph = g;
    } catch {
      // The client closed under us: keep what was seen.
    }
  };
  const timer = setInterval(lookAtGraph, GRAPH_POLL_MS);
  const untap = client.runner.tapReports(lookAtGraph);
  lookAtGraph();
  let result: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    result = { ok: true, value: await (typeof work === "function" ? work() : work) };
  } catch (error) {
    result = { ok: false, error };
  } finally {
    clearInterval(timer);
    untap();
  }
  lookAtGraph();
  const stop = Date.now();
  // The feed sends what happened up to `stop` at its next tick: wait for that update (the
  // snapshot may be as late as `stop` when the work took no time, but holds none of it).
  await new Promise<void>((done) => {
    const timeout = setTimeout(done, FLUSH_MS);
    const check = (m: FeedMessage): void => {
      if (m.kind !== "update" || m.time < stop) return;
      clearTimeout(timeout);
      done();
    };
    waiter = check;
    const last = messages.at(-1);
    if (last) check(last);
  });
  unsubscribe();
  const data: ReportData = { title: options.title ?? "performance report", start, stop, messages: trimToStart(messages, start) };
  if (graph) data.graph = graph;
  await writeFile(filename, assemble(page, data));
  if (!result.ok) throw result.error;
  return result.value;
}

/** Which graph the report keeps: the largest drawable one, else the largest count of one too large to draw. */
function rank(g: FeedGraph): number {
  if (!g.tooLarge && g.key.length > 0) return 2 ** 40 + g.key.length;
  return g.tooLarge ? g.total : 0;
}

interface Page {
  html: string;
  script: string;
  style: string;
}

async function readPage(root: string): Promise<Page> {
  const files = [join(root, "dashboard", "index.html"), join(root, "dashboard-report", "report.js"), join(root, "dashboard-report", "report.css")];
  try {
    const [html, script, style] = await Promise.all(files.map((f) => readFile(f, "utf8")));
    return { html: html!, script: script!, style: style! };
  } catch (err) {
    throw new TesseraError(`performanceReport: the dashboard page is not built (${(err as Error).message}); run \`npm run build\``, { cause: err });
  }
}

/** The page with its module script and stylesheet links replaced by the inlined report script, styles and data. */
export function assemble(page: Page, data: ReportData): string {
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  // A script's text ends at the first "</script"; the minified bundle may hold one in a string.
  const script = page.script.replace(/<\/(script)/gi, "<\\/$1");
  const style = page.style.replace(/<\/(style)/gi, "<\\/$1");
  let html = page.html
    .replace(/<script\b[^>]*\btype="module"[^>]*>\s*<\/script>/g, "")
    .replace(/<link\b[^>]*\brel="(?:modulepreload|stylesheet)"[^>]*>/g, "");
  // Functions, so "$&"-like sequences in the inlined text stay as they are.
  html = html.replace("</head>", () => `<style>${style}</style>\n</head>`);
  html = html.replace("</body>", () => `<script id="tessera-report" type="application/json">${json}</script>\n<script>${script}</script>\n</body>`);
  return html;
}

/** The first message (a snapshot) also holds the minute before the report began: drop that. */
function trimToStart(messages: FeedMessage[], start: number): FeedMessage[] {
  const first = messages[0];
  if (!first || first.kind !== "snapshot") return messages;
  const keepTasks = (t: FeedTasks): FeedTasks => {
    const keep = t.stop.map((s) => first.base + s >= start);
    const pick = <V>(col: V[]): V[] => col.filter((_, i) => keep[i]);
    return { ...t, key: pick(t.key), prefix: pick(t.prefix), op: pick(t.op), worker: pick(t.worker), start: pick(t.start), stop: pick(t.stop), erred: pick(t.erred) };
  };
  const keepActivity = (a: FeedActivity): FeedActivity => {
    const keep = a.stop.map((s) => first.base + s >= start);
    const pick = <V>(col: V[]): V[] => col.filter((_, i) => keep[i]);
    return { ...a, kind: pick(a.kind), worker: pick(a.worker), peer: pick(a.peer), key: pick(a.key), count: pick(a.count), nbytes: pick(a.nbytes), start: pick(a.start), stop: pick(a.stop) };
  };
  const trimmed: FeedMessage = { ...first, tasks: keepTasks(first.tasks), activity: keepActivity(first.activity), errors: first.errors.filter((e) => e.time >= start) };
  return [trimmed, ...messages.slice(1)];
}
