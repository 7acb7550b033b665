/**
 * The playground's example programs. Each is the body of an async function the page runs with
 * these names in scope:
 *
 *   tessera  the tessera module (array, dataframe, nn, ml, delayed, ...)
 *   client   a LocalCluster of 2 Web Workers in this tab (its dashboard is beside the editor)
 *   show(x)  show a value below the editor: an Arrow table (a computed dataframe) as a table,
 *            an NDArray, an object of numbers as a list, anything else as text
 *   plot(y, { label })  draw a line chart of the numbers y (call again to update it)
 *   log(...) add a line to the log below the result
 *   input    what the Parquet example reads: input.file (the chosen File) or input.url
 *
 * Keep each self-contained: functions shipped to workers (delayed, map) take no closures.
 */

export interface Example {
  id: string;
  title: string;
  code: string;
}

const arrayStats = `// Array statistics: a 4000 x 4000 array of normal samples (128 MB) in 64 chunks,
// summarized on the workers; only the five numbers come back.
const { array } = tessera;
const x = array.random.normal([4000, 4000], { chunks: [500, 500], seed: 42, loc: 10, scale: 2 });
const [mean, std, min, max, above] = await client.compute([
  x.mean(), x.std(), x.min(), x.max(), x.gt(12).sum(),
]);
show({
  mean: mean.item(),
  std: std.item(),
  min: min.item(),
  max: max.item(),
  "share above 12": above.item() / (4000 * 4000),
});
`;

const parquetGroupby = `// A Parquet file -> groupby -> table. Choose a file above, or give its URL; with
// neither, the example writes a sample file in memory first. It groups by the file's
// first text column and averages the numeric ones.
const { dataframe: dd } = tessera;
let source = input.file ?? input.url;
if (!source) {
  const n = 20000;
  const cities = ["Lisbon", "Oslo", "Nairobi", "Lima", "Hanoi"];
  const city = Array.from({ length: n }, (_, i) => cities[i % cities.length]);
  const temp = Float64Array.from({ length: n }, (_, i) => 10 + (i % 5) * 4 + Math.sin(i));
  const rain = Float64Array.from({ length: n }, (_, i) => (i * 7919) % 100 / 10);
  const [bytes] = await dd.fromArrays({ city, temp, rain }, { npartitions: 1 }).toParquet(null, { rowGroupSize: 2500 });
  source = new File([bytes], "sample.parquet");
}
const df = dd.readParquet(source);
const schema = await df.schema();
const key = schema.names.find((_, i) => schema.types[i].type === "string");
if (!key) throw new Error("this file has no text column to group by; edit the example");
const numeric = schema.names.filter((n, i) => n !== key && /^(float|int|uint)/.test(schema.types[i].type));
const aggs = Object.fromEntries(numeric.map((n) => [n, ["mean", "count"]]));
const parts = await df.npartitions();
log(\`\${await df.len()} rows in \${parts} partition\${parts === 1 ? "" : "s"}; grouping by \${key}\`);
show(await df.groupby(key).agg(aggs).compute());
`;

const training = `// Training a small network with a loss curve: two interleaved spirals (2 classes),
// an MLP trained data-parallel on both workers (nn.fitDataParallel), the loss of
// every step drawn as it comes in.
const { nn } = tessera;
const n = 2000;
const x = [], y = new Int32Array(n);
for (let i = 0; i < n; i++) {
  const c = i % 2, t = (i / n) * 3 * Math.PI + 0.3;
  const r = t / (3 * Math.PI), a = t + c * Math.PI;
  x.push([r * Math.cos(a) + 0.02 * Math.sin(i * 12.9898), r * Math.sin(a) + 0.02 * Math.cos(i * 78.233)]);
  y[i] = c;
}
const spec = nn.sequential([nn.dense(2, 64), nn.tanh(), nn.dense(64, 64), nn.tanh(), nn.dense(64, 2)], { seed: 1 });
const losses = [];
const run = await nn.fitDataParallel(client, spec, { x, y }, {
  epochs: 40, batchSize: 64, optimizer: nn.adam({ lr: 0.01 }), seed: 0,
  onStep: (e) => { losses.push(e.loss); plot(losses, { label: "training loss" }); },
  onEpoch: (e) => e.epoch % 10 === 9 && log(\`epoch \${e.epoch + 1}: loss \${e.loss.toFixed(4)}, accuracy \${(100 * e.accuracy).toFixed(1)}%\`),
});
const final = await run.model.evaluate(x, y);
show({ steps: run.steps, "first loss": losses[0], "final loss": final.loss, accuracy: final.accuracy });
`;

