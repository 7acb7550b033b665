// Helpers of the spill store's tests: temporary disks, a store with a small limit, 2 MiB chunks.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpillStore, type MemoryThresholds } from "../../src/worker/spill-store.js";
import { NodeDisk } from "../../src/worker/disk-node.js";
import type { SpillDisk } from "../../src/worker/spill-disk.js";
import { parseThresholds } from "../../src/cluster/options.js";
import { sizeOf } from "../../src/worker/store.js";

export const MB = 2 ** 20;
const dirs: string[] = [];

/** Remove the directories tempDisk made (afterEach). */
export function removeTempDisks(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tempDisk(): NodeDisk {
  const d = mkdtempSync(join(tmpdir(), "tessera-spill-test-"));
  dirs.push(d);
  return new NodeDisk(d);
}

/** A disk that fails (as a full one does) while `failing.on`. */
export function flakyDisk(inner: SpillDisk): SpillDisk & { on: boolean } {
  const d = {
    on: true,
    where: inner.where,
    write(name: string, parts: readonly Uint8Array[], n: number) {
      if (d.on) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      inner.write(name, parts, n);
    },
    read: inner.read.bind(inner),
    remove: inner.remove.bind(inner),
    close: inner.close.bind(inner),
  };
  return d as SpillDisk & { on: boolean };
}

export const chunk = (mb: number, fill: number) => new Float64Array((mb * MB) / 8).fill(fill);

export function store(opts: { limit?: number; thresholds?: Partial<MemoryThresholds>; disk?: SpillDisk; measure?: () => number } = {}) {
  const warnings: string[] = [];
  const s = new SpillStore({
    worker: "w-test",
    limit: opts.limit ?? 10 * MB,
    thresholds: parseThresholds(opts.thresholds),
    ...(opts.disk ? { disk: opts.disk } : {}),
    ...(opts.measure ? { measure: opts.measure } : {}),
    warn: (m) => warnings.push(m),
  });
  return { s, warnings };
}

export function put(s: SpillStore, key: string, v: unknown): void {
  s.put(key, v, sizeOf(v));
}
