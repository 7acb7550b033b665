/**
 * Snappy (raw block format, as Parquet pages use it) decompressed into a buffer of the size the
 * page header gives.
 *
 * Why not hyparquet-compressors' SNAPPY: it compiles and instantiates a fresh wasm module (hysnappy)
 * for every page. Here hysnappy's decoder is instantiated once per thread and used for pages that
 * compress well; pages that are almost all literal (random floats) go through a JS decoder whose
 * literals longer than a few bytes are one `Uint8Array.set` (memcpy) and whose back-references use
 * `copyWithin` when they do not overlap their output, so they decode at memory speed (hyparquet's
 * own JS decoder copies byte by byte).
 *
 * Every length read from the stream is checked: a literal or copy that would run past the input
 * or the output, or a copy from before the start of the output, is an error, and so is a stream
 * that does not fill the output exactly.
 */

import { snappyUncompressor } from "hysnappy";
import { TesseraError } from "../../errors.js";
import type { Kernels } from "../../kernels/kernels.js";
import { getKernels, kernelsLoaded } from "../../kernels/instance.js";
import { SCATTER_MIN, scatterLiterals, type Scatter } from "./parquet-scatter.js";

/** Pages from WASM_MIN_PAGE up to WASM_MAX_PAGE may go through hysnappy (whose wasm memory grows to fit, and stays). */
const WASM_MIN_PAGE = 4096;
const WASM_MAX_PAGE = 32 * 1024 * 1024;

let wasmSnappy: ((input: Uint8Array, size: number) => Uint8Array) | undefined;

/** Pages up to this size decode in this thread's kernels (assembly/snappy.ts), in a region kept for it. */
const KERNEL_MAX_PAGE = 16 * 1024 * 1024;

interface SnappyExports {
  snappyDecode?(src: number, srcLen: number, dst: number, dstLen: number): number;
}

/** This thread's kernels: undefined until prepareSnappy ran, null when there are none (or too old a build). */
let kernels: Kernels | null | undefined;
/** The kernels' memory region the decoder works in: compressed bytes, then the page. */
let region = { ptr: 0, bytes: 0 };

/**
 * Find this thread's kernels for the wasm decoder (once per thread; readParquetPart calls it).
 * Where there are none (no kernels configured here), hysnappy decodes instead.
 */
export async function prepareSnappy(): Promise<void> {
  if (kernels !== undefined) return;
  let k: Kernels | null = kernelsLoaded() ?? null;
  if (!k) {
    try {
      k = await getKernels();
    } catch {
      k = null;
    }
  }
  kernels = k && typeof (k.exports as unknown as SnappyExports).snappyDecode === "function" ? k : null;
}

/** Decode with these kernels from now on (null: none, so JS and hysnappy): tests compare the paths. */
export function setDecoderKernels(k: Kernels | null): void {
  kernels = k && typeof (k.exports as unknown as SnappyExports).snappyDecode === "function" ? k : null;
}

/** This thread's kernels, once prepareSnappy found them (null: none here, or too old a build). */
export function decoderKernels(): Kernels | null {
  return kernels ?? null;
}

const SNAPPY_ERRORS: Record<number, string> = {
  [-1]: "the length header is cut off",
  [-2]: "the length header is longer than 5 bytes",
  [-3]: "the length header differs from the page header's size",
  [-4]: "a literal's length is cut off",
  [-5]: "a literal runs past the end of the input",
  [-6]: "a literal runs past the output",
  [-7]: "a copy's offset is cut off",
  [-8]: "a copy reaches before the start of the output",
  [-9]: "a copy runs past the output",
  [-10]: "the data does not fill the page",
};

/** Decode in the kernels' memory; the page is a view there, valid until the next call (or the next allocation of these kernels). */
function kernelDecode(k: Kernels, input: Uint8Array, size: number): Uint8Array {
  const at = (input.length + 15) & ~15;
  const need = at + size;
  if (need > region.bytes) {
    const bytes = Math.max(need, Math.min(2 * KERNEL_MAX_PAGE + 16, region.bytes * 2));
    if (region.ptr) k.free(region.ptr);
    region = { ptr: 0, bytes: 0 };
    region = { ptr: k.alloc(bytes), bytes };
  }
  const src = region.ptr;
  new Uint8Array(k.memory.buffer, src, input.length).set(input);
  const rc = (k.exports as unknown as Required<SnappyExports>).snappyDecode(src, input.length, src + at, size);
  if (rc !== 0) throw new TesseraError(`snappy: ${SNAPPY_ERRORS[rc] ?? `error ${rc}`} (the page is corrupt)`);
  return new Uint8Array(k.memory.buffer, src + at, size);
}

