/**
 * The entry of a performance report (src/dashboard/report.ts): the dashboard page with no
 * server and no engine. The report's HTML carries the recorded feed as JSON in
 * <script id="tessera-report" type="application/json"> and this script inlined (Vite builds it
 * as one classic script, web-dist/dashboard-report/report.js, so it runs from file://); it
 * replays the messages into the view, whose task stream then spans the whole recording.
 */

import type { FeedGraph, FeedMessage } from "tessera";
import { mountDashboard } from "./dashboard.js";
import type { DashboardState } from "./state.js";

/** What performanceReport() embeds. */
export interface ReportData {
  title: string;
  /** Epoch ms. */
  start: number;
  stop: number;
  messages: FeedMessage[];
  graph?: FeedGraph;
}

declare global {
  interface Window {
    __tesseraReport?: { state: DashboardState; data: ReportData };
  }
}

const holder = document.getElementById("tessera-report");
if (!holder) throw new Error("tessera report: the page has no #tessera-report data");
const data = JSON.parse(holder.textContent ?? "") as ReportData;
const view = mountDashboard({ windowMs: Infinity });
for (const m of data.messages) view.apply(m);
if (data.graph) view.setGraph(data.graph);
const seconds = ((data.stop - data.start) / 1000).toFixed(2);
view.setConnection("live", `report · ${new Date(data.start).toLocaleString()} · ${seconds} s`);
document.title = `tessera — ${data.title}`;
window.__tesseraReport = { state: view.state, data };
