/** LocalCluster on worker_threads (the Node entry's LocalCluster). */

import os from "node:os";
import type { Client } from "../client/client.js";
import { LocalClusterBase, type LocalClusterOptions } from "./local-cluster.js";
import { spawnNodeWorkers } from "./pool-node.js";
import { startDashboard } from "../dashboard/server.js";

export class LocalCluster extends LocalClusterBase {
  /** Start `workers` worker_threads (default: one per core) and return a client for them. */
  static async start(options: LocalClusterOptions = {}): Promise<Client> {
    const machine = { cores: os.availableParallelism?.() ?? os.cpus().length, memory: os.totalmem() };
    const client = await LocalClusterBase.startWith(spawnNodeWorkers, machine, options, (r, s, p) => new LocalCluster(r, s, p));
    if (options.dashboard !== false) {
      try {
        await startDashboard(client, typeof options.dashboard === "object" ? options.dashboard : {});
      } catch (err) {
        // A busy port must not keep the cluster from starting: compute works without a dashboard.
        console.warn(`tessera: the dashboard did not start: ${(err as Error).message}`);
      }
    }
    return client;
  }
}