/**
 * Decompress `input` into a buffer of exactly `size` bytes: a new one, or, when the caller
 * passes `into` (it reads the page at once and keeps nothing of it), the buffer `into` gives or
 * a view of wasm memory valid until the next call. Pages that compress well (many short literals
 * and copies, where a JS loop pays per element) decode in wasm: this thread's kernels
 * (assembly/snappy.ts) once prepareSnappy found them, else hysnappy (instantiated once per
 * thread); pages that are almost all literal go through the JS decoder below, which copies
 * literals with memcpy and so beats both (no copy in and out).
 */
export function snappyDecompress(input: Uint8Array, size: number, into?: (size: number) => Uint8Array): Uint8Array {
  const pos = preamble(input, size);
  const compressible = size >= WASM_MIN_PAGE && input.length < size - (size >> 5);
  if (compressible && kernels && size <= KERNEL_MAX_PAGE) {
    // A caller that reuses buffers (`into`) reads the page at once: it may stay in wasm memory.
    const page = kernelDecode(kernels, input, size);
    return into ? page : page.slice();
  }
  if (compressible && size <= WASM_MAX_PAGE) {
    wasmSnappy ??= snappyUncompressor();
    try {
      return wasmSnappy(input, size);
    } catch (err) {
      throw new TesseraError(`snappy: ${(err as Error).message}`, { cause: err });
    }
  }
  return snappyJs(wholePage(input), input, pos, size, NO_HEAD, into ? into(size) : new Uint8Array(size));
}

/** Checks the preamble (the uncompressed length, a varint) against `size`; returns where the elements start. */
function preamble(input: Uint8Array, size: number): number {
  const n = input.length;
  let pos = 0;
  let declared = 0;
  let scale = 1;
  for (;;) {
    if (pos >= n) throw new TesseraError("snappy: the length header is cut off");
    const b = input[pos++]!;
    declared += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 128;
    if (scale > 2 ** 35) throw new TesseraError("snappy: the length header is longer than 5 bytes");
  }
  if (declared !== size) throw new TesseraError(`snappy: the data says ${declared} bytes uncompressed, the page header ${size}`);
  return pos;
}

/**
 * A compressed page read a window at a time (parquet-chunk.ts): `window(pos)` is bytes pos..
 * of the page, at least min(16, length - pos) of them, valid until the next call.
 */
export interface PageStream {
  readonly length: number;
  window(pos: number): Uint8Array;
  /** Optional (a local file): bytes from pos on read straight into buffers (parquet-scatter.ts). */
  scatter?: Scatter;
}

/** A page already in memory: one window. */
export function wholePage(bytes: Uint8Array): PageStream {
  return { length: bytes.length, window: (pos) => bytes.subarray(pos) };
}

/**
 * A page whose first `head.length` bytes (its definition levels) go to `head` and whose other
 * bytes go straight to `dst` (the column's own memory, so the values are not copied again), when
 * the page is one for the JS decoder (almost all literal). Returns false, having read and
 * written nothing, when it is one for wasm (compresses well); throws like snappyDecompress on a
 * corrupt stream. The input may come in windows: each is decoded before the next is read.
 */
export function snappyDecompressSplit(input: Uint8Array | PageStream, size: number, head: Uint8Array, dst: Uint8Array): boolean {
  if (head.length + dst.length !== size) throw new TesseraError(`internal: snappy split of ${head.length} + ${dst.length} bytes for ${size}`);
  const stream = input instanceof Uint8Array ? wholePage(input) : input;
  if (size >= WASM_MIN_PAGE && stream.length < size - (size >> 5) && (kernels ? size <= KERNEL_MAX_PAGE : size <= WASM_MAX_PAGE)) return false;
  const first = stream.window(0);
  const pos = preamble(first.subarray(0, Math.min(first.length, stream.length)), size);
  snappyJs(stream, first, pos, size, head, dst);
  return true;
}

const NO_HEAD = new Uint8Array(0);

/** Element headers (a tag and up to 4 bytes of length or offset) are at most this long. */
const MAX_ELEMENT_HEAD = 5;

/**
 * The elements from `start` on, decoded in JS: output bytes [0, head.length) into `head`, the rest
 * into `out` (together `size` bytes). Elements that touch `head` (a few bytes at the start) go
 * byte by byte; the others as memcpy where they can. `w` is the stream's window at 0; a new
 * window is read when an element's header might cross the end of this one, and a literal that
 * does is copied piece by piece.
 */
