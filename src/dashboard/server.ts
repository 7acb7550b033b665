/**
 * The dashboard server (Node only): a small node:http server that serves the built dashboard
 * page and streams a client's metrics feed to it as Server-Sent Events.
 *
 *   GET /              the dashboard (web-dist/dashboard/index.html; built by `npm run build`)
 *   GET /assets/...    its scripts and styles (any file under web-dist/ is served, the
 *                      playground and the other pages too)
 *   GET /feed          text/event-stream: a snapshot, then one update per tick (FeedMessage JSON)
 *   GET /feed.json     a snapshot now, as one JSON document
 *   GET /graph.json    the task graph the scheduler holds now (FeedGraph; ?limit=N, default 5000)
 *
 * `servePages()` is the same server without a cluster (`tessera dashboard` without --demo): the
 * pages only, "/" the landing page; the feed paths answer 404.
 *
 * Each message is serialized once, however many pages watch. A page that cannot keep up (more
 * than MAX_BUFFERED bytes wait to be sent to it) misses updates until its buffer drains, then
 * gets a fresh snapshot, so it is never left with a gap. The server stops when the client closes.
 *
 *   const client = await LocalCluster.start();
 *   const { url } = await startDashboard(client, { port: 8787 });
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFile, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Client } from "../client/client.js";
import { TesseraError } from "../errors.js";
import { GRAPH_LIMIT, metricsOf, type MetricsCollector } from "./collector.js";
import type { FeedMessage } from "./protocol.js";

export interface DashboardOptions {
  /** Port to listen on (default 0: a free one, as Dask's LocalCluster picks). */
  port?: number;
  /** Interface to listen on (default "127.0.0.1": this machine only). */
  host?: string;
  /** The built pages (default: web-dist/ of this package). */
  root?: string;
}

