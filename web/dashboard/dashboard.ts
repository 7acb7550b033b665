/**
 * The dashboard's view: give it feed messages (`apply`), it keeps the state (state.ts) and
 * redraws the panels of the page shown at most once per animation frame. Pages: status (task
 * stream, progress, workers' memory and CPU, throughput, failures), workers (a table), graph
 * (the task graph) and errors, switched by the URL's hash (#status, #workers, #graph,
 * #errors). Where the messages come from is the caller's business: an EventSource on a Node
 * dashboard server, `client.onMetrics` in the same tab, or a recording (main.ts, report.ts).
 */

import type { FeedGraph, FeedMessage } from "tessera";
import { MetricCharts, RateChart } from "./chart.js";
import { formatCount } from "./colors.js";
import { GraphView } from "./graph.js";
import { ErrorsPanel, ProgressPanel, WorkersPanel, WorkerTable } from "./panels.js";
import { DashboardState } from "./state.js";
import { TaskStream } from "./task-stream.js";

export type Connection = "connecting" | "live" | "lost";

export const VIEWS = ["status", "workers", "graph", "errors"] as const;
export type View = (typeof VIEWS)[number];

export interface DashboardOptions {
  /** Fetches the task graph for the graph page (polled about once a second while it shows). */
  graph?: () => Promise<FeedGraph>;
  /** Milliseconds of task stream shown (default 20 s; Infinity for a recording). */
  windowMs?: number;
}

export interface DashboardView {
  readonly state: DashboardState;
  apply(m: FeedMessage): void;
  setConnection(c: Connection, detail?: string): void;
  /** Show a graph now (a recording's; a live page fetches its own). */
  setGraph(g: FeedGraph): void;
}

const GRAPH_POLL_MS = 1000;

const $ = <T extends HTMLElement>(sel: string): T => {
  const e = document.querySelector<T>(sel);
  if (!e) throw new Error(`dashboard: the page has no ${sel}`);
  return e;
};

/** The view named by the URL's hash (default status). */
function viewOf(hash: string): View {
  const name = hash.replace(/^#/, "");
  return (VIEWS as readonly string[]).includes(name) ? (name as View) : "status";
}

export function mountDashboard(options: DashboardOptions = {}): DashboardView {
  const state = new DashboardState();
  const stream = new TaskStream($<HTMLCanvasElement>("#stream canvas"), $("#stream .tip"), state, options.windowMs);
  const progress = new ProgressPanel($("#progress .list"));
  const workers = new WorkersPanel($<HTMLTableSectionElement>("#workers tbody"));
  const table = new WorkerTable($<HTMLTableSectionElement>("#worker-table tbody"));
  const errors = new ErrorsPanel($<HTMLTableSectionElement>("#errors tbody"), $("#errors"));
  const graph = new GraphView($<HTMLCanvasElement>("#graph canvas"), $("#graph .caption"), $("#graph .legend"), $("#graph .tip"));
  const chart = new RateChart($("#rate .chart"));
  const metrics = new MetricCharts($("#metrics"), $("#metrics .charts"));
  const summary = $("#summary");
  const connection = $("#connection");
  const main = $("main");
  let view: View = viewOf(location.hash);
  let pending = false;
  let graphTimer: ReturnType<typeof setTimeout> | undefined;

  const render = (): void => {
    pending = false;
    if (view === "status") {
      stream.draw();
      progress.render(state.prefixes.values());
      workers.render(state.workers);
      chart.render(state.series);
      metrics.render(state.metrics);
    }
    if (view === "workers") table.render(state.workers);
    if (view === "graph") graph.render(state.graph, state.lastGraph);
    if (view === "status" || view === "errors") errors.render(state.errors);
    const t = state.totals();
    const running = state.workers.filter((w) => w.running).length;
    const rate = state.series.rate.at(-1) ?? 0;
    const sampled = state.stride > 1 ? ` · drawing 1 in ${state.stride}` : "";
    summary.textContent =
      `${running} worker${running === 1 ? "" : "s"} · ${formatCount(t.done)} / ${formatCount(t.total)} tasks done` +
      `${t.erred ? ` · ${formatCount(t.erred)} failed` : ""} · ${formatCount(t.processing)} running · ${formatCount(rate)} tasks/s${sampled}`;
    Object.assign(summary.dataset, { workers: String(running), done: String(t.done), total: String(t.total), erred: String(t.erred), messages: String(state.messages) });
  };
  const schedule = (): void => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(render);
  };

  /** While the graph page shows, fetch the graph about once a second. */
  const pollGraph = (): void => {
    graphTimer = undefined;
    if (view !== "graph" || !options.graph) return;
    options.graph().then(
      (g) => {
        state.setGraph(g);
        schedule();
      },
      // A failed fetch (the server went away) shows as the connection state; try again later.
      () => {},
    ).finally(() => {
      if (view === "graph" && graphTimer === undefined) graphTimer = setTimeout(pollGraph, GRAPH_POLL_MS);
    });
  };

  const show = (v: View): void => {
    view = v;
    main.dataset.view = v;
    for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) a.classList.toggle("active", a.hash === `#${v}`);
    if (v === "graph" && options.graph && graphTimer === undefined) pollGraph();
    schedule();
  };
  window.addEventListener("hashchange", () => show(viewOf(location.hash)));
  show(view);

  new ResizeObserver(() => {
    if (view === "status") stream.draw();
  }).observe($("#stream"));
  return {
    state,
    apply(m) {
      state.apply(m);
      schedule();
    },
    setConnection(c, detail) {
      connection.dataset.state = c;
      connection.textContent = detail ?? c;
    },
    setGraph(g) {
      state.setGraph(g);
      schedule();
    },
  };
}
