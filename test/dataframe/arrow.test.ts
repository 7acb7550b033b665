import * as arrow from "apache-arrow";
import { describe, expect, it } from "vitest";
import { makeFrame, stringsOf, type Column, type Frame } from "../../src/dataframe/frame.js";
import { arrowToFrame, frameToArrow, frameToIPC, framesToIPC, ipcToFrames, schemaFromArrow } from "../../src/dataframe/io/arrow.js";
import { decodeStrings, encodeStrings } from "../../src/dataframe/io/utf8.js";

const V = (...bits: number[]) => Uint8Array.from(bits);

/** Row values of a frame column as plain JS (null for nulls), for comparisons. */
function valuesOf(c: Column): unknown[] {
  if (c.type === "string") return stringsOf(c);
  return Array.from(c.data as ArrayLike<unknown>, (x, i) => (c.valid && !c.valid[i] ? null : x));
}

function rowsOf(f: Frame): Record<string, unknown[]> {
  return Object.fromEntries(f.names.map((n, i) => [n, valuesOf(f.columns[i]!)]));
}

/** A frame with every column type, each with a null in row 1. */
function everyType(): Frame {
  const valid = V(1, 0, 1);
  const cols: [string, Column][] = [
    ["f64", { type: "float64", data: Float64Array.of(1.5, 0, -Infinity), valid }],
    ["f32", { type: "float32", data: Float32Array.of(0.25, 0, 3), valid }],
    ["i8", { type: "int8", data: Int8Array.of(-128, 0, 127), valid }],
    ["i16", { type: "int16", data: Int16Array.of(-32768, 0, 32767), valid }],
    ["i32", { type: "int32", data: Int32Array.of(-(2 ** 31), 0, 2 ** 31 - 1), valid }],
    ["u8", { type: "uint8", data: Uint8Array.of(0, 0, 255), valid }],
    ["u16", { type: "uint16", data: Uint16Array.of(0, 0, 65535), valid }],
    ["u32", { type: "uint32", data: Uint32Array.of(0, 0, 2 ** 32 - 1), valid }],
    ["i64", { type: "int64", data: BigInt64Array.of(-(2n ** 63n), 0n, 2n ** 63n - 1n), valid }],
    ["u64", { type: "uint64", data: BigUint64Array.of(0n, 0n, 2n ** 64n - 1n), valid }],
    ["b", { type: "bool", data: V(1, 0, 0), valid }],
    ["s", { type: "string", data: Int32Array.of(1, 99, 0), dictionary: ["é ü", "plain"], valid }],
    ["ts", { type: "timestamp", unit: "us", tz: "UTC", data: BigInt64Array.of(1_700_000_000_000_000n, 0n, -1n), valid }],
    ["tsn", { type: "timestamp", unit: "ns", data: BigInt64Array.of(1n, 0n, 2n), valid }],
    ["d", { type: "date32", data: Int32Array.of(19000, 0, -1), valid }],
    ["list", { type: "object", data: [[1, null, 3], null, []], valid }],
    ["struct", { type: "object", data: [{ a: 1, b: "x" }, null, { a: 2, b: null }], valid }],
  ];
  return makeFrame(cols.map((c) => c[0]), cols.map((c) => c[1]));
}

