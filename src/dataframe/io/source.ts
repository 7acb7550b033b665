/**
 * Sources: where a dataset's files come from, named by plain data (a SourceRef) that a worker
 * can reopen by itself, then read by byte ranges (a ByteSource), never whole.
 *
 *   what the user passes          SourceRef                  how a worker reads it
 *   "data/x.parquet", a dir, glob  { kind: "path", path }     fs range reads (Node only)
 *   "https://host/x.parquet"      { kind: "url", url }       fetch with Range headers
 *   File / Blob                   { kind: "blob", blob }     blob.slice (a Blob clones to workers)
 *   AsyncBuffer                   { kind: "buffer", id }     only on the thread that made it
 *   a list of any of these        one ref per file, in order
 *
 * Sizes are learnt once, on the client (stat, or HEAD / a one-byte range for URLs), and travel in
 * the ref, so a worker opening a URL goes straight to its range requests.
 *
 * An AsyncBuffer (`{ byteLength, slice(start, end) }`, hyparquet's file interface) is code, and
 * code does not cross threads: its ref holds an id into this realm's registry (and, out of
 * sight of structured cloning, the buffer itself, so it lives as long as the ref). The inline
 * executor runs on this thread and finds it; a worker thread gets a clear error instead.
 *
 * Node's file system is reached through source-node.ts, loaded by a dynamic import that only
 * runs where `process.versions.node` exists: nothing here imports a `node:` module.
 */

import { TesseraError } from "../../errors.js";
import type { LocalFile } from "./source-node.js";

/** hyparquet's file interface: a length and (possibly async) slices. */
export interface AsyncBufferLike {
  byteLength: number;
  slice(start: number, end?: number): ArrayBuffer | Promise<ArrayBuffer>;
}

export type SourceItem = string | URL | Blob | AsyncBufferLike;
export type SourceInput = SourceItem | readonly SourceItem[];

export type SourceRef =
  | { kind: "path"; path: string; size: number }
  | { kind: "url"; url: string; size: number }
  | { kind: "blob"; blob: Blob; name: string }
  | { kind: "buffer"; id: string; name: string; size: number };

/** An open source: bytes by range. */
export interface ByteSource {
  /** For messages: the path, URL or name. */
  readonly name: string;
  readonly byteLength: number;
  /** Bytes [start, end), `end` clipped to the size. */
  read(start: number, end: number): Promise<Uint8Array>;
  /**
   * Optional: bytes [start, start + target.length) into `target` (all of them, or an error), so
   * a reader can reuse one buffer instead of a new one per read (fresh memory costs page faults).
   */
  readInto?(start: number, target: Uint8Array): Promise<void>;
  /**
   * Optional: readInto, synchronously (local files: a pread on the calling thread). A decoder
   * that reads small windows just before decoding them uses it (parquet-chunk.ts).
   */
  readIntoSync?(start: number, target: Uint8Array): void;
  /** Optional: readIntoSync into several buffers, filled in order from `start` (one readv). */
  readvIntoSync?(start: number, targets: Uint8Array[]): void;
  close(): Promise<void>;
}

type NodeSources = typeof import("./source-node.js");

// Through a variable, so bundlers leave the Node-only module out of browser builds.
const NODE_SOURCES = "./source-node.js";

export function isNode(): boolean {
  return typeof process !== "undefined" && typeof process.versions?.node === "string";
}

async function nodeSources(what: string, spec: string): Promise<NodeSources> {
  if (!isNode()) {
    throw new TesseraError(`${what}: cannot read the path ${JSON.stringify(spec)} here (no file system); in a browser pass a URL, a File or a Blob`);
  }
  return (await import(/* @vite-ignore */ NODE_SOURCES)) as NodeSources;
}

const isHttp = (s: string): boolean => /^https?:\/\//i.test(s);

function isBlob(x: unknown): x is Blob {
  return typeof Blob !== "undefined" && x instanceof Blob;
}

function isAsyncBuffer(x: unknown): x is AsyncBufferLike {
  return x !== null && typeof x === "object" && typeof (x as AsyncBufferLike).byteLength === "number" && typeof (x as AsyncBufferLike).slice === "function";
}

