/**
 * A column chunk's bytes as the page decoder asks for them: `bytes(at, n)`, a view of bytes
 * [at, at + n) of the chunk, valid until the next call on any chunk of this thread.
 *
 *   chunkInMemory(bytes)          the chunk already read (a URL, a Blob): views of it
 *   chunkWindowed(src, ref)       a local file read synchronously, a window at a time
 *
 * Why windows: a row group's chunks read whole into one buffer (34 MB in the benchmark's file)
 * go from the page cache to DRAM and back again when decoded, and a 32 MB read runs at ~4 GB/s
 * here against ~10 GB/s into a buffer that stays in the core's cache (FACTS.md). Read a window
 * (WINDOW bytes) at a time, just before its bytes are decoded, they are still in cache when the
 * decoder reads them. The reads are synchronous (a pread on this thread: no hop to libuv's
 * thread pool and back for each one); the decoder between them is synchronous too, so a view
 * is never held across an await.
 *
 * Long snappy literals (a page of random floats) skip the window: `scatter` reads them straight
 * into the column (parquet-scatter.ts), so their bytes are written once, not twice.
 *
 * A request larger than the window (a whole compressed page for a wasm decoder) grows the buffer
 * to fit. The buffer is always longer than the view it returns, so a decoder that keeps a page
 * whose view spans its whole buffer (parquet-pages.ts `own`) always copies it.
 */

import { TesseraError } from "../../errors.js";
import type { ChunkRef } from "./parquet-footer.js";
import type { ByteSource } from "./source.js";

export interface ChunkBytes {
  /** The chunk's length in bytes. */
  readonly length: number;
  /** Bytes [at, at + n) of the chunk (0 <= at, at + n <= length), valid until the next call. */
  bytes(at: number, n: number): Uint8Array;
  /**
   * Bytes [at, at + k) for some k with min(max, SOME_MIN) <= k <= max: as many as are at hand
   * (the window), for a decoder that reads on from there (page headers, a page's stream).
   */
  some(at: number, max: number): Uint8Array;
  /** Optional: bytes from `at` on read straight into `into`'s buffers, in order (not through the window). */
  scatter?(at: number, into: Uint8Array[]): void;
}

/** The fewest bytes `some` gives (unless it is asked for fewer). */
export const SOME_MIN = 64;

export function chunkInMemory(bytes: Uint8Array): ChunkBytes {
  return { length: bytes.length, bytes: (at, n) => bytes.subarray(at, at + n), some: (at, max) => bytes.subarray(at, at + max) };
}

/** Bytes read ahead of a request (the window), unless the chunk ends sooner. */
const DEFAULT_WINDOW = 512 * 1024;
let windowBytes = DEFAULT_WINDOW;
/** A buffer grown past this (a huge page) is not kept for the next chunk. */
const KEEP = 64 * 1024 * 1024;

/** Set the window's size (tests: tiny windows put page headers and snappy elements across reads); undefined: the default. */
export function setWindowBytes(n: number | undefined): void {
  windowBytes = n === undefined ? DEFAULT_WINDOW : Math.max(SOME_MIN, Math.floor(n));
  filled = { src: null, start: 0, end: 0 };
}

/** This thread's window: `buffer[0, end - start)` holds bytes [start, end) of the file `src`. */
let buffer = new Uint8Array(0);
let filled: { src: ByteSource | null; start: number; end: number } = { src: null, start: 0, end: 0 };

export function chunkWindowed(src: ByteSource, ref: ChunkRef): ChunkBytes {
  const read = src.readIntoSync;
  if (!read) throw new TesseraError(`internal: ${src.name} has no synchronous reads`);
  const length = ref.end - ref.start;
  const readv = src.readvIntoSync;
  const chunk: ChunkBytes = {
    length,
    ...(readv
      ? {
          scatter(at: number, into: Uint8Array[]) {
            const n = into.reduce((s, b) => s + b.length, 0);
            if (at < 0 || at + n > length) throw new TesseraError(`internal: bytes ${at} to ${at + n} of a ${length}-byte column chunk`);
            readv.call(src, ref.start + at, into);
          },
        }
      : {}),
    some(at, max) {
      const start = ref.start + at;
      const held = filled.src === src && start >= filled.start ? filled.end - start : 0;
      if (held >= Math.min(max, SOME_MIN)) return buffer.subarray(start - filled.start, start - filled.start + Math.min(max, held));
      return chunk.bytes(at, Math.min(max, windowBytes, length - at));
    },
    bytes(at, n) {
      if (at < 0 || n < 0 || at + n > length) throw new TesseraError(`internal: bytes ${at} to ${at + n} of a ${length}-byte column chunk`);
      const start = ref.start + at;
      if (filled.src === src && start >= filled.start && start + n <= filled.end) {
        return buffer.subarray(start - filled.start, start - filled.start + n);
      }
      const size = Math.min(length - at, Math.max(n, windowBytes));
      let into = buffer;
      if (size >= into.length) {
        into = new Uint8Array(Math.max(size + 64, Math.min(KEEP, 2 * into.length)));
        if (into.length <= KEEP) buffer = into;
      }
      filled = { src: null, start: 0, end: 0 };
      read.call(src, start, into.subarray(0, size));
      if (into === buffer) filled = { src, start, end: start + size };
      return into.subarray(0, n);
    },
  };
  return chunk;
}
