/**
 * readParquet, worker side: one part (a few row groups of one file) into one Frame.
 *
 * For each row group in turn (checking the abort signal between them): the chunks of the
 * columns asked for, plus the columns the filters need, are read and decoded. Flat columns of a
 * local file are read a window at a time as their pages are decoded (parquet-chunk.ts: the bytes
 * are still in cache when decoded); otherwise the chunks are fetched first as byte ranges (ranges
 * less than 8 KiB apart are merged into one read, so a URL costs one request per run of adjacent
 * columns). Decoding: flat columns page by page into typed arrays (parquet-pages.ts), nested
 * ones by hyparquet into plain values (parquet-nested.ts). The filters then keep their rows, and
 * the filter-only columns are dropped.
 *
 * Every error names the file, the row group and the column (and the page, when it is a page).
 *
 * Column arrays of 1 MiB and up come from this thread's pool (parquet-pool.ts) and the frame is
 * a resource: when the worker drops it (or a fused task is done with it) and no stored value
 * owns its buffers, they are reused by the next partition read here.
 */

import type { SchemaElement } from "hyparquet";
import { TesseraError } from "../../errors.js";
import { allocColumnData, filterRows, type Column, type Frame } from "../frame.js";
import { filterColumns, filterMask, normalizeFilters, type Filters } from "./filters.js";
import type { ParquetPart } from "./parquet.js";
import { chunkInMemory, chunkWindowed, type ChunkBytes } from "./parquet-chunk.js";
import { ColumnBuilder } from "./parquet-convert.js";
import type { ChunkRef, PartRowGroup } from "./parquet-footer.js";
import { readNestedChunks } from "./parquet-nested.js";
import { decodeFlatChunk } from "./parquet-pages.js";
import { discardBuffers, releasable } from "./parquet-pool.js";
import { prepareSnappy } from "./parquet-snappy.js";
import { describeNames, planFields, type FieldPlan } from "./parquet-schema.js";
import { openSource, type ByteSource } from "./source.js";

const WHAT = "readParquet";
/** Byte ranges closer than this are read as one. */
const MERGE_GAP = 8 * 1024;

function checkPart(part: unknown): ParquetPart {
  const p = part as ParquetPart;
  if (!p || typeof p !== "object" || !p.source || !p.footer || !Array.isArray(p.footer.rowGroups) || !Array.isArray(p.footer.schema)) {
    throw new TesseraError(`${WHAT}: expected a part made by resolveParquet, got ${p === null ? "null" : typeof p}`);
  }
  return p;
}

/**
 * One buffer this thread reuses for the chunk bytes of row groups whose columns are all flat:
 * their decoding keeps no view of those bytes (pages are copied or decoded out of them), and a
 * fresh buffer per row group costs a page fault per 4 KiB (on some VMs more than the decode).
 */
let pool = new Uint8Array(0);
let poolBusy = false;
const POOL_KEEP = 64 * 1024 * 1024;

interface Fetched {
  chunks: Uint8Array[];
  /** Gives the pooled buffer back: call when the chunks are no longer read. */
  release(): void;
}

/** The chunks' bytes, read with as few range reads as adjacent ranges allow. */
async function fetchChunks(src: ByteSource, refs: readonly ChunkRef[], reuse: boolean): Promise<Fetched> {
  const order = refs.map((_, i) => i).sort((a, b) => refs[a]!.start - refs[b]!.start);
  const runs: { start: number; end: number; members: number[] }[] = [];
  for (const i of order) {
    const r = refs[i]!;
    const last = runs[runs.length - 1];
    if (last && r.start - last.end <= MERGE_GAP) {
      last.end = Math.max(last.end, r.end);
      last.members.push(i);
    } else runs.push({ start: r.start, end: r.end, members: [i] });
  }
  const out = new Array<Uint8Array>(refs.length);
  const at: number[] = [];
  let total = 0;
  for (const run of runs) {
    at.push(total);
    total += run.end - run.start;
  }
  // The pool is always longer than what it holds, so no chunk is a whole buffer (which a
  // decoder could keep as its own instead of copying).
  let buffer: Uint8Array | undefined;
  if (reuse && src.readInto && !poolBusy && total < POOL_KEEP) {
    if (pool.length <= total) pool = new Uint8Array(Math.min(POOL_KEEP, Math.max(total + 64, pool.length * 2)));
    buffer = pool;
    poolBusy = true;
  }
  const release = () => {
    if (buffer) poolBusy = false;
  };
  try {
    await Promise.all(
      runs.map(async (run, j) => {
        let bytes: Uint8Array;
        if (buffer) {
          if (run.end > src.byteLength) throw new TesseraError(`${WHAT}: ${src.name}: the file is ${src.byteLength} bytes, too short for bytes ${run.start} to ${run.end} (the file is truncated or changed)`);
          bytes = buffer.subarray(at[j]!, at[j]! + run.end - run.start);
          await src.readInto!(run.start, bytes);
        } else {
          bytes = await src.read(run.start, run.end);
          if (bytes.length !== run.end - run.start) {
            throw new TesseraError(`${WHAT}: ${src.name}: read ${bytes.length} bytes at ${run.start}, expected ${run.end - run.start} (the file is truncated or changed)`);
          }
        }
        for (const i of run.members) out[i] = bytes.subarray(refs[i]!.start - run.start, refs[i]!.end - run.start);
      }),
    );
  } catch (err) {
    release();
    throw err;
  }
  return { chunks: out, release };
}