/** The size of the file a ref names, in bytes. */
export function sourceSize(ref: SourceRef): number {
  return ref.kind === "blob" ? ref.blob.size : ref.size;
}

/** A display name for a ref (in messages and part descriptions). */
export function sourceName(ref: SourceRef): string {
  switch (ref.kind) {
    case "path":
      return ref.path;
    case "url":
      return ref.url;
    case "blob":
    case "buffer":
      return ref.name;
  }
}

// ---------------------------------------------------------------------------------------------
// AsyncBuffers: a registry in this realm, by id.

const bufferIds = new WeakMap<object, string>();
const buffers = new Map<string, WeakRef<AsyncBufferLike>>();
let nextBuffer = 0;

function bufferRef(buf: AsyncBufferLike): SourceRef {
  let id = bufferIds.get(buf);
  if (id === undefined) {
    id = `asyncbuffer-${++nextBuffer}-${Math.random().toString(36).slice(2, 10)}`;
    bufferIds.set(buf, id);
    buffers.set(id, new WeakRef(buf));
  }
  const named = (buf as { name?: unknown }).name;
  const name = typeof named === "string" && named ? named : `<AsyncBuffer of ${buf.byteLength} bytes>`;
  const ref: SourceRef = { kind: "buffer", id, name, size: buf.byteLength };
  // Keeps the buffer alive with the ref; not enumerable, so cloning and the wire leave it out.
  Object.defineProperty(ref, "buffer", { value: buf, enumerable: false });
  return ref;
}

