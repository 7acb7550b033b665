/**
 * Futures: a handle on a key the cluster computes or holds. The client counts handles per key;
 * the scheduler keeps the key while any handle lives (explicitly released, or garbage collected
 * via a FinalizationRegistry, as Dask does in `Future.__del__`).
 */

import { CancelledError, TaskError, type SerializedError } from "../errors.js";
import type { Graph, Key } from "../graph/task.js";
import { COLLECTION, type Collection, type CollectionSpec } from "./collection.js";

export type FutureStatus = "pending" | "finished" | "error" | "cancelled";

/** Per-key state shared by all Future handles of one client. */
export class KeyState {
  status: FutureStatus = "pending";
  refs = 0;
  error: Error | undefined;
  readonly settled: Promise<void>;
  private resolveSettled!: () => void;
  private rejectSettled!: (e: Error) => void;

  constructor(readonly key: Key) {
    this.settled = new Promise<void>((resolve, reject) => {
      this.resolveSettled = resolve;
      this.rejectSettled = reject;
    });
    // Nobody may be waiting on it; the error is delivered through result()/wait().
    this.settled.catch(() => {});
  }

  finish(): void {
    if (this.status !== "pending") return;
    this.status = "finished";
    this.resolveSettled();
  }

  fail(error: SerializedError): void {
    if (this.status !== "pending") return;
    this.status = "error";
    this.error = new TaskError(error);
    this.rejectSettled(this.error);
  }

  cancel(reason: string): void {
    if (this.status !== "pending" && this.status !== "finished") return;
    this.status = "cancelled";
    this.error = new CancelledError(this.key, reason);
    this.rejectSettled(this.error); // no effect if it had finished: wait() then still resolves
  }
}

/** What a Future needs from its client. */
export interface FutureOwner {
  acquire(key: Key): KeyState;
  release(state: KeyState): void;
  gatherKeys(keys: readonly Key[]): Promise<unknown[]>;
  cancelKeys(keys: readonly Key[], reason?: string): void;
}

const finalizer = new FinalizationRegistry<{ owner: FutureOwner; state: KeyState; released: { v: boolean } }>((h) => {
  if (!h.released.v) h.owner.release(h.state);
});

export class Future<T = unknown> implements Collection<T> {
  private readonly state: KeyState;
  private readonly released = { v: false };

  constructor(
    readonly key: Key,
    private readonly owner: FutureOwner,
  ) {
    this.state = owner.acquire(key);
    finalizer.register(this, { owner, state: this.state, released: this.released }, this);
  }

  get status(): FutureStatus {
    return this.state.status;
  }

  /** True once the key finished, failed or was cancelled. */
  done(): boolean {
    return this.state.status !== "pending";
  }

  /** Resolves when the key is in memory; rejects with its TaskError or CancelledError. */
  async wait(): Promise<void> {
    this.checkReleased();
    await this.state.settled;
  }

  /** The value, fetched from the worker that holds it. */
  async result(): Promise<T> {
    await this.wait();
    const [v] = await this.owner.gatherKeys([this.key]);
    return v as T;
  }

  /** The error the task failed with, or null if it finished. */
  async exception(): Promise<Error | null> {
    try {
      await this.state.settled;
      return null;
    } catch (e) {
      return e as Error;
    }
  }

  cancel(reason?: string): void {
    this.owner.cancelKeys([this.key], reason);
  }

  /** Give up this handle; the cluster forgets the key when no handle is left. */
  release(): void {
    if (this.released.v) return;
    this.released.v = true;
    finalizer.unregister(this);
    this.owner.release(this.state);
  }

  __tessera_token__(): string {
    return this.key;
  }

  [COLLECTION](): CollectionSpec<T> {
    return {
      graph: new Map() as Graph,
      keys: [this.key],
      external: [this.key],
      finalize: (values) => values[0] as T,
      rebuild: () => this,
    };
  }

  toString(): string {
    return `Future(${this.key}, ${this.status})`;
  }

  private checkReleased(): void {
    if (this.released.v) throw new Error(`future ${this.key} was released`);
  }
}
