/**
 * LocalCluster: a scheduler (runner) and a pool of workers in this process, and a client for
 * them. The transport is the subclass's choice: worker_threads in Node (cluster/node.ts), Web
 * Workers in a browser (cluster/browser.ts), or the calling thread with `inline: true`.
 *
 *   const client = await LocalCluster.start({ workers: 2, memoryLimit: "1GB" });
 *   const client = await LocalCluster.start({ memoryLimit: "2GiB", memory: { target: 0.5, pause: 0.9 } });
 */

import type { DashboardOptions } from "../dashboard/server.js";
import { Client } from "../client/client.js";
import { TesseraError } from "../errors.js";
import type { SchedulerOptions } from "../scheduler/scheduler.js";
import { connectNewPeer, connectPeers, type PoolOptions, type SpawnWorkers } from "./link.js";
import { inlineWorker } from "./inline.js";
import { checkWorkers, parseBytes, parseThresholds } from "./options.js";
import type { MemoryOptions } from "../worker/memory-types.js";
import { Runner } from "./runner.js";

export interface LocalClusterOptions {
  /** Number of workers (default: the machine's cores). */
  workers?: number;
  /**
   * Memory per worker: bytes or a string such as "2GB", "512MiB" (default: a fair share of the
   * machine: total memory / workers in Node; navigator.deviceMemory (or 2 GiB) / workers in a
   * browser).
   */
  memoryLimit?: number | string;
  /**
   * When to spill, as fractions of memoryLimit (Dask's distributed.worker.memory.*; `false`
   * turns one off): target 0.6 (managed memory: spill least recently used values to disk),
   * spill 0.7 (measured memory, Node only), pause 0.8 (stop starting tasks and fetching inputs;
   * the scheduler assigns the worker nothing new), terminate 0.95 (measured memory, Node only:
   * the worker is killed and replaced, and what it held is recomputed). `spillCompression`
   * (default false, unlike Dask's "auto": on fast local disks the codec costs more than the
   * writes it saves): true byte-shuffles and LZ4-compresses spilled buffers where that saves at
   * least 1/8 (for slow or metered disks).
   */
  memory?: Partial<MemoryOptions>;
  /** Where Node workers make their spill directories (default: os.tmpdir()). */
  localDirectory?: string;
  /** Run tasks on the calling thread instead of worker threads. */
  inline?: boolean;
  /** Accept functions shipped as source (default true: client and workers share this process). */
  allowSource?: boolean;
  /** Modules every worker imports at start; `{ url, name }` registers `<name>.<export>` ops. */
  modules?: { url: string | URL; name: string }[];
  /**
   * Scheduler tuning: `workerSaturation` (root tasks per worker thread at once, default 1.1;
   * Infinity turns queuing off), `allowedFailures` (worker deaths a task may cause before it
   * errs with KilledWorker, default 3), and placement knobs for tests and benchmarks.
   */
  scheduler?: SchedulerOptions;
  /**
   * Node: serve the dashboard on a localhost port (default: on, a free port; `{ port }` picks
   * it; false: off); `client.dashboardLink` is its URL. Browser clusters feed an in-page
   * dashboard through `client.onMetrics` instead.
   */
  dashboard?: boolean | DashboardOptions;
}

export interface MachineInfo {
  cores: number;
  memory: number;
}

let clusterCount = 0;

function checkDirectory(d: unknown): string {
  if (typeof d !== "string" || d === "") throw new TesseraError(`localDirectory must be a directory path, got ${JSON.stringify(d)}`);
  return d;
}

export abstract class LocalClusterBase {
  readonly client: Client;
  private closing = false;
  private replacements = 0;
  protected constructor(
    readonly runner: Runner,
    private readonly spawn: SpawnWorkers,
    private readonly pool: PoolOptions,
  ) {
    this.client = new Client(runner, () => this.shutdown());
    // A worker that dies is replaced (Dask's nanny); its lost keys are recomputed from the graph.
    runner.onWorkerLost(() => void this.replace());
  }

  get memoryLimit(): number {
    return this.pool.memoryLimit;
  }

  /** Start workers and return a client connected to them. */
  static async startWith(
    spawn: SpawnWorkers,
    machine: MachineInfo,
    options: LocalClusterOptions,
    make: (runner: Runner, spawn: SpawnWorkers, pool: PoolOptions) => LocalClusterBase,
  ): Promise<Client> {
    const workers = options.inline ? 1 : checkWorkers(options.workers ?? Math.max(1, machine.cores));
    const memoryLimit =
      options.memoryLimit !== undefined ? parseBytes(options.memoryLimit) : Math.floor(machine.memory / Math.max(1, workers));
    const pool: PoolOptions = {
      workers,
      memoryLimit,
      memory: parseThresholds(options.memory),
      ...(options.localDirectory !== undefined ? { localDirectory: checkDirectory(options.localDirectory) } : {}),
      allowSource: options.allowSource ?? true,
      modules: (options.modules ?? []).map((m) => ({ url: m.url instanceof URL ? m.url.href : m.url, name: m.name })),
      name: `w${++clusterCount}`,
    };
    const start = options.inline ? inlineWorker : spawn;
    const links = await start(pool);
    try {
      await connectPeers(links);
    } catch (err) {
      await Promise.all(links.map((l) => l.terminate()));
      throw err;
    }
    const runner = new Runner(options.scheduler);
    for (const link of links) runner.addWorker(link);
    return make(runner, start, pool).client;
  }

  private async replace(): Promise<void> {
    if (this.closing) return;
    const name = `${this.pool.name}r${++this.replacements}`;
    try {
      const [link] = await this.spawn({ ...this.pool, workers: 1, name });
      const others = this.runner.workerIds.map((id) => this.runner.link(id)!);
      await connectNewPeer(link!, others);
      if (this.closing) await link!.terminate();
      else this.runner.addWorker(link!);
    } catch (err) {
      console.error(`tessera: could not replace a lost worker: ${(err as Error).message}`);
    }
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    await this.runner.close();
  }
}
