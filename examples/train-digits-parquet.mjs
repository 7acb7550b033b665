// Parquet → preprocessing (one-hot, scaler) → an MLP trained data-parallel → held-out accuracy.
//
//   npm run build && node examples/train-digits-parquet.mjs [path/to/digits.csv.gz]
//
// The digits dataset (8x8 images, 10 classes; ../shared/datasets/digits.csv.gz) is written as a
// Parquet dataset with one engineered categorical column (`ink`: how much of the image is
// drawn, as a string), read back as a dataframe, one-hot encoded (getDummies), split, scaled
// (StandardScaler fitted on the training rows only), and a 65-128-10 MLP is trained on 2
// workers with checkpoints, then evaluated on the held-out rows.
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { LocalCluster, dataframe as dd, ml, nn } from "../dist/index.js";

const file = process.argv[2] ?? new URL("../../shared/datasets/digits.csv.gz", import.meta.url).pathname;
const lines = gunzipSync(readFileSync(file)).toString("utf8").trim().split("\n");
const n = lines.length;
const cols = {};
for (let j = 0; j < 64; j++) cols[`p${j}`] = new Float64Array(n);
const ink = [];
const label = new Float64Array(n);
lines.forEach((line, i) => {
  const v = line.split(",").map(Number);
  let sum = 0;
  for (let j = 0; j < 64; j++) {
    cols[`p${j}`][i] = v[j];
    sum += v[j];
  }
  ink.push(sum < 260 ? "light" : sum < 320 ? "medium" : "heavy");
  label[i] = v[64];
});

const client = await LocalCluster.start({ workers: 2 });
try {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tessera-digits-"));
  await dd.fromArrays({ ...cols, ink, label }, { npartitions: 6 }).toParquet(path.join(dir, "digits"));

  // Read back; one-hot the string column; features are everything but the label.
  const df = dd.readParquet(path.join(dir, "digits")).getDummies(["ink"]);
  const features = (await df.columns()).filter((c) => c !== "label");
  const [Xtr, Xte, ytr, yte] = ml.trainTestSplit(df.select(...features), df.select("label"), { testSize: 0.2, seed: 0 });
  const scaler = new ml.StandardScaler();
  const Xs = await scaler.fitTransform(Xtr);

  const d = features.length;
  const spec = nn.sequential([nn.dense(d, 128), nn.relu(), nn.dense(128, 10)], { seed: 1 });
  const t0 = performance.now();
  const run = await nn.fitDataParallel(client, spec, { x: Xs, y: ytr }, {
    epochs: 20, batchSize: 64, workers: 2, seed: 0,
    optimizer: nn.adamw({ lr: 3e-3, weightDecay: 1e-4, schedule: nn.warmupLr(20, nn.cosineLr()) }),
    checkpoint: { dir: path.join(dir, "checkpoints"), every: 100 },
    onEpoch: (e) => e.epoch % 5 === 4 && console.log(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, training accuracy ${(100 * e.accuracy).toFixed(1)}%`),
  });
  const acc = await run.model.evaluate(scaler.transform(Xte), yte);
  console.log(`${d} features (64 pixels + ${d - 64} one-hot), ${run.steps} steps on ${run.workers.length} workers in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  console.log(`held-out accuracy ${(100 * acc.accuracy).toFixed(2)}% over ${acc.rows} rows (loss ${acc.loss.toFixed(4)}); checkpoints in ${path.join(dir, "checkpoints")}`);
  if (acc.accuracy < 0.95) process.exitCode = 1;
} finally {
  await client.close();
}
