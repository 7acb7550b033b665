/**
 * The OPFS checkpoint page: on a 2-worker LocalCluster of Web Workers, a data-parallel run
 * without interruption; then the same run with checkpoints to the Origin Private File System,
 * stopped part-way (maxSteps); then, on a fresh cluster (as after a reload), resumed from the
 * newest checkpoint. Publishes the bits of both results on `window.__tesseraNN` for
 * test/e2e/nn-opfs.test.ts.
 */

import { LocalCluster, nn, type Client } from "tessera";
import { bits, data, every, options, spec, stop, type NnPageReport } from "./training.js";

const status = document.getElementById("status")!;
const step = (text: string) => (status.textContent = text);

/** The names in an OPFS directory (path segments under the origin's root). */
async function listOpfs(path: string): Promise<string[]> {
  let dir = await navigator.storage.getDirectory();
  for (const seg of path.split("/")) dir = await dir.getDirectoryHandle(seg);
  const names: string[] = [];
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
  return names.sort();
}

async function main(): Promise<NnPageReport> {
  const dir = `tessera-e2e-nn/run-${Date.now()}`;
  let client: Client = await LocalCluster.start({ workers: 2 });
  const written: NnPageReport["written"] = [];
  let whole: nn.FitResult, part: nn.FitResult, rest: nn.FitResult;
  let files: string[];
  try {
    step("training without interruption…");
    whole = await nn.fitDataParallel(client, spec, data(), options);
    step(`training with checkpoints to OPFS ${dir}, stopping at step ${stop}…`);
    part = await nn.fitDataParallel(client, spec, data(), { ...options, checkpoint: { dir, every, keep: 3 }, maxSteps: stop, onCheckpoint: (e) => written.push(e) });
    files = await listOpfs(dir);
  } finally {
    await client.close();
  }
  step("resuming on a fresh cluster from the newest checkpoint…");
  client = await LocalCluster.start({ workers: 2 });
  try {
    rest = await nn.fitDataParallel(client, spec, data(), { ...options, checkpoint: { dir, every }, resume: true });
  } finally {
    await client.close();
  }
  const root = await navigator.storage.getDirectory();
  await root.removeEntry("tessera-e2e-nn", { recursive: true });
  step(`done: resumed from step ${rest.startStep} to ${rest.steps}`);
  return {
    done: true,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    move: typeof (FileSystemFileHandle.prototype as { move?: unknown }).move === "function",
    dir,
    written,
    files,
    stopped: part.steps,
    resumedFrom: rest.startStep,
    steps: rest.steps,
    whole: { params: bits(whole.replicaParams[0]!), state: whole.optimizerState.map(bits), t: whole.optimizerSteps, history: JSON.stringify(whole.history) },
    resumed: { params: rest.replicaParams.map(bits), state: rest.optimizerState.map(bits), t: rest.optimizerSteps, history: JSON.stringify(rest.history) },
  };
}

main()
  .catch((err: unknown) => {
    step(`error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return { done: true, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) } as NnPageReport;
  })
  .then((report) => {
    window.__tesseraNN = report;
  });
