import { once } from "node:events";
import { readdirSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parquetMetadata } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { concatFrames, type Frame } from "../../src/dataframe/frame.js";
import { hasGlobMagic, segmentRegExp } from "../../src/dataframe/io/glob.js";
import { resolveParquet } from "../../src/dataframe/io/parquet.js";
import { openSource, resolveSources, type SourceRef } from "../../src/dataframe/io/source.js";
import { columnsOf, countingBuffer, parquetBytes, readAll, readParts, sortedFile } from "./parquet-helpers.js";

/** A file with one int32 column `i` holding from..from+n-1. */
function ints(from: number, n: number): Uint8Array<ArrayBuffer> {
  const frame: Frame = { length: n, names: ["i"], columns: [{ type: "int32", data: new Int32Array(n).map((_, k) => from + k) }] };
  return parquetBytes(frame);
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-parquet-"));
  await mkdir(join(dir, "sub", "deeper"), { recursive: true });
  await writeFile(join(dir, "p1.parquet"), ints(10, 2));
  await writeFile(join(dir, "p0.parquet"), ints(0, 3));
  await writeFile(join(dir, "sub", "p2.parquet"), ints(20, 1));
  await writeFile(join(dir, "sub", "deeper", "p3.parquet"), ints(30, 1));
  await writeFile(join(dir, "_metadata"), "not data");
  await writeFile(join(dir, ".p9.parquet.crc"), "not data");
  await writeFile(join(dir, "notes.txt"), "not parquet at all, but long enough to have an end");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const names = (refs: SourceRef[]) => refs.map((r) => (r.kind === "path" ? r.path.slice(dir.length + 1) : r.kind));

describe("sources: paths, globs, directories, lists", () => {
  it("expands globs, sorted, with * ? [] and **", async () => {
    expect(names(await resolveSources(join(dir, "*.parquet"), "t"))).toEqual(["p0.parquet", "p1.parquet"]);
    expect(names(await resolveSources(join(dir, "p?.parq*"), "t"))).toEqual(["p0.parquet", "p1.parquet"]);
    expect(names(await resolveSources(join(dir, "p[!0].parquet"), "t"))).toEqual(["p1.parquet"]);
    expect(names(await resolveSources(join(dir, "**", "*.parquet"), "t"))).toEqual(["p0.parquet", "p1.parquet", "sub/deeper/p3.parquet", "sub/p2.parquet"]);
    expect(names(await resolveSources(join(dir, "sub", "**", "p*.parquet"), "t"))).toEqual(["sub/deeper/p3.parquet", "sub/p2.parquet"]);
    await expect(resolveSources(join(dir, "*.nope"), "readParquet")).rejects.toThrow(/readParquet: no files match ".*\*\.nope"/);
    expect(hasGlobMagic("a/b.parquet")).toBe(false);
    expect(segmentRegExp("part-[0-9]*.parquet").test("part-7.x.parquet")).toBe(true);
    expect(segmentRegExp("a.b").test("axb")).toBe(false);
  });

  it("reads a directory (skipping _ and . files), a relative path, a file: URL", async () => {
    const all = await resolveSources(join(dir, "sub"), "t");
    expect(names(all)).toEqual(["sub/deeper/p3.parquet", "sub/p2.parquet"]);
    const url = pathToFileURL(join(dir, "p0.parquet"));
    expect(columnsOf(await readAll(url)).i).toEqual([0, 1, 2]);
    expect(columnsOf(await readAll(url.href)).i).toEqual([0, 1, 2]);
  });

  it("reads a glob as one dataset, one partition per row group, in file order", async () => {
    const ds = await resolveParquet(join(dir, "**", "p*.parquet"));
    expect(ds.parts.map((p) => p.file.slice(dir.length + 1))).toEqual(["p0.parquet", "p1.parquet", "sub/deeper/p3.parquet", "sub/p2.parquet"]);
    expect(ds.rows).toEqual([3, 2, 1, 1]);
    expect(columnsOf(concatFrames(await readParts(ds))).i).toEqual([0, 1, 2, 10, 11, 30, 20]);
  });

  it("reads a list mixing a path, a glob, a Blob, a File and an AsyncBuffer", async () => {
    const blob = new Blob([ints(40, 2)]);
    const file = new File([ints(50, 1)], "fifty.parquet");
    const buf = countingBuffer(ints(60, 2));
    const ds = await resolveParquet([join(dir, "p1.parquet"), join(dir, "sub", "*.parquet"), blob, file, buf]);
    expect(ds.parts.map((p) => p.source.kind)).toEqual(["path", "path", "blob", "blob", "buffer"]);
    expect(ds.parts[3]!.file).toBe("fifty.parquet");
    expect(ds.parts[2]!.file).toMatch(/^<Blob of \d+ bytes>$/);
    expect(columnsOf(concatFrames(await readParts(ds))).i).toEqual([10, 11, 20, 40, 41, 50, 60, 61]);
  });

  it("says which files disagree on a column's type", async () => {
    const other: Frame = { length: 1, names: ["i"], columns: [{ type: "float64", data: Float64Array.of(1) }] };
    await writeFile(join(dir, "sub", "deeper", "float.parq"), parquetBytes(other));
    await expect(resolveParquet([join(dir, "p0.parquet"), join(dir, "sub", "deeper", "float.parq")])).rejects.toThrow(
      /column "i" is int32 in .*p0\.parquet but float64 in .*float\.parq; the files must agree/,
    );
  });

  it("fails clearly on missing files, non-Parquet files, empty lists and wrong inputs", async () => {
    await expect(resolveParquet(join(dir, "missing.parquet"))).rejects.toThrow(/readParquet: no such file or directory: ".*missing\.parquet"/);
    await expect(resolveParquet(join(dir, "notes.txt"))).rejects.toThrow(/notes\.txt: not a Parquet file: it ends in " end", not "PAR1"/);
    await expect(resolveParquet(new Blob(["tiny"]))).rejects.toThrow(/<Blob of 4 bytes>: not a Parquet file: 4 bytes is too small/);
    await expect(resolveParquet(join(dir, "_metadata"))).rejects.toThrow(/not a Parquet file/);
    await expect(resolveParquet([])).rejects.toThrow(/no files given/);
    await expect(resolveParquet(42 as never)).rejects.toThrow(/expected a path, glob, URL, File, Blob or AsyncBuffer .* got number/);
    await expect(resolveParquet(join(dir, "p0.parquet"), { columns: ["i", "j"] })).rejects.toThrow(/no column "j" in .*p0\.parquet; its columns are "i"/);
    await expect(resolveParquet(join(dir, "p0.parquet"), { columns: ["i", "i"] })).rejects.toThrow(/name a column twice/);
  });

  it("names the file when it is gone or changed between the footer and the read, and leaves no descriptor open", async () => {
    const descriptors = () => readdirSync("/proc/self/fd").length;
    const file = join(dir, "changing.parquet");
    await writeFile(file, ints(0, 5));
    const ds = await resolveParquet(file);
    const before = descriptors();
    await writeFile(file, ints(0, 50));
    await expect(readParts(ds)).rejects.toThrow(/changing\.parquet is \d+ bytes now but was \d+ bytes when its footer was read; it changed while being read/);
    await rm(file);
    await expect(readParts(ds)).rejects.toThrow(/readParquet: cannot open .*changing\.parquet: ENOENT/);
    const p0 = join(dir, "p0.parquet");
    const src = await openSource({ kind: "path", path: p0, size: statSync(p0).size }, "test");
    expect(descriptors()).toBe(before + 1);
    await src.close();
    await src.close(); // twice is harmless
    expect(descriptors()).toBe(before);
  });

  it("refuses an AsyncBuffer on another thread, pointing to the inline executor", async () => {
    const ds = await resolveParquet(countingBuffer(ints(0, 1)));
    const ref = ds.parts[0]!.source;
    // What a worker thread receives: a clone, without the buffer, in a realm whose registry lacks its id.
    const elsewhere = { ...structuredClone(ref), id: "asyncbuffer-from-another-thread" };
    await expect(openSource(elsewhere, "readParquet")).rejects.toThrow(
      /readParquet: <AsyncBuffer of \d+ bytes> is an AsyncBuffer, which cannot be read on another thread .*inline executor \(LocalCluster\.start\(\{ inline: true \}\)\) or pass a path, URL, File or Blob/,
    );
    // On this thread (the inline executor) the clone still finds it by id.
    expect((await openSource(structuredClone(ref), "t")).byteLength).toBeGreaterThan(0);
  });
});

describe("sources: http(s) with range requests", () => {
  let server: Server;
  let base: string;
  const log: { method: string; url: string; range: string | undefined; bytes: number }[] = [];
  const big = sortedFile(100_000, 50_000);
  const small = ints(0, 5);

  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = req.url === "/big.parquet" ? big : req.url === "/small.parquet" ? small : req.url === "/norange.parquet" ? small : undefined;
      const entry = { method: req.method!, url: req.url!, range: req.headers.range, bytes: 0 };
      log.push(entry);
      if (!body) {
        res.writeHead(404, "Not Found").end();
        return;
      }
      if (req.method === "HEAD") {
        res.writeHead(req.url === "/norange.parquet" ? 405 : 200, { "Content-Length": String(body.length) }).end();
        return;
      }
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
      if (m && req.url !== "/norange.parquet") {
        const s = Number(m[1]);
        const e = Math.min(Number(m[2]) + 1, body.length);
        entry.bytes = e - s;
        res.writeHead(206, { "Content-Range": `bytes ${s}-${e - 1}/${body.length}`, "Content-Length": String(e - s) }).end(body.subarray(s, e));
      } else {
        entry.bytes = body.length;
        res.writeHead(200, { "Content-Length": String(body.length) }).end(body);
      }
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("reads the footer and the projected chunks only, one range request each", async () => {
    log.length = 0;
    const ds = await resolveParquet(`${base}/big.parquet`, { columns: ["x"] });
    expect(log.map((r) => r.method)).toEqual(["HEAD", "GET"]);
    expect(log[1]!.range).toBe(`bytes=${big.length - 65536}-${big.length - 1}`);
    const meta = parquetMetadata(big.slice().buffer);
    log.length = 0;
    const frames = await readParts(ds);
    expect(concatFrames(frames).length).toBe(100_000);
    // One GET per row group, for exactly the bytes of column x's chunk.
    const chunks = meta.row_groups.map((rg) => Number(rg.columns[0]!.meta_data!.total_compressed_size));
    expect(log.map((r) => r.method)).toEqual(["GET", "GET"]);
    expect(log.map((r) => r.bytes).sort()).toEqual([...chunks].sort());
    expect(log.reduce((s, r) => s + r.bytes, 0)).toBeLessThan(big.length / 3);
  });

  it("learns the size without HEAD, and copes with a server that ignores ranges", async () => {
    log.length = 0;
    const f = await readAll(`${base}/norange.parquet`);
    expect(columnsOf(f).i).toEqual([0, 1, 2, 3, 4]);
    expect(log[0]).toMatchObject({ method: "HEAD" });
    expect(log[1]).toMatchObject({ method: "GET", range: "bytes=0-0" });
  });

  it("names the URL and the HTTP status when a request fails", async () => {
    await expect(resolveParquet(`${base}/missing.parquet`)).rejects.toThrow(new RegExp(`readParquet: HEAD ${base}/missing\\.parquet: HTTP 404 Not Found`));
    const ds = await resolveParquet(`${base}/small.parquet`);
    const gone = { ...ds.parts[0]!, source: { kind: "url" as const, url: `${base}/gone.parquet`, size: small.length } };
    await expect(readParts({ ...ds, parts: [gone] })).rejects.toThrow(new RegExp(`readParquet: GET \\(bytes=\\d+-\\d+\\) ${base}/gone\\.parquet: HTTP 404`));
    await expect(resolveParquet("http://127.0.0.1:1/x.parquet")).rejects.toThrow(/readParquet: HEAD http:\/\/127\.0\.0\.1:1\/x\.parquet failed/);
  });
});
