/**
 * Byte ranges of the files a CSV dataset reads: Node paths (and file: URLs), http(s) URLs
 * (Range requests), and Blobs / Files. A file reference is plain data (a string or a Blob, both
 * structured-clonable), so it travels inside a partition's task spec to the worker that reads it.
 *
 * Interim: this is the CSV reader's own minimal source layer. The shared source abstraction
 * (io/source*.ts: globs, lists, URLs, File/Blob, AsyncBuffer) should replace it; only
 * `listFiles` and `openFile` are used outside this file.
 */

import { TesseraError } from "../../errors.js";

export type FileRef = string | Blob;

/** One file, or several: paths, URLs, Blobs, and (Node) globs with * ? in the file name. */
export type CsvSource = FileRef | readonly FileRef[];

export interface ByteReader {
  /** For messages. */
  readonly name: string;
  readonly size: number;
  /** Bytes [start, end), end clipped to the size. */
  read(start: number, end: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

type Fs = typeof import("node:fs/promises");
type Path = typeof import("node:path");

// Through a variable, so browser bundlers leave Node's modules alone.
const FS = "node:fs/promises";
const PATH = "node:path";
const URL_MOD = "node:url";

function isNode(): boolean {
  return typeof process !== "undefined" && typeof process.versions?.node === "string";
}

const isHttp = (s: string) => /^https?:\/\//i.test(s);

export function fileName(ref: FileRef): string {
  if (typeof ref === "string") return ref;
  const name = (ref as { name?: unknown }).name;
  return typeof name === "string" && name ? name : `<Blob of ${ref.size} bytes>`;
}

async function localPath(ref: string): Promise<string> {
  if (!/^file:/i.test(ref)) return ref;
  const { fileURLToPath } = (await import(/* @vite-ignore */ URL_MOD)) as typeof import("node:url");
  return fileURLToPath(ref);
}

/** Every file the source names, globs expanded (sorted), in order. */
export async function listFiles(source: CsvSource): Promise<FileRef[]> {
  const refs = Array.isArray(source) ? (source as readonly FileRef[]) : [source as FileRef];
  if (refs.length === 0) throw new TesseraError("readCsv: no files given");
  const out: FileRef[] = [];
  for (const ref of refs) {
    if (typeof ref === "string" && !isHttp(ref) && /[*?]/.test(ref)) out.push(...(await glob(await localPath(ref))));
    else if (typeof ref === "string" || (typeof Blob !== "undefined" && ref instanceof Blob)) out.push(ref);
    else throw new TesseraError(`readCsv: expected a path, URL, Blob or File, got ${ref === null ? "null" : typeof ref}`);
  }
  return out;
}

async function glob(pattern: string): Promise<string[]> {
  if (!isNode()) throw new TesseraError(`readCsv: glob ${JSON.stringify(pattern)} needs a file system (Node); in a browser pass URLs or Files`);
  const fs = (await import(/* @vite-ignore */ FS)) as Fs;
  const path = (await import(/* @vite-ignore */ PATH)) as Path;
  const dir = path.dirname(pattern);
  if (/[*?]/.test(dir)) throw new TesseraError(`readCsv: glob ${JSON.stringify(pattern)}: wildcards are supported in the file name only`);
  const base = path.basename(pattern);
  const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    throw new TesseraError(`readCsv: cannot list ${dir} for glob ${JSON.stringify(pattern)}: ${(err as Error).message}`, { cause: err });
  }
  const found = names.filter((n) => re.test(n)).sort().map((n) => path.join(dir, n));
  if (found.length === 0) throw new TesseraError(`readCsv: no files match ${JSON.stringify(pattern)}`);
  return found;
}

export async function openFile(ref: FileRef): Promise<ByteReader> {
  if (typeof ref !== "string") return blobReader(ref);
  if (isHttp(ref)) return httpReader(ref);
  if (!isNode()) throw new TesseraError(`readCsv: cannot read path ${JSON.stringify(ref)} here (no file system); pass a URL or a File`);
  const fs = (await import(/* @vite-ignore */ FS)) as Fs;
  const where = await localPath(ref);
  let handle: Awaited<ReturnType<Fs["open"]>>;
  try {
    handle = await fs.open(where, "r");
  } catch (err) {
    throw new TesseraError(`readCsv: cannot open ${ref}: ${(err as Error).message}`, { cause: err });
  }
  const size = (await handle.stat()).size;
  return {
    name: ref,
    size,
    async read(start, end) {
      const to = Math.min(end, size);
      const buf = new Uint8Array(Math.max(0, to - start));
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await handle.read(buf, got, buf.length - got, start + got);
        if (bytesRead === 0) throw new TesseraError(`readCsv: ${ref} ended at byte ${start + got}, expected ${size} bytes (did it change while being read?)`);
        got += bytesRead;
      }
      return buf;
    },
    close: () => handle.close(),
  };
}

function blobReader(blob: Blob): ByteReader {
  return {
    name: fileName(blob),
    size: blob.size,
    async read(start, end) {
      return new Uint8Array(await blob.slice(start, Math.min(end, blob.size)).arrayBuffer());
    },
    close: async () => {},
  };
}

async function httpReader(url: string): Promise<ByteReader> {
  const fail = (what: string, err?: unknown) => new TesseraError(`readCsv: ${url}: ${what}`, err === undefined ? undefined : { cause: err });
  let size: number | undefined;
  let whole: Uint8Array | undefined;
  try {
    const head = await fetch(url, { headers: { Range: "bytes=0-0" } });
    if (head.status === 206) size = Number(/\/(\d+)$/.exec(head.headers.get("content-range") ?? "")?.[1]);
    await head.body?.cancel();
    if (size === undefined || !Number.isFinite(size)) {
      // No range support: one download, served from memory.
      const res = await fetch(url);
      if (!res.ok) throw fail(`HTTP ${res.status} ${res.statusText}`);
      whole = new Uint8Array(await res.arrayBuffer());
      size = whole.length;
    }
  } catch (err) {
    if (err instanceof TesseraError) throw err;
    throw fail(`cannot fetch: ${(err as Error).message}`, err);
  }
  const total = size;
  return {
    name: url,
    size: total,
    async read(start, end) {
      const to = Math.min(end, total);
      if (to <= start) return new Uint8Array(0);
      if (whole) return whole.subarray(start, to);
      const res = await fetch(url, { headers: { Range: `bytes=${start}-${to - 1}` } });
      if (res.status !== 206) {
        if (!res.ok) throw fail(`HTTP ${res.status} ${res.statusText} for bytes ${start}-${to - 1}`);
        return new Uint8Array(await res.arrayBuffer()).subarray(start, to);
      }
      return new Uint8Array(await res.arrayBuffer());
    },
    close: async () => {},
  };
}
