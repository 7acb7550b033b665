/** LocalCluster on worker_threads (the Node entry's LocalCluster). */

import os from "node:os";
import type { Client } from "../client/client.js";
import { LocalClusterBase, type LocalClusterOptions } from "./local-cluster.js";
import { spawnNodeWorkers } from "./pool-node.js";

export class LocalCluster extends LocalClusterBase {
  /** Start `workers` worker_threads (default: one per core) and return a client for them. */
  static async start(options: LocalClusterOptions = {}): Promise<Client> {
    const machine = { cores: os.availableParallelism?.() ?? os.cpus().length, memory: os.totalmem() };
    return LocalClusterBase.startWith(spawnNodeWorkers, machine, options, (r, s, p) => new LocalCluster(r, s, p));
  }
}