const pipeline = `// Parquet -> preprocessing -> training -> held-out accuracy: the pipeline of
// examples/train-digits-parquet.mjs on a table made here (choose a Parquet file above to
// use your own: its last column is the label, text columns are one-hot encoded). A sample:
// 6 measurements and a region; three classes decided by them.
const { dataframe: dd, ml, nn } = tessera;
let source = input.file ?? input.url;
if (!source) {
  const n = 6000, regions = ["north", "south", "east", "west"];
  const cols = {}, region = [], label = new Float64Array(n);
  const u = (i, j) => { const s = Math.sin(i * 12.9898 + j * 78.233) * 43758.5453; return 2 * (s - Math.floor(s)) - 1; };
  for (let j = 0; j < 6; j++) cols["m" + j] = Float64Array.from({ length: n }, (_, i) => u(i, j));
  for (let i = 0; i < n; i++) {
    const r = Math.floor(((u(i, 9) + 1) / 2) * 4) % 4;
    region.push(regions[r]);
    const m = (j) => cols["m" + j][i];
    const score = [m(0) + m(1) - 0.5 * r, m(2) * m(3) * 2 + m(4), -m(0) + m(5) + 0.4 * r];
    label[i] = score.indexOf(Math.max(...score));
  }
  const [bytes] = await dd.fromArrays({ ...cols, region, label }, { npartitions: 1 }).toParquet(null, { rowGroupSize: 1000 });
  source = new File([bytes], "sample.parquet");
}
const raw = dd.readParquet(source);
const schema = await raw.schema();
const target = schema.names.at(-1);
const text = schema.names.filter((n, i) => n !== target && schema.types[i].type === "string");
const df = text.length > 0 ? raw.getDummies(text) : raw;
const features = (await df.columns()).filter((c) => c !== target);
const [Xtr, Xte, ytr, yte] = ml.trainTestSplit(df.select(...features), df.select(target), { testSize: 0.2, seed: 0 });
const scaler = new ml.StandardScaler();
const Xs = await scaler.fitTransform(Xtr);
let top = 0;
for (const v of (await df.select(target).compute()).getChild(target).toArray()) top = Math.max(top, Number(v));
const classes = Math.max(2, top + 1);
log(\`\${await df.len()} rows, \${features.length} features (\${text.length ? "one-hot: " + text.join(", ") : "no text columns"}), \${classes} classes\`);
const spec = nn.sequential([nn.dense(features.length, 64), nn.relu(), nn.dense(64, classes)], { seed: 1 });
const losses = [];
const run = await nn.fitDataParallel(client, spec, { x: Xs, y: ytr }, {
  epochs: 15, batchSize: 64, optimizer: nn.adam({ lr: 3e-3 }), seed: 0,
  onStep: (e) => { losses.push(e.loss); plot(losses, { label: "training loss" }); },
});
const held = await run.model.evaluate(scaler.transform(Xte), yte);
show({ steps: run.steps, "final training loss": losses.at(-1), "held-out rows": held.rows, "held-out accuracy": held.accuracy });
`;

export const EXAMPLES: Example[] = [
  { id: "array", title: "Array statistics", code: arrayStats },
  { id: "parquet", title: "Parquet → groupby → table", code: parquetGroupby },
  { id: "training", title: "Training with a loss curve", code: training },
  { id: "pipeline", title: "Parquet → one-hot, scaler → MLP → held-out accuracy", code: pipeline },
];
