/**
 * A tiny static server for the built pages (web-dist/) in e2e tests: node:http only, with the
 * COOP/COEP headers that make pages cross-origin isolated and the MIME types module scripts,
 * workers and WebAssembly need. Listens on a free port unless told otherwise.
 *
 * It answers single-range requests (`Range: bytes=a-b`, `a-`, `-n`) with 206 and Content-Range,
 * as a CDN would, so readers that fetch byte ranges (readParquet by URL) can be tested; other
 * Range forms get the whole file (200), which HTTP allows. Extra folders can be mounted under a
 * URL prefix (`mounts: { "data/": dir }`), and every request is logged with the bytes of body
 * sent, so a test can check what a page read.
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

/** One request the server answered. */
export interface ServedRequest {
  method: string;
  /** The URL path, decoded (no query). */
  path: string;
  /** The Range header, if any. */
  range?: string;
  status: number;
  /** Bytes of body sent (0 for HEAD). */
  bytes: number;
}

export interface StaticServer {
  /** Base URL with a trailing slash, e.g. http://127.0.0.1:40123/ */
  url: string;
  server: Server;
  /** Every request answered, in order. */
  requests: ServedRequest[];
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Extra folders by URL prefix (relative, ending in "/"): `{ "data/": "/tmp/x" }` serves /tmp/x/a at /data/a. */
  mounts?: Record<string, string>;
}

/**
 * The byte range [start, end] (inclusive) a single-range header asks of a `size`-byte file;
 * "unsatisfiable" when it starts past the end; undefined when it is not one `bytes=` range
 * (the server then ignores it and sends the whole file).
 */
export function parseRange(header: string, size: number): { start: number; end: number } | "unsatisfiable" | undefined {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    // The last n bytes.
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return undefined; // invalid: ignored, as RFC 9110 says
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

/** Serve `root` (GET/HEAD; a directory serves its index.html) on 127.0.0.1:`port`. */
export async function serveStatic(root: string, port = 0, options: ServeOptions = {}): Promise<StaticServer> {
  const base = resolve(root);
  const mounts = Object.entries(options.mounts ?? {}).map(([prefix, dir]) => ({ prefix: `/${prefix.replace(/^\/+/, "").replace(/\/*$/, "/")}`, dir: resolve(dir) }));
  const requests: ServedRequest[] = [];
  const server = createServer(async (req, res) => {
    const method = req.method ?? "GET";
    const range = typeof req.headers.range === "string" ? req.headers.range : undefined;
    let path = req.url ?? "/";
    const log = (status: number, bytes: number) => requests.push({ method, path, ...(range !== undefined ? { range } : {}), status, bytes: method === "HEAD" ? 0 : bytes });
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...headers });
      res.end(method === "HEAD" ? undefined : body);
      log(status, Buffer.byteLength(body));
    };
    if (method !== "GET" && method !== "HEAD") return send(405, "method not allowed");
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      return send(400, "bad path");
    }
    const mount = mounts.find((m) => path.startsWith(m.prefix));
    const dir = mount ? mount.dir : base;
    let file = normalize(join(dir, mount ? path.slice(mount.prefix.length) : path));
    if (file !== dir && !file.startsWith(dir + sep)) return send(403, "outside the served folder");
    let body: Buffer;
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      body = await readFile(file);
    } catch {
      return send(404, `not found: ${path}`);
    }
    const headers = {
      ...ISOLATION_HEADERS,
      "Content-Type": MIME[extname(file).toLowerCase()] ?? "application/octet-stream",
      "Accept-Ranges": "bytes",
      "Cache-Control": "no-store",
    };
    const size = body.byteLength;
    const wanted = range === undefined ? undefined : parseRange(range, size);
    if (wanted === "unsatisfiable") return send(416, "range not satisfiable", { "Content-Range": `bytes */${size}` });
    if (wanted) body = body.subarray(wanted.start, wanted.end + 1);
    const status = wanted ? 206 : 200;
    res.writeHead(status, {
      ...headers,
      "Content-Length": body.byteLength,
      ...(wanted ? { "Content-Range": `bytes ${wanted.start}-${wanted.end}/${size}` } : {}),
    });
    res.end(method === "HEAD" ? undefined : body);
    log(status, body.byteLength);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ok());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    server,
    requests,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((err) => (err ? fail(err) : ok()));
      }),
  };
}
