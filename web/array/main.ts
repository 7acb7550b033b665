/**
 * The array parity page: starts a 2-worker LocalCluster on Web Workers, runs the shared pipeline
 * (pipeline.ts), draws one row per output (first value, its bits, a digest of all bits) and
 * publishes every output's bits on `window.__tesseraArray` for test/e2e/array.test.ts, which runs
 * the same pipeline in Node and compares.
 */

import { LocalCluster, type Client } from "tessera";
import { digest, runPipeline, type ArrayPageReport, type PipelineOutput } from "./pipeline.js";

const tbody = document.querySelector<HTMLTableSectionElement>("#outputs tbody")!;
const status = document.getElementById("status")!;

/** The first element as a number, read back from its bits. */
function firstValue(o: PipelineOutput): string {
  const h = o.hex[0];
  if (h === undefined) return "(empty)";
  const view = new DataView(new ArrayBuffer(8));
  if (o.dtype === "float64") {
    view.setBigUint64(0, BigInt(`0x${h}`));
    return String(view.getFloat64(0));
  }
  if (o.dtype === "float32") {
    view.setUint32(0, parseInt(h, 16));
    return String(view.getFloat32(0));
  }
  return String(o.dtype === "int32" ? parseInt(h, 16) | 0 : parseInt(h, 16));
}

function addRow(o: PipelineOutput): void {
  const tr = document.createElement("tr");
  tr.dataset.output = o.name;
  const cells: [string, string][] = [
    ["", o.name],
    ["", o.dtype],
    ["", `[${o.shape.join(", ")}]`],
    ["num", firstValue(o)],
    ["mono", o.hex[0] ?? ""],
    ["mono", digest(o)],
  ];
  for (const [cls, text] of cells) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    tr.append(td);
  }
  tbody.append(tr);
}

async function main(): Promise<ArrayPageReport> {
  const t0 = performance.now();
  let client: Client | undefined;
  try {
    client = await LocalCluster.start({ workers: 2 });
    status.textContent = `running on ${client.workers.length} Web Workers…`;
    const outputs = await runPipeline(client);
    for (const o of outputs) addRow(o);
    return { done: true, outputs, crossOriginIsolated: globalThis.crossOriginIsolated === true, workers: client.workers.length, ms: performance.now() - t0 };
  } finally {
    await client?.close();
  }
}

main()
  .catch((err: unknown): ArrayPageReport => ({
    done: true,
    outputs: [],
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    workers: 0,
    ms: 0,
    error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
  }))
  .then((report) => {
    status.textContent = report.error
      ? `error: ${report.error}`
      : `${report.outputs.length} outputs from ${report.workers} Web Workers in ${report.ms.toFixed(0)} ms (cross-origin isolated: ${report.crossOriginIsolated})`;
    document.body.dataset.done = report.error ? "failed" : "ok";
    window.__tesseraArray = report;
  });
