/**
 * The dashboard page's entry. Two sources of feed messages:
 *
 *   - a Node dashboard server (startDashboard): the page it serves subscribes to its /feed
 *     with an EventSource (or to `?feed=<url>`); the browser reconnects by itself and the
 *     server starts each connection with a snapshot; the graph page fetches its /graph.json;
 *   - `?demo`: the page starts a 2-worker LocalCluster on Web Workers in this tab, subscribes
 *     with `client.onMetrics` (the in-page feed) and runs the demo workload (workload.ts).
 *
 * `window.__tesseraDashboard` exposes the state and, in demo mode, the workload's result.
 */

import type { Client, FeedGraph, FeedMessage } from "tessera";
import { mountDashboard, type DashboardView } from "./dashboard.js";
import type { DashboardState } from "./state.js";
import type { WorkloadResult } from "./workload.js";

declare global {
  interface Window {
    __tesseraDashboard?: { state: DashboardState; demo?: WorkloadResult | { error: string } };
  }
}

/** The demo's persisted data, held so its chunks stay on the workers (and in the memory bars). */
const kept: unknown[] = [];
const params = new URLSearchParams(location.search);
/** The demo's client, once started (its graph feeds the graph page). */
let demoClient: Client | undefined;

async function fetchGraph(): Promise<FeedGraph> {
  if (params.has("demo")) {
    if (!demoClient) throw new Error("the demo cluster is not started yet");
    return demoClient.taskGraph();
  }
  const res = await fetch(new URL(params.get("graph") ?? "../graph.json", location.href));
  if (!res.ok) throw new Error(`graph.json: HTTP ${res.status}`);
  return (await res.json()) as FeedGraph;
}

const view = mountDashboard({ graph: fetchGraph });
window.__tesseraDashboard = { state: view.state };

function connectFeed(v: DashboardView, url: string): void {
  v.setConnection("connecting", `connecting to ${url}…`);
  const source = new EventSource(url);
  source.onopen = () => v.setConnection("live", "live");
  source.onmessage = (e: MessageEvent<string>) => v.apply(JSON.parse(e.data) as FeedMessage);
  // EventSource retries by itself (the server asks for 1 s); a closed one gave up.
  // A server without a cluster (`tessera dashboard` without --demo) answers 404: the browser gives up.
  source.onerror = () => v.setConnection("lost", source.readyState === EventSource.CLOSED ? "no feed here: open ?demo to watch a cluster in this tab" : "reconnecting…");
}

async function demo(v: DashboardView): Promise<void> {
  v.setConnection("connecting", "starting 2 Web Workers…");
  // Loaded only here: a page watching a server's feed needs none of the engine.
  const [{ LocalCluster }, { runWorkload }] = await Promise.all([import("tessera"), import("./workload.js")]);
  const client = await LocalCluster.start({ workers: 2, memoryLimit: "256MB" });
  demoClient = client;
  client.onMetrics((m) => v.apply(m));
  v.setConnection("live", "in-page (demo)");
  try {
    const { persisted, ...result } = await runWorkload(client, { loads: Number(params.get("loads") ?? 1500) });
    kept.push(persisted);
    window.__tesseraDashboard!.demo = result;
  } catch (err) {
    window.__tesseraDashboard!.demo = { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

if (params.has("demo")) void demo(view);
else connectFeed(view, new URL(params.get("feed") ?? "../feed", location.href).href);