function lookupBuffer(ref: Extract<SourceRef, { kind: "buffer" }>, what: string): AsyncBufferLike {
  const buf = (ref as { buffer?: AsyncBufferLike }).buffer ?? buffers.get(ref.id)?.deref();
  if (!buf) {
    throw new TesseraError(
      `${what}: ${ref.name} is an AsyncBuffer, which cannot be read on another thread or process (it is code, not data); ` +
        `run with the inline executor (LocalCluster.start({ inline: true })) or pass a path, URL, File or Blob instead`,
    );
  }
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Resolving what the user passed into refs (client side).

/** Every file the input names, in order (globs and directories expanded and sorted), with sizes. */
export async function resolveSources(input: SourceInput, what: string): Promise<SourceRef[]> {
  const items: readonly SourceItem[] = Array.isArray(input) ? (input as readonly SourceItem[]) : [input as SourceItem];
  if (items.length === 0) throw new TesseraError(`${what}: no files given (an empty list)`);
  const out: SourceRef[] = [];
  for (const item of items) {
    if (item instanceof URL) out.push(...(await resolveString(item.href, what)));
    else if (typeof item === "string") out.push(...(await resolveString(item, what)));
    else if (isBlob(item)) out.push({ kind: "blob", blob: item, name: blobName(item) });
    else if (isAsyncBuffer(item)) out.push(bufferRef(item));
    else {
      const got = item === null ? "null" : Array.isArray(item) ? "a nested list" : typeof item;
      throw new TesseraError(`${what}: expected a path, glob, URL, File, Blob or AsyncBuffer (or a list of them), got ${got}`);
    }
  }
  return out;
}

function blobName(b: Blob): string {
  const name = (b as { name?: unknown }).name;
  return typeof name === "string" && name ? name : `<Blob of ${b.size} bytes>`;
}

async function resolveString(spec: string, what: string): Promise<SourceRef[]> {
  if (isHttp(spec)) return [{ kind: "url", url: spec, size: await httpSize(spec, what) }];
  const node = await nodeSources(what, spec);
  const files: LocalFile[] = await node.expandLocal(spec, what);
  return files.map((f) => ({ kind: "path", path: f.path, size: f.size }));
}

// ---------------------------------------------------------------------------------------------
// Opening refs (worker side, or the client for footers).

export async function openSource(ref: SourceRef, what: string): Promise<ByteSource> {
  switch (ref.kind) {
    case "path":
      return (await nodeSources(what, ref.path)).openLocal(ref.path, what, ref.size);
    case "url":
      return httpSource(ref.url, ref.size, what);
    case "blob":
      return blobSource(ref.blob, ref.name);
    case "buffer":
      return asyncBufferSource(lookupBuffer(ref, what), ref.name, what);
    default:
      throw new TesseraError(`${what}: unknown source ${JSON.stringify(ref)}`);
  }
}

function clip(start: number, end: number, size: number): [number, number] {
  const s = Math.max(0, Math.min(start, size));
  return [s, Math.max(s, Math.min(end, size))];
}

function blobSource(blob: Blob, name: string): ByteSource {
  return {
    name,
    byteLength: blob.size,
    async read(start, end) {
      const [s, e] = clip(start, end, blob.size);
      return new Uint8Array(await blob.slice(s, e).arrayBuffer());
    },
    close: async () => {},
  };
}

function asyncBufferSource(buf: AsyncBufferLike, name: string, what: string): ByteSource {
  return {
    name,
    byteLength: buf.byteLength,
    async read(start, end) {
      const [s, e] = clip(start, end, buf.byteLength);
      const got = await buf.slice(s, e);
      if (!(got instanceof ArrayBuffer) || got.byteLength < e - s) {
        const size = got instanceof ArrayBuffer ? `${got.byteLength} bytes` : `a ${typeof got}`;
        throw new TesseraError(`${what}: ${name}: slice(${s}, ${e}) returned ${size}, expected an ArrayBuffer of ${e - s} bytes`);
      }
      return new Uint8Array(got, 0, e - s);
    },
    close: async () => {},
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP(S): the size once (HEAD, else a one-byte range), then one Range request per read.

async function fetchOrFail(url: string, init: RequestInit, what: string, doing: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    throw new TesseraError(`${what}: ${doing} ${url} failed: ${(err as Error).message}`, { cause: err });
  }
}

function httpError(what: string, url: string, doing: string, res: Response): TesseraError {
  return new TesseraError(`${what}: ${doing} ${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
}

async function httpSize(url: string, what: string): Promise<number> {
  const head = await fetchOrFail(url, { method: "HEAD" }, what, "HEAD");
  // A HEAD answer has no body, but Chromium reports one never read as an aborted request
  // (net::ERR_ABORTED, in DevTools and to Playwright): read the empty body to finish it.
  await head.arrayBuffer().catch(() => undefined);
  const length = Number(head.headers.get("content-length") ?? NaN);
  if (head.ok && !head.headers.get("content-encoding") && Number.isSafeInteger(length)) return length;
  if (head.status === 404 || head.status === 401 || head.status === 403 || head.status === 410) throw httpError(what, url, "HEAD", head);
  // No usable HEAD: the total from a one-byte range's Content-Range.
  const probe = await fetchOrFail(url, { headers: { Range: "bytes=0-0" } }, what, "GET");
  await probe.body?.cancel();
  const total = Number(/\/(\d+)\s*$/.exec(probe.headers.get("content-range") ?? "")?.[1] ?? NaN);
  if (probe.status === 206 && Number.isSafeInteger(total)) return total;
  if (!probe.ok) throw httpError(what, url, "GET", probe);
  // A server that ignores ranges: its whole-file answer says the length (reads will slice it).
  const whole = Number(probe.headers.get("content-length") ?? NaN);
  if (probe.status === 200 && !probe.headers.get("content-encoding") && Number.isSafeInteger(whole)) return whole;
  throw new TesseraError(`${what}: ${url}: cannot learn the file's size (no Content-Length on HEAD and no Content-Range on a range request); the server must support HEAD or Range requests`);
}

function httpSource(url: string, size: number, what: string): ByteSource {
  return {
    name: url,
    byteLength: size,
    async read(start, end) {
      const [s, e] = clip(start, end, size);
      if (e === s) return new Uint8Array(0);
      const range = `bytes=${s}-${e - 1}`;
      const res = await fetchOrFail(url, { headers: { Range: range } }, what, `GET (${range})`);
      if (res.status !== 206 && res.status !== 200) throw httpError(what, url, `GET (${range})`, res);
      const body = new Uint8Array(await res.arrayBuffer());
      // 200: the server ignored the range and sent the whole file.
      const bytes = res.status === 200 ? body.subarray(s, e) : body;
      if (bytes.length !== e - s) {
        throw new TesseraError(`${what}: GET ${url} (${range}) returned ${bytes.length} bytes, expected ${e - s} (did the file change?)`);
      }
      return bytes;
    },
    close: async () => {},
  };
}