describe("frame <-> arrow", () => {
  it("round-trips every column type with nulls, through a Table and through IPC", () => {
    const f = everyType();
    const t = frameToArrow(f);
    expect(t.numRows).toBe(3);
    expect(String(t.schema.fields.find((x) => x.name === "s")!.type)).toBe("Dictionary<Int32, Utf8>");
    expect(String(t.getChild("ts")!.type)).toBe("Timestamp<MICROSECOND, UTC>");
    expect(t.getChild("s")!.get(0)).toBe("plain");
    expect(t.getChild("s")!.get(1)).toBe(null);
    expect(t.getChild("b")!.get(0)).toBe(true);
    expect(t.getChild("list")!.get(1)).toBe(null);
    expect(String(t.getChild("list")!.type)).toBe("List<Float64>");
    for (const back of [arrowToFrame(t), ipcToFrames(frameToIPC(f))[0]!]) {
      expect(back.names).toEqual(f.names);
      expect(back.columns.map((c) => c.type)).toEqual(f.columns.map((c) => c.type));
      expect(rowsOf(back)).toEqual(rowsOf(f));
      const ts = back.columns[f.names.indexOf("ts")]!;
      expect([ts.unit, ts.tz]).toEqual(["us", "UTC"]);
    }
  });

  it("shares typed arrays with Arrow (no copy) where the layouts agree", () => {
    const data = Float64Array.of(1, 2, 3);
    const codes = Int32Array.of(0, 1, 0);
    const f = makeFrame(["x", "s"], [{ type: "float64", data }, { type: "string", data: codes, dictionary: ["a", "b"] }]);
    const t = frameToArrow(f);
    expect(t.getChild("x")!.data[0]!.values).toBe(data);
    expect(t.getChild("s")!.data[0]!.values).toBe(codes);
    const back = arrowToFrame(t);
    expect((back.columns[0]!.data as Float64Array).buffer).toBe(data.buffer);
  });

  it("reads plain, large and view strings, and dictionaries with other index types, as dictionary columns", () => {
    const words = ["x", null, "héllo", "x", "🎉"];
    const t = new arrow.Table({
      u: arrow.vectorFromArray(words, new arrow.Utf8()),
      l: arrow.vectorFromArray(words, new arrow.LargeUtf8()),
      d8: arrow.vectorFromArray(words, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int8())),
      du: arrow.vectorFromArray(words, new arrow.Dictionary(new arrow.Utf8(), new arrow.Uint32())),
    });
    const f = arrowToFrame(t);
    for (const c of f.columns) {
      expect(c.type).toBe("string");
      expect(c.data).toBeInstanceOf(Int32Array);
      expect(stringsOf(c)).toEqual(words);
    }
    expect(f.columns[0]!.dictionary).toEqual(["x", "héllo", "🎉"]);
  });

  it("folds duplicate and null dictionary entries", () => {
    const dictionary = arrow.vectorFromArray(["a", "b", "a", null], new arrow.Utf8());
    const data = arrow.makeData({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), length: 4, data: Int32Array.of(0, 1, 2, 3), dictionary });
    const f = arrowToFrame(new arrow.Table({ s: arrow.makeVector(data) }));
    const c = f.columns[0]!;
    expect(c.dictionary).toEqual(["a", "b"]);
    expect(stringsOf(c)).toEqual(["a", "b", "a", null]);
    expect(Array.from(c.data as Int32Array).slice(0, 3)).toEqual([0, 1, 0]);
  });

  it("reads float16, decimal, date64, time, duration, binary, map and null columns", () => {
    const t = new arrow.Table({
      h: arrow.vectorFromArray([1.5, null, -2], new arrow.Float16()),
      dec: arrow.vectorFromArray([Uint32Array.of(12345, 0, 0, 0), null, Uint32Array.of(1, 0, 0, 0)], new arrow.Decimal(2, 10, 128)),
      d64: arrow.vectorFromArray([86_400_000, null, 0], new arrow.DateMillisecond()),
      dd: arrow.vectorFromArray([3n, 1n, 3n], new arrow.Dictionary(new arrow.Int64(), new arrow.Int32())),
      bin: arrow.vectorFromArray([Uint8Array.of(1, 2), null, Uint8Array.of()], new arrow.Binary()),
      dur: arrow.vectorFromArray([1000n, null, 5n], new arrow.DurationMillisecond()),
      m: arrow.vectorFromArray(
        [new Map([["k", 1]]), null, new Map()],
        new arrow.Map_(new arrow.Field("entries", new arrow.Struct([new arrow.Field("key", new arrow.Utf8(), false), new arrow.Field("value", new arrow.Float64(), true)])) as never),
      ),
      n: arrow.vectorFromArray([null, null, null], new arrow.Null()),
    });
    const f = arrowToFrame(t);
    const col = (n: string) => f.columns[f.names.indexOf(n)]!;
    expect(col("h").type).toBe("float32");
    expect(valuesOf(col("h"))).toEqual([1.5, null, -2]);
    expect(col("dec").type).toBe("float64");
    expect(valuesOf(col("dec"))).toEqual([123.45, null, 0.01]);
    expect(col("d64")).toMatchObject({ type: "timestamp", unit: "ms" });
    expect(valuesOf(col("d64"))).toEqual([86_400_000n, null, 0n]);
    expect(col("dd").type).toBe("int64");
    expect(valuesOf(col("dd"))).toEqual([3n, 1n, 3n]);
    expect(col("bin").type).toBe("object");
    expect(valuesOf(col("bin"))).toEqual([Uint8Array.of(1, 2), null, Uint8Array.of()]);
    // Binary values own their bytes (a view would drag the whole Arrow buffer across threads).
    expect(((col("bin").data as Uint8Array[])[0]!).buffer.byteLength).toBe(2);
    expect(valuesOf(col("dur"))).toEqual([1000n, null, 5n]);
    expect(valuesOf(col("m"))).toEqual([new Map([["k", 1]]), null, new Map()]);
    expect(col("n")).toMatchObject({ type: "object", valid: V(0, 0, 0) });
    // And back: object columns get a type inferred from their values.
    const again = frameToArrow(f);
    expect(String(again.getChild("bin")!.type)).toBe("Binary");
    expect(String(again.getChild("m")!.type)).toBe("Map<{key:Utf8, value:Float64}>");
    expect(String(again.getChild("n")!.type)).toBe("Null");
    expect(again.getChild("dur")!.get(0)).toBe(1000n);
  });

  it("keeps bit offsets of sliced tables, and concatenates several batches", () => {
    const vals = Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? null : i % 2 === 0));
    const t = new arrow.Table({ b: arrow.vectorFromArray(vals, new arrow.Bool()), s: arrow.vectorFromArray(vals.map((v) => (v === null ? null : String(v)))) });
    const sliced = t.slice(5, 17);
    expect(rowsOf(arrowToFrame(sliced)).b).toEqual(vals.slice(5, 17).map((v) => (v === null ? null : +v)));
    const two = new arrow.Table([...t.slice(0, 7).batches, ...t.slice(7).batches]);
    expect(two.batches.length).toBe(2);
    const f = arrowToFrame(two);
    expect(f.length).toBe(20);
    expect(stringsOf(f.columns[1]!)).toEqual(vals.map((v) => (v === null ? null : String(v))));
  });

  it("keeps the schema of empty tables and IPC streams without batches", () => {
    const f = makeFrame(["a", "s", "t"], [
      { type: "int32", data: new Int32Array(0) },
      { type: "string", data: new Int32Array(0), dictionary: [] },
      { type: "timestamp", unit: "ns", tz: "Europe/Paris", data: new BigInt64Array(0) },
    ]);
    const t = frameToArrow(f);
    expect(t.numRows).toBe(0);
    const back = ipcToFrames(frameToIPC(f));
    expect(back.length).toBe(1);
    expect(back[0]!.columns.map((c) => [c.type, c.unit, c.tz])).toEqual([
      ["int32", undefined, undefined],
      ["string", undefined, undefined],
      ["timestamp", "ns", "Europe/Paris"],
    ]);
    const schema = schemaFromArrow(new arrow.Schema([new arrow.Field("x", new arrow.Float64())]));
    expect(arrowToFrame(new arrow.Table(new arrow.Schema([new arrow.Field("x", new arrow.Float64())])))).toMatchObject({ length: 0, names: schema.names });
  });

  it("reads several batches from IPC as several frames", () => {
    const a = frameToArrow(makeFrame(["x"], [{ type: "string", data: Int32Array.of(0), dictionary: ["a"] }]));
    const b = frameToArrow(makeFrame(["x"], [{ type: "string", data: Int32Array.of(0, 1), dictionary: ["b", "c"] }]));
    const writer = new arrow.RecordBatchStreamWriter();
    writer.write(a.batches[0]!);
    writer.write(b.batches[0]!);
    const frames = ipcToFrames(writer.finish().toUint8Array(true));
    expect(frames.map((f) => stringsOf(f.columns[0]!))).toEqual([["a"], ["b", "c"]]);
    const again = ipcToFrames(framesToIPC([...frames, everyType()].slice(0, 2)));
    expect(again.map((f) => stringsOf(f.columns[0]!))).toEqual([["a"], ["b", "c"]]);
    expect(() => framesToIPC([frames[0]!, everyType()])).toThrow(/partition 1 has columns f64: Float64/);
  });

  it("names the column in errors", () => {
    const mixed = makeFrame(["m"], [{ type: "object", data: [1, "a"] }]);
    expect(() => frameToArrow(mixed)).toThrow(/column "m": values mix number and string/);
    const wrong = makeFrame(["w"], [{ type: "int64", data: Int32Array.of(1) }]);
    expect(() => frameToArrow(wrong)).toThrow(/column "w" is int64 but holds a Int32Array/);
    const fn = makeFrame(["f"], [{ type: "object", data: [() => 1] }]);
    expect(() => frameToArrow(fn)).toThrow(/column "f": cannot store function/);
    const badCode = makeFrame(["s"], [{ type: "string", data: Int32Array.of(3), dictionary: ["a"] }]);
    expect(() => frameToArrow(badCode)).toThrow(/column "s" row 0 has dictionary code 3/);
    expect(() => ipcToFrames(Uint8Array.of(1, 2, 3))).toThrow(/not an Arrow IPC/);
  });
});

describe("utf8 helpers", () => {
  it("decode and encode strings in bulk, ASCII and not, and invalid bytes like a per-value decoder", () => {
    const strings = ["", "abc", "é", "日本", "🎉x", "\uD800"];
    const { values, offsets } = encodeStrings(strings);
    const expected = strings.map((s) => new TextDecoder().decode(new TextEncoder().encode(s)));
    expect(decodeStrings(values, offsets, strings.length)).toEqual(expected);
    expect(decodeStrings(values, BigInt64Array.from(offsets, BigInt), strings.length)).toEqual(expected);
    const bad = Uint8Array.of(0x61, 0xe2, 0x82, 0x62);
    expect(decodeStrings(bad, Int32Array.of(0, 2, 4), 2)).toEqual(["a\uFFFD", "\uFFFDb"]);
  });
});
