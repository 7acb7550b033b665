/** Timing helpers of the benches: medians and bests of repeated runs, and tasks a cluster ran. */

import type { Client } from "tessera";

export interface Timed<T> {
  median: number;
  min: number;
  runs: number;
  values: T[];
}

export function summary(times: number[]): { median: number; min: number } {
  const t = [...times].sort((a, b) => a - b);
  const mid = t.length >> 1;
  return { median: t.length % 2 ? t[mid]! : (t[mid - 1]! + t[mid]!) / 2, min: t[0]! };
}

export async function timed<T>(warmup: number, runs: number, fn: () => Promise<T>, between?: () => Promise<void>): Promise<Timed<T>> {
  const values: T[] = [];
  for (let i = 0; i < warmup; i++) values.push(await fn());
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await between?.();
    const t0 = performance.now();
    values.push(await fn());
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  return { median, min: times[0]!, runs, values };
}

/** Tasks the cluster's workers have run so far. */
export async function tasksRun(client: Client): Promise<number> {
  return (await client.metrics()).reduce((s, m) => s + m.executed, 0);
}
