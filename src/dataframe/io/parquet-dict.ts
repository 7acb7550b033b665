/**
 * Dictionary-encoded data pages without nulls decoded in this thread's wasm kernels
 * (assembly/parquet.ts, dictDecode): the indices are read and looked up in the chunk's
 * dictionary in one pass, writing the column's values (for strings, its codes) as they go. In JS
 * the same is two loops (unpack the indices into an array, then gather through it), each paying
 * per value what wasm does at a fraction of the cost.
 *
 * Wasm memory holds, in one region this thread keeps: the dictionary (as the column stores it),
 * the page's index bytes (unless the snappy decoder left the page there already, or decompressed
 * it straight into the region: dictPageTarget), and the
 * values, which are then copied into the column. The region is reserved before the page is
 * decompressed (dictPrepare), since growing the memory would invalidate a page the snappy
 * kernel left in it. When the kernel refuses the data (a corrupt page), the caller decodes the
 * page in JS, which names what is wrong.
 */

import type { Kernels } from "../../kernels/kernels.js";
import type { ColumnBuilder } from "./parquet-convert.js";
import { decoderKernels } from "./parquet-snappy.js";

interface DictExports {
  dictDecode?(src: number, srcLen: number, width: number, n: number, table: number, tableSize: number, elem: number, dst: number): number;
}

/** Pages up to this size (uncompressed, and values up to twice it) decode in wasm; larger ones in JS. */
const MAX_PAGE = 64 * 1024 * 1024;

let region = { ptr: 0, bytes: 0 };

const align = (n: number) => (n + 15) & ~15;

function kernelsWithDict(): Kernels | null {
  const k = decoderKernels();
  return k && typeof (k.exports as unknown as DictExports).dictDecode === "function" ? k : null;
}

/** Bytes of the region a page of `pageBytes` and n values needs. */
function regionBytes(table: ArrayLike<unknown> & { byteLength: number }, pageBytes: number, n: number): number {
  return align(table.byteLength) + align(pageBytes) + align(n * 8);
}

/**
 * Before a dictionary page is decompressed: whether it can decode in wasm (kernels here, a
 * dictionary the column can take as bytes), with the region made big enough for it.
 */
export function dictPrepare(out: ColumnBuilder, pageBytes: number, n: number): boolean {
  const table = out.dictionaryTable();
  const k = table && pageBytes <= MAX_PAGE ? kernelsWithDict() : null;
  if (!k || !table) return false;
  const need = regionBytes(table, pageBytes, n);
  // Wasm memory never shrinks: a page of many values (a long run of one) decodes in JS instead.
  if (need > 2 * MAX_PAGE) return false;
  if (need > region.bytes) {
    const bytes = Math.max(need, Math.min(2 * MAX_PAGE, region.bytes * 2));
    if (region.ptr) k.free(region.ptr);
    region = { ptr: 0, bytes: 0 };
    try {
      region = { ptr: k.alloc(bytes), bytes };
    } catch {
      return false; // no room in this worker's wasm memory: the JS path needs none
    }
  }
  return true;
}

/**
 * The n rows of a dictionary-encoded page without nulls, whose bit width byte is page[start]
 * and whose indices run to `end`, into `out`. False when the kernel refused the data (nothing
 * counted; the caller decodes the page in JS). Call dictPrepare first.
 */
export function dictDecodeInto(page: Uint8Array, start: number, end: number, n: number, out: ColumnBuilder): boolean {
  const k = kernelsWithDict();
  const table = out.dictionaryTable();
  if (!k || !table || start >= end) return false;
  const indexBytes = end - start - 1;
  if (regionBytes(table, indexBytes, n) > region.bytes) return false;
  const memory = k.memory.buffer;
  const tablePtr = region.ptr;
  new Uint8Array(memory, tablePtr, table.byteLength).set(new Uint8Array(table.buffer, table.byteOffset, table.byteLength));
  let src = page.byteOffset + start + 1;
  if (page.buffer !== memory) {
    src = tablePtr + align(table.byteLength);
    new Uint8Array(memory, src, indexBytes).set(page.subarray(start + 1, end));
  }
  const elem = table.BYTES_PER_ELEMENT;
  let dst = region.ptr + align(table.byteLength) + align(indexBytes);
  // A page written into the region (dictPageTarget) starts where the indices go: the values after it.
  if (page.buffer === memory && page.byteOffset >= region.ptr && page.byteOffset < region.ptr + region.bytes) {
    dst = Math.max(dst, align(page.byteOffset + end));
    if (dst + n * elem > region.ptr + region.bytes) return false;
  }
  const rc = (k.exports as unknown as Required<DictExports>).dictDecode(src, indexBytes, page[start]!, n, tablePtr, table.length, elem, dst);
  if (rc !== 0) return false;
  out.rowBytes(n, elem).set(new Uint8Array(memory, dst, n * elem));
  out.commitRows(n);
  return true;
}

/**
 * Where a dictionary page of `bytes` bytes (decompressed) may be written so that dictDecodeInto
 * reads it in place, not copied in: a view of the region, valid until the next page (call
 * dictPrepare with the same size first). Null where the page decodes in JS.
 */
export function dictPageTarget(out: ColumnBuilder, bytes: number): Uint8Array | null {
  const k = kernelsWithDict();
  const table = out.dictionaryTable();
  if (!k || !table || regionBytes(table, bytes, 0) > region.bytes) return null;
  return new Uint8Array(k.memory.buffer, region.ptr + align(table.byteLength), bytes);
}
