/**
 * The status page's view: give it feed messages (`apply`), it keeps the state (state.ts) and
 * redraws the panels at most once per animation frame. Where the messages come from is the
 * caller's business: an EventSource on a Node dashboard server, or `client.onMetrics` in the
 * same tab (main.ts picks).
 */

import type { FeedMessage } from "tessera";
import { RateChart } from "./chart.js";
import { formatCount } from "./colors.js";
import { ErrorsPanel, ProgressPanel, WorkersPanel } from "./panels.js";
import { DashboardState } from "./state.js";
import { TaskStream } from "./task-stream.js";

export type Connection = "connecting" | "live" | "lost";

export interface DashboardView {
  readonly state: DashboardState;
  apply(m: FeedMessage): void;
  setConnection(c: Connection, detail?: string): void;
}

const $ = <T extends HTMLElement>(sel: string): T => {
  const e = document.querySelector<T>(sel);
  if (!e) throw new Error(`dashboard: the page has no ${sel}`);
  return e;
};

export function mountDashboard(): DashboardView {
  const state = new DashboardState();
  const stream = new TaskStream($<HTMLCanvasElement>("#stream canvas"), $("#stream .tip"), state);
  const progress = new ProgressPanel($("#progress .list"));
  const workers = new WorkersPanel($<HTMLTableSectionElement>("#workers tbody"));
  const errors = new ErrorsPanel($<HTMLTableSectionElement>("#errors tbody"), $("#errors"));
  const chart = new RateChart($("#rate .chart"));
  const summary = $("#summary");
  const connection = $("#connection");
  let pending = false;

  const render = (): void => {
    pending = false;
    stream.draw();
    progress.render(state.prefixes.values());
    workers.render(state.workers);
    errors.render(state.errors);
    chart.render(state.series);
    const t = state.totals();
    const running = state.workers.filter((w) => w.running).length;
    const rate = state.series.rate.at(-1) ?? 0;
    const sampled = state.stride > 1 ? ` · drawing 1 in ${state.stride}` : "";
    summary.textContent =
      `${running} worker${running === 1 ? "" : "s"} · ${formatCount(t.done)} / ${formatCount(t.total)} tasks done` +
      `${t.erred ? ` · ${formatCount(t.erred)} failed` : ""} · ${formatCount(t.processing)} running · ${formatCount(rate)} tasks/s${sampled}`;
    Object.assign(summary.dataset, { workers: String(running), done: String(t.done), total: String(t.total), erred: String(t.erred), messages: String(state.messages) });
  };

  new ResizeObserver(() => stream.draw()).observe($("#stream"));
  return {
    state,
    apply(m) {
      state.apply(m);
      if (pending) return;
      pending = true;
      requestAnimationFrame(render);
    },
    setConnection(c, detail) {
      connection.dataset.state = c;
      connection.textContent = detail ?? c;
    },
  };
}