function snappyJs(src: PageStream, first: Uint8Array, start: number, size: number, head: Uint8Array, out: Uint8Array): Uint8Array {
  const h = head.length;
  if (h + out.length !== size) throw new TesseraError(`internal: snappy output of ${h + out.length} bytes for ${size}`);
  const n = src.length;
  let w = first;
  // The window holds stream bytes [base, base + w.length); p is the position in it.
  let base = 0;
  let p = start;
  let at = 0;
  while (base + p < n) {
    // After this, the element's header is in the window, or the window reaches the end (and a
    // header that does not fit is cut off).
    if (p + MAX_ELEMENT_HEAD > w.length && base + w.length < n) {
      base += p;
      w = src.window(base);
      p = 0;
    }
    const tag = w[p++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const bytes = len - 60;
        if (p + bytes > w.length) throw new TesseraError("snappy: a literal's length is cut off");
        len = 0;
        for (let k = 0; k < bytes; k++) len += w[p + k]! * 2 ** (8 * k);
        len += 1;
        p += bytes;
      }
      if (base + p + len > n) throw new TesseraError(`snappy: a literal of ${len} bytes runs past the end of the input`);
      if (at + len > size) throw new TesseraError(`snappy: a literal of ${len} bytes runs past the ${size}-byte output`);
      if (p + len <= w.length) {
        copyLiteral(w, p, len, at, head, out);
        p += len;
        at += len;
        continue;
      }
      const held = w.length - p;
      if (src.scatter && at + held >= h && len >= SCATTER_MIN) {
        // What this window has, then the rest and the literals after it straight into `out`;
        // the window is read again where that stopped.
        copyLiteral(w, p, held, at, head, out);
        const r = scatterLiterals(src.scatter, base + w.length, n, out, at + held - h, len - held, len);
        at = h + r.o;
        base = r.pos;
        w = NO_HEAD;
        p = 0;
        continue;
      }
      // A literal across windows: what this window has, then the next ones.
      while (len > 0) {
        if (p === w.length) {
          base += p;
          w = src.window(base);
          p = 0;
        }
        const take = Math.min(len, w.length - p);
        copyLiteral(w, p, take, at, head, out);
        p += take;
        at += take;
        len -= take;
      }
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (p >= w.length) throw new TesseraError("snappy: a copy's offset is cut off");
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | w[p++]!;
    } else if (kind === 2) {
      if (p + 2 > w.length) throw new TesseraError("snappy: a copy's offset is cut off");
      len = (tag >>> 2) + 1;
      offset = w[p]! | (w[p + 1]! << 8);
      p += 2;
    } else {
      if (p + 4 > w.length) throw new TesseraError("snappy: a copy's offset is cut off");
      len = (tag >>> 2) + 1;
      offset = (w[p]! | (w[p + 1]! << 8) | (w[p + 2]! << 16)) + w[p + 3]! * 2 ** 24;
      p += 4;
    }
    if (offset === 0 || offset > at) throw new TesseraError(`snappy: a copy reaches ${offset} bytes back from byte ${at} of the output`);
    if (at + len > size) throw new TesseraError(`snappy: a copy of ${len} bytes runs past the ${size}-byte output`);
    const from = at - offset;
    if (from < h) for (let k = 0; k < len; k++) put(head, out, at + k, from + k < h ? head[from + k]! : out[from + k - h]!);
    else if (offset >= len && len > 16) out.copyWithin(at - h, from - h, from - h + len);
    else for (let k = 0, o = at - h, f = from - h; k < len; k++) out[o + k] = out[f + k]!;
    at += len;
  }
  if (at !== size) throw new TesseraError(`snappy: the data fills ${at} of ${size} bytes`);
  return out;
}

/** Literal bytes w[p, p + len) to output byte `at` on (checked by the caller). */
function copyLiteral(w: Uint8Array, p: number, len: number, at: number, head: Uint8Array, out: Uint8Array): void {
  const h = head.length;
  if (at < h) for (let k = 0; k < len; k++) put(head, out, at + k, w[p + k]!);
  else if (len > 16) out.set(w.subarray(p, p + len), at - h);
  else for (let k = 0, o = at - h; k < len; k++) out[o + k] = w[p + k]!;
}

/** Output byte i of a split page. */
function put(head: Uint8Array, out: Uint8Array, i: number, b: number): void {
  if (i < head.length) head[i] = b;
  else out[i - head.length] = b;
}
