#!/usr/bin/env node
/**
 * The `tessera` command. Subcommands grow with the project; each is a small function here or a
 * module it imports on demand, so `tessera --help` stays fast.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const HELP = `tessera — Dask for the web: lazy task graphs on worker pools

Usage:
  tessera bench <suite> [--json] [--quick]   run a benchmark suite (suites: scheduler, kernels, array, dataframe, memory, ml, train)
  tessera demo                               run the demo pipeline on a local cluster
  tessera dashboard [--port N] [--host H]    serve the dashboard and playground pages (default port 8787)
  tessera dashboard --demo [--runs N] [--stay]
                                             the same, watching a demo workload run on a local cluster
  tessera --version                          print the version
  tessera --help                             print this help

Benchmarks print one line per case; with --json, one JSON object per line.
They need a source checkout (the bench/ folder, built by \`npm run build\`).`;

type Emit = (row: Record<string, unknown>) => void;

type Suite = (opts: { quick: boolean; emit: Emit }) => Promise<void>;

/** A suite is a module in bench/ exporting one run function. */
const suite =
  (file: string, fn: string): Suite =>
  async (opts) => {
    const mod = (await importBench(file)) as Record<string, Suite>;
    await mod[fn]!(opts);
  };

const SUITES: Record<string, Suite> = {
  scheduler: suite("scheduler.js", "runSchedulerBench"),
  kernels: suite("kernels.js", "runKernelsBench"),
  array: suite("array.js", "runArrayBench"),
  memory: suite("memory.js", "runMemoryBench"),
  dataframe: suite("dataframe.js", "runDataframeBench"),
  ml: suite("ml.js", "runMlBench"),
  train: suite("train.js", "runTrainBench"),
};

async function importBench(file: string): Promise<unknown> {
  const url = new URL(`../../build/bench/${file}`, import.meta.url);
  try {
    return await import(url.href);
  } catch (err) {
    throw new Error(`cannot load benchmark ${fileURLToPath(url)}: run \`npm run build\` in a source checkout first`, { cause: err });
  }
}

function formatRow(row: Record<string, unknown>): string {
  return Object.entries(row)
    .map(([k, v]) => `${k}=${typeof v === "number" ? (Number.isInteger(v) ? v : v.toPrecision(4)) : String(v)}`)
    .join("  ");
}

export async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => !a.startsWith("--"));
  const flags = new Set(argv.filter((a) => a.startsWith("--")));
  if (flags.has("--version")) {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    console.log(pkg.version);
    return 0;
  }
  const [cmd, ...rest] = args;
  if (!cmd || flags.has("--help") || cmd === "help") {
    console.log(HELP);
    return cmd || flags.has("--help") ? 0 : 1;
  }
  if (cmd === "bench") {
    const suite = rest[0];
    const run = suite ? SUITES[suite] : undefined;
    if (!run) {
      console.error(`tessera bench: unknown suite ${JSON.stringify(suite ?? "")}; suites: ${Object.keys(SUITES).join(", ")}`);
      return 2;
    }
    const json = flags.has("--json");
    await run({ quick: flags.has("--quick"), emit: (row) => console.log(json ? JSON.stringify(row) : formatRow(row)) });
    return 0;
  }
  if (cmd === "dashboard") {
    const { dashboardCommand } = await import("../dashboard/cli.js");
    return dashboardCommand(argv.slice(argv.indexOf("dashboard") + 1));
  }
  if (cmd === "demo") {
    await import(new URL("../../examples/demo.mjs", import.meta.url).href);
    return 0;
  }
  console.error(`tessera: unknown command ${JSON.stringify(cmd)}\n\n${HELP}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`tessera: ${(err as Error).message}`);
    if ((err as Error).cause) console.error(`  caused by: ${((err as Error).cause as Error).message}`);
    process.exit(1);
  },
);
