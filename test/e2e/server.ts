/**
 * A tiny static server for the built pages (web-dist/) in e2e tests: node:http only, with the
 * COOP/COEP headers that make pages cross-origin isolated and the MIME types module scripts,
 * workers and WebAssembly need. Listens on a free port unless told otherwise.
 */

import { createServer, type Server } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { AddressInfo } from "node:net";

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
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".arrow": "application/vnd.apache.arrow.file",
  ".parquet": "application/octet-stream",
  ".csv": "text/csv; charset=utf-8",
};

export const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  // Same-origin resources pass COEP anyway; this also lets other isolated origins embed them.
  "Cross-Origin-Resource-Policy": "same-origin",
} as const;

export interface StaticServer {
  /** Base URL with a trailing slash, e.g. http://127.0.0.1:40123/ */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serve `root` (GET/HEAD; a directory serves its index.html) on 127.0.0.1:`port`. */
export async function serveStatic(root: string, port = 0): Promise<StaticServer> {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, "Content-Type": "text/plain; charset=utf-8" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed");
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      return send(400, "bad path");
    }
    let file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) return send(403, "outside the served folder");
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, {
        ...ISOLATION_HEADERS,
        "Content-Type": MIME[extname(file).toLowerCase()] ?? "application/octet-stream",
        "Content-Length": body.byteLength,
        "Cache-Control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      send(404, `not found: ${path}`);
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ok());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    server,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((err) => (err ? fail(err) : ok()));
      }),
  };
}
