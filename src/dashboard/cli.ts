/**
 * `tessera dashboard`: serve the built pages (web-dist/: the dashboard, the playground, the
 * landing page) on a localhost port with the COOP/COEP headers their Web Workers need.
 *
 *   tessera dashboard [--port N] [--host H]
 *       the pages only; the dashboard's demo (dashboard/?demo) and the playground run their
 *       own cluster of Web Workers in the tab.
 *   tessera dashboard --demo [--runs N] [--stay] [--port N] [--host H]
 *       start a LocalCluster (worker_threads) serving its dashboard with a live feed, and run
 *       the demo workload (dashboard/demo.ts) on it every few seconds until interrupted, or N
 *       times and then exit (--stay: keep serving after the last run).
 *
 * A scheduler process serving the dashboard of a distributed cluster comes with distribution.
 */

import { TesseraError } from "../errors.js";

export const DASHBOARD_HELP = `tessera dashboard [--port N] [--host H]            serve the dashboard and playground pages
tessera dashboard --demo [--runs N] [--stay] ...   the same, watching a demo workload on a LocalCluster`;

interface Args {
  port: number;
  host: string;
  demo: boolean;
  runs: number;
  stay: boolean;
}

/** Seconds between two runs of the demo workload. */
const PAUSE_MS = 3000;

export function parseDashboardArgs(argv: readonly string[]): Args {
  const out: Args = { port: 8787, host: "127.0.0.1", demo: false, runs: Infinity, stay: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith("--")) throw new TesseraError(`tessera dashboard: ${name} needs a value`);
      return v;
    };
    if (name === "--port") {
      out.port = Number(value());
      if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new TesseraError(`tessera dashboard: --port must be an integer from 0 to 65535, got ${JSON.stringify(argv[i])}`);
    } else if (name === "--host") out.host = value();
    else if (name === "--runs") {
      out.runs = Number(value());
      if (!Number.isInteger(out.runs) || out.runs < 1) throw new TesseraError(`tessera dashboard: --runs must be a positive integer, got ${JSON.stringify(argv[i])}`);
    } else if (name === "--demo") out.demo = true;
    else if (name === "--stay") out.stay = true;
    else throw new TesseraError(`tessera dashboard: unknown argument ${JSON.stringify(arg)}\n${DASHBOARD_HELP}`);
  }
  return out;
}

/** Resolves on Ctrl-C or a termination signal. */
function interrupted(): Promise<string> {
  return new Promise((done) => {
    process.once("SIGINT", () => done("SIGINT"));
    process.once("SIGTERM", () => done("SIGTERM"));
  });
}

/** A port in use, in the command line's terms. */
function portHint<T>(p: Promise<T>, port: number): Promise<T> {
  return p.catch((err: unknown) => {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === "EADDRINUSE") throw new TesseraError(`tessera dashboard: port ${port} is in use; pick another with --port N (0: a free one)`, { cause: err });
    throw err;
  });
}

export async function dashboardCommand(argv: readonly string[]): Promise<number> {
  const args = parseDashboardArgs(argv);
  const tessera = await import("../index.js");
  const stop = interrupted();
  if (!args.demo) {
    const server = await portHint(tessera.servePages({ port: args.port, host: args.host }), args.port);
    console.log(`tessera dashboard: serving the pages at ${server.url}`);
    console.log(`  dashboard on Web Workers in the tab: ${server.url}dashboard/?demo`);
    console.log(`  playground: ${server.url}playground/`);
    console.log(`  (Ctrl-C stops; --demo watches a LocalCluster in this process instead)`);
    await stop;
    await server.close();
    return 0;
  }
  const { runDemoWorkload } = await import("./demo.js");
  const client = await tessera.LocalCluster.start({ dashboard: false });
  let stopping = false;
  void stop.then(() => (stopping = true));
  try {
    // Started here rather than by the cluster, which would only warn about a busy port.
    await portHint(tessera.startDashboard(client, { port: args.port, host: args.host }), args.port);
    console.log(`tessera dashboard: ${client.workers.length} workers; dashboard at ${client.dashboardLink ?? "(off)"}`);
    for (let run = 1; run <= args.runs && !stopping; run++) {
      const t0 = performance.now();
      const r = await runDemoWorkload({ delayed: tessera.delayed, array: tessera.array }, client);
      console.log(`run ${run}: ${r.tasks} tasks in ${((performance.now() - t0) / 1000).toFixed(2)} s; total=${r.total.toFixed(3)} mean=${r.mean.toFixed(5)}; failed on purpose: ${r.failure}`);
      if (run < args.runs) await Promise.race([stop, new Promise((ok) => setTimeout(ok, PAUSE_MS))]);
    }
    if (args.stay && !stopping) {
      console.log(`done; still serving ${client.dashboardLink} (Ctrl-C stops)`);
      await stop;
    }
  } finally {
    await client.close();
  }
  return 0;
}