export interface DashboardServer {
  /** The status page, e.g. http://127.0.0.1:8787/ */
  url: string;
  port: number;
  /** Stop serving (also done when the client closes). */
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Cross-origin isolated, like the other pages (the playground's workers will need it). */
const HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
} as const;

/** Built pages: web-dist/ beside dist/, in a checkout and in the installed package alike. */
export const DEFAULT_ROOT = fileURLToPath(new URL("../../web-dist/", import.meta.url));

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>tessera dashboard</title>
<p>The dashboard page is not built (web-dist/dashboard/index.html is missing): run <code>npm run build</code>.
The feed itself is live at <a href="feed.json">feed.json</a> and <code>feed</code> (Server-Sent Events).</p>`;

/** Unsent bytes past which a page counts as not keeping up (a few seconds of a busy feed). */
const MAX_BUFFERED = 4 * 2 ** 20;

interface Watcher {
  res: ServerResponse;
  /** Its socket's buffer is full: send nothing until it drains, then a snapshot. */
  behind: boolean;
}

/** Serve the dashboard for `client`'s cluster; sets `client.dashboardLink`. */
export async function startDashboard(client: Client, options: DashboardOptions = {}): Promise<DashboardServer> {
  return serve(client, options);
}

/** Serve the built pages (web-dist/) alone, with no feed: the landing page at "/". */
export function servePages(options: DashboardOptions = {}): Promise<DashboardServer> {
  return serve(undefined, options);
}

async function serve(client: Client | undefined, options: DashboardOptions): Promise<DashboardServer> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TesseraError(`dashboard port must be an integer from 0 to 65535, got ${port}`);
  const root = resolve(options.root ?? DEFAULT_ROOT);
  const collector = client ? metricsOf(client.runner) : undefined;
  const watchers = new Set<Watcher>();

  const event = (m: FeedMessage): string => `data: ${JSON.stringify(m)}\n\n`;
  /** Write to one page; past MAX_BUFFERED unsent bytes it is behind until its buffer drains. */
  const send = (w: Watcher, text: string): void => {
    if (!collector) return;
    if (w.behind) return;
    w.res.write(text);
    if (w.res.writableLength <= MAX_BUFFERED) return;
    w.behind = true;
    w.res.once("drain", () => {
      w.behind = false;
      // Whatever the snapshot's size: it is not checked, so a big one cannot loop.
      w.res.write(event(collector.snapshot()));
    });
  };
  // One subscription for all pages; each page gets its own snapshot when it connects.
  const unsubscribe = collector
    ? collector.subscribe(
        (m) => {
          if (watchers.size === 0) return;
          const text = event(m);
          for (const w of watchers) send(w, text);
        },
        { snapshot: false },
      )
    : () => {};

  const watch = (req: IncomingMessage, res: ServerResponse, collector: MetricsCollector): void => {
    res.writeHead(200, {
      ...HEADERS,
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
    });
    const w: Watcher = { res, behind: false };
    watchers.add(w);
    req.on("close", () => watchers.delete(w));
    send(w, `retry: 1000\n\n${event(collector.snapshot())}`);
  };

  const server = createServer((req, res) => {
    const method = req.method ?? "GET";
    const reply = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { ...HEADERS, "Content-Type": type, "Cache-Control": "no-store" });
      res.end(method === "HEAD" ? undefined : body);
    };
    if (method !== "GET" && method !== "HEAD") return reply(405, "text/plain; charset=utf-8", "method not allowed");
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      return reply(400, "text/plain; charset=utf-8", "bad path");
    }
    if (collector) {
      if (path === "/feed") return watch(req, res, collector);
      if (path === "/feed.json") return reply(200, MIME[".json"]!, JSON.stringify(collector.snapshot()));
      if (path === "/graph.json") {
        const limit = Number(new URL(req.url ?? "/", "http://x").searchParams.get("limit") ?? GRAPH_LIMIT);
        if (!Number.isInteger(limit) || limit < 0) return reply(400, "text/plain; charset=utf-8", `graph.json: limit must be a non-negative integer`);
        return reply(200, MIME[".json"]!, JSON.stringify(collector.graph(limit)));
      }
      if (path === "/" || path === "/index.html") path = "/dashboard/index.html";
    } else if (path === "/") path = "/index.html";
    if (path === "/dashboard" || path === "/dashboard/") path = "/dashboard/index.html";
    if (path.endsWith("/")) path += "index.html";
    void serveFile(root, path).then(
      (file) => {
        if (file) reply(200, MIME[extname(path).toLowerCase()] ?? "application/octet-stream", file);
        else if (path === "/dashboard/index.html") reply(200, MIME[".html"]!, NOT_BUILT);
        else reply(404, "text/plain; charset=utf-8", `not found: ${path}`);
      },
      (err: Error) => reply(500, "text/plain; charset=utf-8", `cannot read ${path}: ${err.message}`),
    );
  });

  await new Promise<void>((ok, fail) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const why = err.code === "EADDRINUSE" ? `port ${port} is in use; pass { port: 0 } for a free one` : err.message;
      unsubscribe();
      fail(new TesseraError(`dashboard: cannot listen on ${host}:${port}: ${why}`, { cause: err }));
    });
    server.listen(port, host, () => ok());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${shownHost}:${bound}/`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((ok) => {
      unsubscribe();
      for (const w of watchers) w.res.end();
      watchers.clear();
      if (client && client.dashboardLink === url) client.dashboardLink = undefined;
      server.closeAllConnections();
      server.close(() => ok());
    }));
  if (client) {
    client.dashboardLink = url;
    client.whenClosed(close);
  }
  return { url, port: bound, close };
}

/** A file under `root`, or undefined when there is none (or the path leaves root). */
async function serveFile(root: string, path: string): Promise<Buffer | undefined> {
  const file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root + sep)) return undefined;
  try {
    if (!(await stat(file)).isFile()) return undefined;
  } catch {
    return undefined;
  }
  return readFile(file);
}
