// The demo pipeline that `npm start` runs: a small out-of-thread data job on an embedded
// LocalCluster (worker_threads), using the task-graph API: registered ops, delayed calls, a
// tree reduction, futures, and an error that is reported rather than lost; then dataframes over
// Parquet, and a network trained on both workers from a Parquet dataset.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalCluster, dataframe as dd, delayed, ml, nn, op } from "tessera";

const partitions = Number(process.env.DEMO_PARTITIONS ?? 32);
const perPartition = Number(process.env.DEMO_ROWS ?? 1_000_000);

const t0 = performance.now();
const client = await LocalCluster.start({
  workers: Number(process.env.DEMO_WORKERS ?? 2),
  modules: [{ url: new URL("./ops.mjs", import.meta.url), name: "demo" }],
});
console.log(`tessera demo: ${client.workers.length} workers (${client.workers.join(", ")}); dashboard: ${client.dashboardLink ?? "off"}`);

// 1. A lazy graph: make partitions, summarize each, combine them 4 at a time.
const make = delayed(op("demo.makePartition"));
const summarize = delayed(op("demo.summarize"));
const combine = delayed(op("demo.combine"));
let level = Array.from({ length: partitions }, (_, i) => summarize(make(42, i, perPartition)));
while (level.length > 1) {
  const next = [];
  for (let i = 0; i < level.length; i += 4) next.push(combine(...level.slice(i, i + 4)));
  level = next;
}
const stats = await client.compute(level[0]);
const mean = stats.sum / stats.count;
const std = Math.sqrt(stats.sumsq / stats.count - mean * mean);
const t1 = performance.now();
console.log(
  `summarized ${stats.count.toLocaleString()} values in ${partitions} partitions: ` +
    `mean=${mean.toFixed(5)} std=${std.toFixed(5)} min=${stats.min.toFixed(6)} max=${stats.max.toFixed(6)} ` +
    `(${((t1 - t0) / 1000).toFixed(2)} s, ${((stats.count * 8) / 1e6 / ((t1 - t0) / 1000)).toFixed(0)} MB/s)`,
);
const width = 40;
const top = Math.max(...stats.hist);
for (let b = 0; b < 10; b++) {
  const bar = "#".repeat(Math.round((stats.hist[b] / top) * width));
  console.log(`  [${(b / 10).toFixed(1)}, ${((b + 1) / 10).toFixed(1)}) ${bar} ${stats.hist[b]}`);
}

// 2. Futures: scatter data once, map a function over it, consume results as they finish.
const [weights] = await client.scatter([Float64Array.from({ length: 1000 }, (_, i) => i / 1000)]);
const futures = client.map((k) => k * k, [1, 2, 3, 4, 5]);
const dot = client.submit((w, xs) => w.reduce((s, v, i) => s + v * (xs[i % xs.length] ?? 0), 0), weights, futures);
const squares = [];
for await (const [, value] of client.asCompleted(futures, { withResults: true })) squares.push(value);
console.log(`squares (as completed): ${squares.sort((a, b) => a - b).join(", ")}; weighted sum: ${(await dot.result()).toFixed(3)}`);

// 3. Errors name the task and keep the worker's error as their cause.
const parse = delayed((s) => {
  const n = Number(s);
  if (Number.isNaN(n)) throw new Error(`not a number: ${JSON.stringify(s)}`);
  return n;
});
try {
  await client.compute(delayed((a, b) => a + b)(parse("1"), parse("x2")));
} catch (err) {
  console.log(`expected failure: ${err.message}`);
}

