/**
 * The host-side allocator over a WebAssembly.Memory: first-fit over an address-sorted free list,
 * coalescing neighbours on free, growing the memory when nothing fits.
 *
 * Allocations are chunk-sized (KBs to hundreds of MBs) and few (hundreds), so a sorted array of
 * free blocks and a Map of live ones is simpler and fast enough; no headers are written into
 * wasm memory, so a kernel overrunning its buffer cannot corrupt the allocator.
 *
 * Growth: `memory.grow` on a non-shared memory detaches its ArrayBuffer, so every typed-array
 * view made before is dead (length 0). Never keep a view across a call that may allocate; use
 * `view()` to build a fresh one. A shared memory keeps old views valid but they keep their old
 * length. Either way, the cheapest policy is to create the memory with `initial` = the worker's
 * whole limit: pages are committed by the OS only when touched.
 *
 * One heap owns a range [base, limit) of one memory. Several instances sharing one memory (one
 * per worker) must each own a disjoint range, or all allocate through one heap.
 */

import { KernelError } from "./errors.js";

const PAGE = 65536;

export interface HeapStats {
  /** Bytes in live allocations (after rounding to 16). */
  used: number;
  /** Largest `used` seen. */
  peak: number;
  /** Bytes the heap can hand out without growing (memory size minus base). */
  capacity: number;
  /** Most bytes the heap may ever reach (limit minus base). */
  maximum: number;
  allocations: number;
  freeBlocks: number;
  largestFree: number;
}

interface Block {
  start: number;
  size: number;
}

export class WasmHeap {
  private readonly blocks: Block[] = [];
  private readonly live = new Map<number, number>();
  private top: number;
  private usedBytes = 0;
  private peakBytes = 0;

  /**
   * @param memory the memory to allocate in
   * @param base first byte to hand out (the module's heapBase(), or a worker's share)
   * @param limit one past the last byte the heap may use (defaults to the memory's maximum)
   */
  constructor(
    readonly memory: WebAssembly.Memory,
    readonly base: number,
    readonly limit: number,
  ) {
    if (base % 16 !== 0) throw new KernelError(`heap base ${base} is not 16-byte aligned`);
    if (limit < base) throw new KernelError(`heap limit ${limit} is below its base ${base}`);
    this.top = base;
    const end = Math.min(memory.buffer.byteLength, limit);
    if (end > base) this.blocks.push({ start: base, size: end - base });
    this.top = Math.max(base, end);
  }

  /** Allocate nbytes (rounded up to 16) at an address that is a multiple of align. */
  alloc(nbytes: number, align = 16): number {
    if (!Number.isSafeInteger(nbytes) || nbytes < 0) throw new KernelError(`alloc: nbytes must be a non-negative integer, got ${nbytes}`);
    if (!Number.isInteger(align) || align < 16 || (align & (align - 1)) !== 0 || align > PAGE) {
      throw new KernelError(`alloc: align must be a power of two in [16, 65536], got ${align}`);
    }
    const size = Math.max(16, Math.ceil(nbytes / 16) * 16);
    for (let i = 0; i < this.blocks.length; i++) {
      const ptr = this.take(i, size, align);
      if (ptr >= 0) return this.record(ptr, size);
    }
    this.grow(size + align);
    const last = this.blocks.length - 1;
    const ptr = last >= 0 ? this.take(last, size, align) : -1;
    if (ptr < 0) throw new KernelError(`alloc: internal error, no block after growing for ${size} bytes`);
    return this.record(ptr, size);
  }

  /** Free an allocation made by alloc(); throws on a pointer it did not hand out. */
  free(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new KernelError(`free: ${ptr} is not a live allocation (double free, or a pointer not from alloc)`);
    this.live.delete(ptr);
    this.usedBytes -= size;
    this.insertFree(ptr, size);
  }

  /** Size in bytes of a live allocation, or undefined. */
  sizeOf(ptr: number): number | undefined {
    return this.live.get(ptr);
  }

  stats(): HeapStats {
    let largest = 0;
    for (const b of this.blocks) largest = Math.max(largest, b.size);
    return {
      used: this.usedBytes,
      peak: this.peakBytes,
      capacity: this.top - this.base,
      maximum: this.limit - this.base,
      allocations: this.live.size,
      freeBlocks: this.blocks.length,
      largestFree: largest,
    };
  }

  /** Carve `size` bytes at `align` out of free block i; -1 when it does not fit. */
  private take(i: number, size: number, align: number): number {
    const b = this.blocks[i]!;
    const ptr = Math.ceil(b.start / align) * align;
    const lead = ptr - b.start;
    if (lead + size > b.size) return -1;
    const tail = b.size - lead - size;
    const pieces: Block[] = [];
    if (lead > 0) pieces.push({ start: b.start, size: lead });
    if (tail > 0) pieces.push({ start: ptr + size, size: tail });
    this.blocks.splice(i, 1, ...pieces);
    return ptr;
  }

  private record(ptr: number, size: number): number {
    this.live.set(ptr, size);
    this.usedBytes += size;
    if (this.usedBytes > this.peakBytes) this.peakBytes = this.usedBytes;
    return ptr;
  }

  private insertFree(start: number, size: number): void {
    // Binary search for the first block after `start`.
    let lo = 0, hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.blocks[mid]!.start < start) lo = mid + 1;
      else hi = mid;
    }
    const prev = this.blocks[lo - 1], next = this.blocks[lo];
    if (prev && prev.start + prev.size === start) {
      prev.size += size;
      if (next && start + size === next.start) {
        prev.size += next.size;
        this.blocks.splice(lo, 1);
      }
    } else if (next && start + size === next.start) {
      next.start = start;
      next.size += size;
    } else {
      this.blocks.splice(lo, 0, { start, size });
    }
  }

  /** Grow the memory so that the free block at the top has at least `need` bytes. */
  private grow(need: number): void {
    const last = this.blocks[this.blocks.length - 1];
    const topFree = last && last.start + last.size === this.top ? last.size : 0;
    const want = this.top + (need - topFree);
    if (want > this.limit) {
      const s = this.stats();
      throw new KernelError(
        `out of wasm memory: cannot allocate ${need} bytes (in use ${s.used} of ${s.capacity} bytes, largest free block ${s.largestFree}, ` +
          `limit ${s.maximum}); free chunks first, or load the kernels with a larger maximumBytes (at most 4 GiB per memory)`,
      );
    }
    const pages = Math.ceil((want - this.memory.buffer.byteLength) / PAGE);
    if (pages > 0) {
      try {
        this.memory.grow(pages);
      } catch (err) {
        throw new KernelError(`out of wasm memory: growing by ${pages} pages (${pages * PAGE} bytes) failed; the memory's maximum or the process's memory is exhausted`, { cause: err });
      }
    }
    const end = Math.min(this.memory.buffer.byteLength, this.limit);
    const added = end - this.top;
    if (added > 0) this.insertFree(this.top, added);
    this.top = end;
  }
}
