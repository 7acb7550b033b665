/**
 * The worker's measured memory (where the environment can measure it: Node), sampled at most
 * every MEASURE_MS rather than on every store: a measurement costs microseconds
 * (node-entry.ts measureThread), a store much less. Each new measurement is acted on once
 * (spill-store.ts spills harder over the spill threshold); the latest also serves the
 * terminate check.
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
