/**
 * Bytes of buffers a store let go of (spilled or deleted values) that the garbage collector has
 * not freed yet. They are in the worker's measured memory until it does, and are not a reason to
 * spill: counting them, each value spilled would push out the next and the store would empty
 * (Python frees at once, so Dask's memory monitor never meets this). A buffer that something
 * else still holds stays counted; the terminate check, which collects garbage first, is what
 * catches that.
 */

export class Uncollected {
  bytes = 0;
  private readonly registry =
    typeof FinalizationRegistry === "function" ? new FinalizationRegistry<number>((n) => void (this.bytes -= n)) : undefined;

  /** `b` was let go of (a detached one, moved to another thread, holds nothing). */
  readonly add = (b: ArrayBufferLike): void => {
    if (this.registry === undefined || b.byteLength === 0) return;
    this.bytes += b.byteLength;
    this.registry.register(b, b.byteLength);
  };
}