function emptyColumn(f: FieldPlan): Column {
  const c: Column = { type: f.meta.type, data: allocColumnData(f.meta.type, 0) };
  if (f.meta.type === "string") c.dictionary = [];
  if (f.meta.unit) c.unit = f.meta.unit;
  if (f.meta.tz) c.tz = f.meta.tz;
  return c;
}

function columnBuffers(f: Frame): ArrayBufferLike[] {
  return f.columns.flatMap((c) => (ArrayBuffer.isView(c.data) ? [c.data.buffer] : []));
}

/** Nested values as an object column: nulls also marked in `valid`, as the Frame contract asks. */
function objectColumn(values: unknown[]): Column {
  const col: Column = { type: "object", data: values };
  if (values.includes(null)) col.valid = Uint8Array.from(values, (v) => (v === null ? 0 : 1));
  return col;
}

async function readRowGroup(
  part: ParquetPart,
  src: ByteSource,
  rg: PartRowGroup,
  fields: readonly FieldPlan[],
  builders: Map<string, ColumnBuilder | unknown[]>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const wanted = fields.flatMap((f) => rg.chunks.slice(f.leaf, f.leaf + f.leaves));
  if (wanted.length !== fields.reduce((s, f) => s + f.leaves, 0) || wanted.some((c) => !c)) {
    throw new TesseraError(`${WHAT}: ${part.file}: row group ${rg.index}: the part lists ${rg.chunks.length} column chunks, fewer than its schema has leaves (a part not made by resolveParquet?)`);
  }
  const flat = fields.every((f) => f.kind !== "nested");
  // Flat columns of a local file: read a window at a time as they are decoded (parquet-chunk.ts).
  if (flat && src.readIntoSync) {
    for (const r of wanted) {
      if (r.end > src.byteLength) throw new TesseraError(`${WHAT}: ${src.name}: the file is ${src.byteLength} bytes, too short for bytes ${r.start} to ${r.end} (the file is truncated or changed)`);
    }
    await decodeRowGroup(part, rg, fields, builders, wanted.map((r) => chunkWindowed(src, r)), signal);
    return;
  }
  // Chunks of flat columns only are read into this thread's pooled buffer (hyparquet, which
  // decodes nested ones, may keep views of their bytes).
  const fetched = await fetchChunks(src, wanted, flat);
  try {
    await decodeRowGroup(part, rg, fields, builders, fetched.chunks.map(chunkInMemory), signal);
  } finally {
    fetched.release();
  }
}

async function decodeRowGroup(part: ParquetPart, rg: PartRowGroup, fields: readonly FieldPlan[], builders: Map<string, ColumnBuilder | unknown[]>, bytes: ChunkBytes[], signal: AbortSignal | undefined): Promise<void> {
  const schema = part.footer.schema;
  signal?.throwIfAborted();
  let k = 0;
  for (const f of fields) {
    const where = `${WHAT}: ${part.file}: row group ${rg.index}, column ${JSON.stringify(f.name)}`;
    const out = builders.get(f.name)!;
    if (f.kind === "nested") {
      const chunks = rg.chunks.slice(f.leaf, f.leaf + f.leaves).map((ref, j) => ({ ref, bytes: bytes[k + j]!.bytes(0, ref.end - ref.start) }));
      const values = await readNestedChunks({ schema, field: f, chunks, rows: rg.rows, binaryAsString: part.binaryAsString, where, signal });
      for (const v of values) (out as unknown[]).push(v);
    } else {
      const leaf: SchemaElement = schema[f.element]!;
      decodeFlatChunk({ bytes: bytes[k]!, chunk: rg.chunks[f.leaf]!, leaf, rows: rg.rows, where, signal }, out as ColumnBuilder);
    }
    k += f.leaves;
  }
}

