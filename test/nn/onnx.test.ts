// toOnnxFeeds: toBatches' mini-batches as ONNX Runtime feeds, built with onnxruntime-common's
// Tensor — the class onnxruntime-web and onnxruntime-node re-export as ort.Tensor — so its own
// checks (type, typed-array class, length = product of dims) apply, and the test can check the
// features tensor views the batch's own Float32Array (no copy).
import { Tensor } from "onnxruntime-common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, nn, type Client } from "../../dist/index.js";

const ort = { Tensor };

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const n = 100;
const X = () => da.fromTypedArray(Float64Array.from({ length: n * 3 }, (_, i) => Math.floor(i / 3) + (i % 3) / 10), { shape: [n, 3], chunks: [30, 3] });
const y = () => da.fromTypedArray(Float64Array.from({ length: n }, (_, i) => i % 4), { chunks: [30] });

describe("toOnnxFeeds", () => {
  it("feeds float32 [rows, d] features that view the batch's array, and labels, every row once", async () => {
    const batches: nn.Batch[] = [];
    const tap = async function* () {
      for await (const b of nn.toBatches(X(), { label: y(), batchSize: 32, seed: 1, client })) yield batches[batches.push(b) - 1]!;
    };
    const seen: number[] = [];
    let i = 0;
    for await (const feeds of nn.toOnnxFeeds(ort, tap(), { input: "features", label: "target" })) {
      const b = batches[i++]!;
      const x = feeds.features!, t = feeds.target!;
      expect(Object.keys(feeds).sort()).toEqual(["features", "target"]);
      expect([x.type, x.dims]).toEqual(["float32", [b.rows, 3]]);
      // No copy: the tensor's data is the batch's own array (or a view of exactly its rows).
      expect((x.data as Float32Array).buffer).toBe(b.x.buffer);
      expect((x.data as Float32Array).byteOffset).toBe(b.x.byteOffset);
      expect((t.data as Float32Array).buffer).toBe(b.y!.buffer);
      expect([t.type, t.dims]).toEqual(["float32", [b.rows]]);
      for (let r = 0; r < b.rows; r++) {
        const id = Math.round(x.data[r * 3] as number);
        seen.push(id);
        expect(t.data[r]).toBe(id % 4);
      }
    }
    expect(i).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, r) => r));
  });

  it("int64 labels as a column, inference without labels, and errors that say what is wrong", async () => {
    const b: nn.Batch = { x: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), y: new Float32Array([2, 0, 9]), rows: 2, d: 3 };
    const f = nn.onnxFeeds(ort, b, { label: "labels", labelType: "int64", labelShape: "column" });
    // A batch whose array is longer than rows · d is fed as a view of its rows.
    expect(f.input!.dims).toEqual([2, 3]);
    expect((f.input!.data as Float32Array).buffer).toBe(b.x.buffer);
    expect((f.input!.data as Float32Array).length).toBe(6);
    expect([f.labels!.type, f.labels!.dims, Array.from(f.labels!.data as BigInt64Array)]).toEqual(["int64", [2, 1], [2n, 0n]]);
    expect(Object.keys(nn.onnxFeeds(ort, b))).toEqual(["input"]);
    expect(() => nn.onnxFeeds(ort, { ...b, y: new Float32Array([0.5, 1]) }, { label: "labels", labelType: "int64" })).toThrow(/labelType int64 needs integer labels; row 0 of a batch has 0.5/);
    expect(() => nn.onnxFeeds(ort, { ...b, y: null }, { label: "labels" })).toThrow(/label names the feed "labels", but the batches have no labels \(pass label to toBatches\)/);
    expect(() => nn.onnxFeeds(ort, b, { label: "input" })).toThrow(/label and input are both named "input"/);
    expect(() => nn.onnxFeeds(ort, b, { label: "l", labelType: "int32" as never })).toThrow(/labelType must be "float32" or "int64", got "int32"/);
    await expect(nn.toOnnxFeeds({} as never, nn.toBatches(X(), { client })).next()).rejects.toThrow(/pass the ONNX Runtime module \(import \* as ort from "onnxruntime-web"\)/);
  });
});
