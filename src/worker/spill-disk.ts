/**
 * Where spilled values go: a tiny synchronous interface, because a task reads its inputs
 * synchronously and a spilled input must come back inside that read. Each worker spills into
 * one file that RegionFile cuts into regions, one per value: a file descriptor in Node
 * (disk-node.ts); in a browser one synchronous handle on one OPFS file (disk-opfs.ts; opening a
 * handle is async, so there is one, opened up front).
 */

import { TesseraError } from "../errors.js";
import type { ReadAt } from "./spill-format.js";

export interface SpillDisk {
  /** Where the values go, for messages and metrics. */
  readonly where: string;
  /** Write one value under `name`; on failure throws, having removed what it wrote. */
  write(name: string, parts: readonly Uint8Array[], byteLength: number): void;
  /** Read the value under `name` with `fn`, which reads bytes at offsets of that value. */
  read<T>(name: string, fn: (read: ReadAt) => T): T;
  remove(name: string): void;
  /** Remove everything written; the disk is not used after. */
  close(): void;
}

/** The part of FileSystemSyncAccessHandle that RegionFile uses. */
export interface SyncHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

interface Region {
  at: number;
  size: number;
}

/**
 * Values as regions of one file: first fit into the holes freed values left (neighbours
 * coalesce), else appended; the file shrinks when its last region is freed.
 */
export class RegionFile implements SpillDisk {
  private readonly regions = new Map<string, Region>();
  /** Holes, sorted by offset. */
  private readonly holes: Region[] = [];
  private end = 0;

  constructor(
    private readonly handle: SyncHandle,
    readonly where: string,
    private readonly onClose: () => void = () => {},
  ) {
    handle.truncate(0);
  }

  write(name: string, parts: readonly Uint8Array[], byteLength: number): void {
    if (this.regions.has(name)) throw new TesseraError(`spill: ${name} is already written in ${this.where}`);
    const r = this.take(byteLength);
    try {
      let at = r.at;
      for (const p of parts) {
        const n = this.handle.write(p, { at });
        if (n !== p.byteLength) throw new TesseraError(`wrote ${n} of ${p.byteLength} bytes (disk full or quota exceeded?)`);
        at += n;
      }
    } catch (err) {
      this.give(r);
      throw err;
    }
    this.regions.set(name, r);
  }

  read<T>(name: string, fn: (read: ReadAt) => T): T {
    const r = this.regions.get(name);
    if (!r) throw new TesseraError(`spill: nothing written under ${name} in ${this.where}`);
    return fn((at, into) => {
      if (at + into.byteLength > r.size) throw new TesseraError(`spill: read past the end of ${name} in ${this.where}`);
      const n = this.handle.read(into, { at: r.at + at });
      if (n !== into.byteLength) throw new TesseraError(`spill: read ${n} of ${into.byteLength} bytes of ${name} in ${this.where}`);
    });
  }

  remove(name: string): void {
    const r = this.regions.get(name);
    if (!r) return;
    this.regions.delete(name);
    this.give(r);
  }

  close(): void {
    this.regions.clear();
    this.holes.length = 0;
    try {
      this.handle.truncate(0);
      this.handle.close();
    } finally {
      this.onClose();
    }
  }

  /** Bytes the file spans (for tests). */
  get fileBytes(): number {
    return this.end;
  }

  /** Values written and not removed (for tests). */
  get written(): number {
    return this.regions.size;
  }

  private take(size: number): Region {
    for (let i = 0; i < this.holes.length; i++) {
      const h = this.holes[i]!;
      if (h.size < size) continue;
      const r = { at: h.at, size };
      if (h.size === size) this.holes.splice(i, 1);
      else this.holes[i] = { at: h.at + size, size: h.size - size };
      return r;
    }
    const r = { at: this.end, size };
    this.end += size;
    return r;
  }

  private give(r: Region): void {
    let i = 0;
    while (i < this.holes.length && this.holes[i]!.at < r.at) i++;
    let at = r.at;
    let size = r.size;
    const prev = this.holes[i - 1];
    if (prev && prev.at + prev.size === at) {
      at = prev.at;
      size += prev.size;
      this.holes.splice(--i, 1);
    }
    const next = this.holes[i];
    if (next && at + size === next.at) {
      size += next.size;
      this.holes.splice(i, 1);
    }
    if (at + size === this.end) {
      // The tail is free: give it back to the file system.
      this.end = at;
      this.handle.truncate(at);
      return;
    }
    this.holes.splice(i, 0, { at, size });
  }
}
