/** LocalCluster on Web Workers (the browser entry's LocalCluster). */

import type { Client } from "../client/client.js";
import { LocalClusterBase, type LocalClusterOptions } from "./local-cluster.js";
import { spawnWebWorkers } from "./pool-browser.js";

export class LocalCluster extends LocalClusterBase {
  /** Start `workers` Web Workers (default: navigator.hardwareConcurrency) and return a client. */
  static async start(options: LocalClusterOptions = {}): Promise<Client> {
    const nav = globalThis.navigator as (Navigator & { deviceMemory?: number }) | undefined;
    // deviceMemory (GiB, rounded and capped by the browser) is Chromium-only; 2 GiB elsewhere.
    const machine = { cores: nav?.hardwareConcurrency ?? 2, memory: (nav?.deviceMemory ?? 2) * 2 ** 30 };
    return LocalClusterBase.startWith(spawnWebWorkers, machine, options, (r, s, p) => new LocalCluster(r, s, p));
  }
}