// 4. Dataframes: write a Parquet dataset (a file per partition, written by the workers), read
// it back lazily (only the columns used), filter, derive a column, group and aggregate.
const dir = await mkdtemp(join(tmpdir(), "tessera-demo-"));
try {
  const rows = 2_000_000;
  const cities = ["Lisbon", "Oslo", "Lima", "Pune", "Kyoto"];
  const trips = dd.fromArrays(
    {
      city: Array.from({ length: rows }, (_, i) => cities[(i * 7) % cities.length]),
      km: Float64Array.from({ length: rows }, (_, i) => ((i * 7919) % 300) / 10),
      minutes: Float64Array.from({ length: rows }, (_, i) => 10 + ((i * 104729) % 50)),
    },
    { npartitions: 8 },
  );
  await trips.toParquet(dir);
  const t2 = performance.now();
  const df = dd.readParquet(join(dir, "*.parquet"));
  const table = await df
    .filter(dd.col("km").gt(1))
    .assign({ speed: dd.col("km").div(dd.col("minutes").div(60)) })
    .groupby("city")
    .agg({ speed: ["mean", "max"], km: ["sum", "count"] })
    .compute();
  console.log(`grouped ${(await df.len()).toLocaleString()} Parquet rows by city in ${((performance.now() - t2) / 1000).toFixed(2)} s:`);
  for (const r of table.toArray()) {
    console.log(`  ${r.city.padEnd(7)} mean ${r.speed_mean.toFixed(1)} km/h, max ${r.speed_max.toFixed(1)}, ${r.km_count} trips, ${Math.round(r.km_sum).toLocaleString()} km`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

// 5. Training: a Parquet dataset with a string column, one-hot encoded (getDummies), split,
// scaled, and an MLP trained data-parallel on both workers (a replica each, gradients
// all-reduced every step); then its accuracy on the held-out rows.
const trainDir = await mkdtemp(join(tmpdir(), "tessera-demo-train-"));
try {
  const n = 4000; // two interleaved spirals: not separable by a line
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const label = new Float64Array(n);
  const ring = [];
  for (let i = 0; i < n; i++) {
    const arm = i % 2;
    const t = (i / n) * 3 * Math.PI + 0.3;
    const r = t / (3 * Math.PI);
    x[i] = r * Math.cos(t + arm * Math.PI) + 0.02 * Math.sin(i * 12.9898);
    y[i] = r * Math.sin(t + arm * Math.PI) + 0.02 * Math.cos(i * 78.233);
    label[i] = arm;
    ring.push(r < 0.33 ? "inner" : r < 0.66 ? "middle" : "outer");
  }
  await dd.fromArrays({ x, y, ring, label }, { npartitions: 4 }).toParquet(trainDir);
  const points = dd.readParquet(join(trainDir, "*.parquet")).getDummies(["ring"]);
  const features = (await points.columns()).filter((c) => c !== "label");
  const [Xtr, Xte, ytr, yte] = ml.trainTestSplit(points.select(...features), points.select("label"), { testSize: 0.2, seed: 0 });
  const scaler = new ml.StandardScaler();
  const spec = nn.sequential([nn.dense(features.length, 64), nn.tanh(), nn.dense(64, 64), nn.tanh(), nn.dense(64, 2)], { seed: 1 });
  const t3 = performance.now();
  const run = await nn.fitDataParallel(client, spec, { x: await scaler.fitTransform(Xtr), y: ytr }, {
    epochs: 40, batchSize: 64, workers: 2, seed: 0, optimizer: nn.adam({ lr: 0.01 }),
  });
  const acc = await run.model.evaluate(scaler.transform(Xte), yte);
  console.log(
    `trained an MLP on [${features.join(", ")}] from Parquet: ${run.steps} steps on ${run.workers.length} workers in ` +
      `${((performance.now() - t3) / 1000).toFixed(2)} s, held-out accuracy ${(100 * acc.accuracy).toFixed(1)}% (${acc.rows} rows)`,
  );
} finally {
  await rm(trainDir, { recursive: true, force: true });
}

console.log(`done in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
if (process.argv.includes("--stay") && client.dashboardLink) {
  // `npm start -- --stay`: keep the cluster and its dashboard up to look at what ran.
  console.log(`the dashboard stays up at ${client.dashboardLink} (Ctrl-C to stop)`);
  await new Promise((resolve) => process.once("SIGINT", resolve));
}
await client.close();
