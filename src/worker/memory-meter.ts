/**
 * The worker's measured memory (where the environment can measure it: Node), sampled at most
 * every MEASURE_MS rather than on every store: a measurement costs microseconds
 * (node-entry.ts measureThread), a store much less. Each new measurement is acted on once
 * (spill-store.ts spills harder over the spill threshold); the latest also serves the
 * terminate check (terminateReason).
 */

const MEASURE_MS = 100;

export class MemoryMeter {
  /** The last measurement in bytes; undefined until one succeeds. */
  measured: number | undefined;
  private lastMeasure = -Infinity;
  /** The current measurement has been acted on (spill harder once per measurement). */
  private actedOn = true;

  constructor(
    private readonly measure: () => number,
    private readonly now: () => number,
  ) {}

  /** Take a new measurement if the last is MEASURE_MS old (or `force`). */
  sample(force: boolean): void {
    const now = this.now();
    if (!force && now - this.lastMeasure < MEASURE_MS) return;
    this.lastMeasure = now;
    try {
      this.measured = this.measure();
      this.actedOn = false;
    } catch {
      // Not measurable now: act on managed memory alone.
    }
  }

  /** Sample if due; then the measurement not yet acted on, if any, which counts as acted on now. */
  takeNew(): number | undefined {
    this.sample(false);
    if (this.actedOn) return undefined;
    this.actedOn = true;
    return this.measured;
  }

  /**
   * Count `bytes` just spilled as gone: freed buffers leave the measurement only when the
   * garbage collector runs, and the next sample is MEASURE_MS away.
   */
  discount(bytes: number): void {
    this.measured = Math.max(0, this.measured! - bytes);
  }
}

export function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export interface TerminateThreshold {
  worker: string;
  limit: number;
  /** The threshold as a fraction of the limit, and in bytes. */
  fraction: number;
  bytes: number;
  /** The worker's measured memory at rest, where known. */
  restBytes: number | undefined;
}

/**
 * Why the worker's measured memory is over the terminate threshold, or undefined. Measured at
 * most every MEASURE_MS unless `force`. Stored values (`managed`: they can be spilled) and
 * garbage do not count: only memory outside the store, after a garbage collection, does.
 */
export function terminateReason(
  meter: MemoryMeter,
  managed: number,
  force: boolean,
  t: TerminateThreshold,
  collectGarbage: (() => void) | undefined,
  warnOnce: (kind: string, message: string) => void,
): string | undefined {
  meter.sample(force);
  if (meter.measured === undefined || meter.measured <= t.bytes) return undefined;
  // Stored values can always go to disk (the spill threshold sends them): only the rest counts.
  if (meter.measured - managed <= t.bytes) return undefined;
  collectGarbage?.();
  meter.sample(true);
  if (meter.measured - managed <= t.bytes) return undefined;
  // A replacement would start over the threshold too: killing it would only lose work.
  if (t.restBytes !== undefined && t.bytes < 2 * t.restBytes) {
    warnOnce(
      "terminate-at-rest",
      `tessera: worker ${t.worker} does not act on its terminate threshold (${mb(t.bytes)}, ` +
        `${t.fraction} of memoryLimit ${mb(t.limit)}): a worker uses ${mb(t.restBytes)} at rest, ` +
        `so the limit leaves no room for work. Give workers a larger memoryLimit.`,
    );
    return undefined;
  }
  return (
    `worker ${t.worker} uses ${mb(meter.measured)}, ${mb(meter.measured - managed)} of it outside stored values, over its ` +
    `terminate threshold (${mb(t.bytes)}, ${t.fraction} of memoryLimit ${mb(t.limit)})`
  );
}
