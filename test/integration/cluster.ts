// The cluster the worker_threads tests share: 2 workers with the fixture ops as "fx.*".
import { LocalCluster, type Client } from "../../dist/index.js";

export const OPS = new URL("../fixtures/ops.mjs", import.meta.url).href;

export function startCluster(): Promise<Client> {
  return LocalCluster.start({ workers: 2, modules: [{ url: OPS, name: "fx" }] });
}
