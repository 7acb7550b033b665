/**
 * The playground: edit and run example programs (examples.ts) against tessera on a 2-worker
 * LocalCluster of Web Workers in this tab, with the dashboard beside the editor (its task
 * stream, progress and workers panels, fed by client.onMetrics). A program is the body of an
 * async function; see examples.ts for the names in its scope. `?example=<id>` picks the
 * example shown first.
 *
 * `window.__tesseraPlayground` reports each run (example, ok, ms, error) for tests.
 */

import * as tessera from "tessera";
import { formatCount } from "../dashboard/colors.js";
import { ProgressPanel, WorkersPanel } from "../dashboard/panels.js";
import { DashboardState } from "../dashboard/state.js";
import { TaskStream } from "../dashboard/task-stream.js";
import { Editor } from "./editor.js";
import { EXAMPLES } from "./examples.js";
import { Output } from "./output.js";

export interface RunReport {
  example: string;
  ok: boolean;
  ms: number;
  error?: string;
}

declare global {
  interface Window {
    __tesseraPlayground?: { ready: boolean; crossOriginIsolated: boolean; runs: RunReport[]; error?: string };
  }
}

const $ = <T extends HTMLElement>(sel: string): T => {
  const e = document.querySelector<T>(sel);
  if (!e) throw new Error(`playground: the page has no ${sel}`);
  return e;
};

const report: NonNullable<Window["__tesseraPlayground"]> = { ready: false, crossOriginIsolated: globalThis.crossOriginIsolated === true, runs: [] };
window.__tesseraPlayground = report;

const status = $("#status");
const runButton = $<HTMLButtonElement>("#run");
const picker = $<HTMLSelectElement>("#example");
const fileInput = $<HTMLInputElement>("#file");
const urlInput = $<HTMLInputElement>("#url");
const output = new Output($("#result"), $("#chart"), $("#log"));
const editor = new Editor($<HTMLTextAreaElement>("#code"), $("#gutter"), () => void run());

function setStatus(state: "starting" | "ready" | "running" | "done" | "error", text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

// ---- examples -----------------------------------------------------------------------------

for (const ex of EXAMPLES) picker.append(new Option(ex.title, ex.id));
const params = new URLSearchParams(location.search);
const first = EXAMPLES.find((e) => e.id === params.get("example")) ?? EXAMPLES[0]!;
picker.value = first.id;
editor.value = first.code;
document.body.dataset.example = first.id;
picker.addEventListener("change", () => {
  const ex = EXAMPLES.find((e) => e.id === picker.value)!;
  editor.value = ex.code;
  document.body.dataset.example = ex.id;
  output.clear();
});
$("#reset").addEventListener("click", () => {
  editor.value = EXAMPLES.find((e) => e.id === picker.value)!.code;
});

// ---- the dashboard panel ------------------------------------------------------------------

const state = new DashboardState();
const stream = new TaskStream($<HTMLCanvasElement>("#stream canvas"), $("#stream .tip"), state);
const progress = new ProgressPanel($("#progress .list"));
const workers = new WorkersPanel($<HTMLTableSectionElement>("#workers tbody"));
const summary = $("#summary");
let pending = false;
function render(): void {
  pending = false;
  stream.draw();
  progress.render(state.prefixes.values());
  workers.render(state.workers);
  const t = state.totals();
  summary.textContent = `${formatCount(t.done)} / ${formatCount(t.total)} tasks done${t.erred ? ` · ${formatCount(t.erred)} failed` : ""} · ${formatCount(t.processing)} running`;
}
new ResizeObserver(() => stream.draw()).observe($("#stream"));

// ---- running ------------------------------------------------------------------------------

/** The cluster: started at load, so the dashboard shows its workers before the first run. */
const started = tessera.LocalCluster.start({ workers: 2 }).then((client) => {
  client.onMetrics((m) => {
    state.apply(m);
    if (!pending) {
      pending = true;
      requestAnimationFrame(render);
    }
  });
  return client;
});
started.then(
  () => {
    report.ready = true;
    runButton.disabled = false;
    setStatus("ready", `ready: 2 Web Workers${report.crossOriginIsolated ? "" : " (not cross-origin isolated: no SharedArrayBuffer, training will not run)"}`);
  },
  (err: unknown) => {
    report.error = describe(err);
    setStatus("error", `could not start the workers: ${report.error}`);
  },
);

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<unknown>;

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

let running = false;

async function run(): Promise<void> {
  if (running) return;
  running = true;
  runButton.disabled = true;
  const example = picker.value;
  output.clear();
  setStatus("running", "running…");
  const t0 = performance.now();
  try {
    const client = await started;
    const input = { file: fileInput.files?.[0], url: urlInput.value.trim() || undefined };
    // The program is the body of an async function: `await` works at its top level.
    let program: (...args: unknown[]) => Promise<unknown>;
    try {
      program = new AsyncFunction("tessera", "client", "show", "plot", "log", "input", editor.value);
    } catch (err) {
      throw new Error(`the program does not parse: ${describe(err)}`, { cause: err });
    }
    const value = await program(
      tessera,
      client,
      (v: unknown) => output.show(v),
      (y: ArrayLike<number>, o?: { label?: string }) => output.plot(y, o),
      (...parts: unknown[]) => output.log(...parts),
      input,
    );
    if (value !== undefined) output.show(value);
    const ms = performance.now() - t0;
    report.runs.push({ example, ok: true, ms });
    setStatus("done", `done in ${(ms / 1000).toFixed(2)} s`);
  } catch (err) {
    const ms = performance.now() - t0;
    report.runs.push({ example, ok: false, ms, error: describe(err) });
    // Shown in the page, not the console: the program's error is the user's, not the page's.
    output.show(err instanceof Error && err.stack ? `${describe(err)}\n\n${err.stack}` : describe(err));
    $("#result").dataset.kind = "error";
    setStatus("error", `failed: ${describe(err)}`);
  } finally {
    running = false;
    runButton.disabled = false;
  }
}

runButton.addEventListener("click", () => void run());