/**
 * Read a part: `columns` (null: the dataset's columns), rows kept by `filters` (null: all).
 * `signal` stops it between pages.
 */
export async function readParquetPart(part: ParquetPart, columns: readonly string[] | null, filters: Filters | null, signal?: AbortSignal): Promise<Frame> {
  checkPart(part);
  await prepareSnappy();
  signal?.throwIfAborted();
  let plans: FieldPlan[];
  try {
    plans = planFields(part.footer.schema, { binaryAsString: part.binaryAsString, int96Unit: part.int96Unit });
  } catch (err) {
    throw new TesseraError(`${WHAT}: ${part.file}: ${(err as Error).message}`, { cause: err });
  }
  const byName = new Map(plans.map((p) => [p.name, p]));
  const output = columns ? [...columns] : [...part.columns];
  const describe = () => `the dataset's columns are ${describeNames(part.columns)}`;
  for (const c of output) if (!byName.has(c)) throw new TesseraError(`${WHAT}: ${part.file}: no column ${JSON.stringify(c)}; ${describe()}`);
  const fcols = filterColumns(filters);
  for (const c of fcols) if (!byName.has(c)) throw new TesseraError(`${WHAT}: ${part.file}: the filters name column ${JSON.stringify(c)}, which the part was not resolved with (pass the same filters to resolveParquet)`);
  let dnf = null;
  if (filters && fcols.length) {
    try {
      dnf = normalizeFilters(filters, new Map(plans.map((p) => [p.name, { meta: p.meta, decimal: p.kind === "decimal" }])), describe);
    } catch (err) {
      throw new TesseraError(`${WHAT}: ${(err as Error).message}`, { cause: err });
    }
  }
  const read = new Set([...output, ...fcols]);
  const fields = plans.filter((p) => read.has(p.name));
  const builders = new Map<string, ColumnBuilder | unknown[]>(
    fields.map((f) => [f.name, f.kind === "nested" ? [] : new ColumnBuilder(f.name, f.kind, f.meta, part.rows, f.scale ?? 0)]),
  );

  if (part.footer.rowGroups.length > 0 && fields.length > 0) {
    const src = await openSource(part.source, WHAT);
    try {
      for (const rg of part.footer.rowGroups) {
        signal?.throwIfAborted();
        await readRowGroup(part, src, rg, fields, builders, signal);
      }
    } finally {
      await src.close();
    }
  }

  const noGroups = part.footer.rowGroups.length === 0;
  const built = new Map<string, Column>();
  for (const f of fields) {
    const b = builders.get(f.name)!;
    if (noGroups) built.set(f.name, emptyColumn(f));
    else if (Array.isArray(b)) built.set(f.name, objectColumn(b));
    else built.set(f.name, b.finish());
  }
  // No columns at all (len()): the footer's row count, nothing read.
  const length = noGroups ? 0 : fields.length ? built.get(fields[0]!.name)!.data.length : part.rows;
  // Arrays built by push, not map: once this function is optimized, map's arrays come out
  // holey where they were packed, and the code reading them (columnBuffers) deopts.
  const readNames: string[] = [];
  const readColumns: Column[] = [];
  for (const f of fields) {
    readNames.push(f.name);
    readColumns.push(built.get(f.name)!);
  }
  let frame: Frame = { length, names: readNames, columns: readColumns };
  if (dnf) {
    const decoded = frame;
    frame = filterRows(frame, filterMask(frame, dnf));
    // The rows kept are copies: the decoded columns' pooled buffers can be reused at once.
    discardBuffers(columnBuffers(decoded));
  }
  const outColumns: Column[] = [];
  for (const n of output) outColumns.push(frame.columns[frame.names.indexOf(n)]!);
  const out: Frame = { length: frame.length, names: output, columns: outColumns };
  return releasable(out, columnBuffers(out));
}
