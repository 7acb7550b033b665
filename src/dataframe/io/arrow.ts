/**
 * Frames <-> Apache Arrow (tables, record batches, IPC streams): the edge where partitions meet
 * the rest of the world (compute() results, toArrow/fromArrow, mapPartitions).
 *
 *   Frame column          Arrow type
 *   float64 ... uint32    Float64 ... Uint32                   values shared, no copy
 *   int64 / uint64        Int64 / Uint64 (BigInt64Array ...)   shared
 *   bool (0/1 bytes)      Bool (bits)                          packed / unpacked
 *   string                Dictionary<Utf8, Int32>              codes shared
 *   timestamp unit, tz    Timestamp(unit, tz)                  shared
 *   date32                Date32 (DateDay)                     shared
 *   object                inferred from the values (arrow-object.ts)
 *   valid (0/1 bytes)     validity bitmap                      packed / unpacked
 *
 * Arrow to Frame also reads: Utf8, LargeUtf8 and Utf8View (dictionary-encoded here),
 * dictionaries with any index type or any string value type (codes made Int32, duplicate or
 * null dictionary entries folded), dictionaries of other types (decoded), Float16 (-> float32),
 * Decimal (-> float64, as Parquet readers give it), Date64 (-> timestamp "ms": lossless, and
 * the same type for every partition whatever the values), Null (-> object column of nulls), and
 * everything else (lists, structs, maps, unions, binary, time, duration, interval) as "object".
 *
 * "Shared" means the frame and the Arrow data view the same memory: writing into one changes
 * the other, and a frame read from IPC bytes views that buffer (the worker transfer layer cuts
 * such views to their own bytes before posting them).
 */

import * as arrow from "apache-arrow";
import { TesseraError } from "../../errors.js";
import { allocColumnData, concatFrames, makeFrame, takeRows, type Column, type Frame } from "../frame.js";
import { decimalToNumber, objectToArrowData, plainValues } from "./arrow-object.js";
import { arrowTypeOf, columnMetaOf, countZeros, emptyFrameOf, isStringType, packBits, schemaFromArrow, unpackBits } from "./arrow-schema.js";
import { decodeStrings, dictionaryEncode, encodeStrings } from "./utf8.js";

export { arrowSchemaOf, arrowTypeOf, columnMetaOf, emptyFrameOf, schemaFromArrow } from "./arrow-schema.js";

const TYPED: Partial<Record<Column["type"], abstract new (...a: never[]) => unknown>> = {
  float64: Float64Array,
  float32: Float32Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
  string: Int32Array,
  timestamp: BigInt64Array,
  date32: Int32Array,
};

// ---------------------------------------------------------------------------------------------
// Frame -> Arrow

function columnToData(c: Column, name: string, position: number): arrow.Data {
  const n = c.data.length;
  const what = `column ${JSON.stringify(name)}`;
  const ctor = TYPED[c.type];
  if (ctor && !(c.data instanceof ctor)) {
    throw new TesseraError(`toArrow: ${what} is ${c.type} but holds a ${(c.data as object).constructor?.name ?? typeof c.data}, not a ${ctor.name}`);
  }
  if (c.type === "object") {
    if (!Array.isArray(c.data)) throw new TesseraError(`toArrow: ${what} is object but holds a ${(c.data as object).constructor.name}, not an array`);
    return objectToArrowData(c.data, c.valid, name);
  }
  const nullCount = c.valid ? countZeros(c.valid) : 0;
  const validity = nullCount > 0 ? { nullCount, nullBitmap: packBits(c.valid!) } : { nullCount: 0 };
  const make = (type: arrow.DataType, data: ArrayLike<unknown>) =>
    arrow.makeData({ type, length: n, ...validity, data } as never) as arrow.Data;
  switch (c.type) {
    case "bool":
      return make(new arrow.Bool(), packBits(c.data as Uint8Array));
    case "string":
      return stringToData(c, what, validity, position);
    case "timestamp":
    case "date32":
    case "int64":
    case "uint64":
    default:
      return make(arrowTypeOf(c), c.data);
  }
}

function stringToData(c: Column, what: string, validity: { nullCount: number; nullBitmap?: Uint8Array }, position: number): arrow.Data {
  const dict = c.dictionary ?? [];
  let codes = c.data as Int32Array;
  const size = dict.length;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    if (code >= 0 && code < size) continue;
    if (c.valid && !c.valid[i]) {
      // The code under a null is unspecified: make it one Arrow validators accept.
      if (codes === c.data) codes = codes.slice();
      codes[i] = 0;
      continue;
    }
    throw new TesseraError(`toArrow: ${what} row ${i} has dictionary code ${code}, but the dictionary holds ${size} strings`);
  }
  const { values, offsets } = encodeStrings(dict);
  const dictionary = arrow.makeVector(arrow.makeData({ type: new arrow.Utf8(), length: size, nullCount: 0, valueOffsets: offsets, data: values }));
  const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32(), position);
  return arrow.makeData({ type, length: codes.length, ...validity, data: codes, dictionary }) as arrow.Data;
}

/** One partition as one Arrow record batch. */
export function frameToRecordBatch(frame: Frame): arrow.RecordBatch {
  const children = frame.columns.map((c, i) => columnToData(c, frame.names[i]!, i));
  const fields = children.map((d, i) => new arrow.Field(frame.names[i]!, d.type, true));
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: frame.length, nullCount: 0, children });
  return new arrow.RecordBatch(new arrow.Schema(fields), struct);
}

/** One partition as an Arrow Table (one batch). */
export function frameToArrow(frame: Frame): arrow.Table {
  return new arrow.Table([frameToRecordBatch(frame)]);
}

/** One partition as Arrow IPC stream bytes. */
export function frameToIPC(frame: Frame): Uint8Array {
  return arrow.tableToIPC(frameToArrow(frame), "stream");
}

/**
 * Partitions as one IPC stream, a record batch each (no concatenation). Their columns must
 * agree in names and types; object columns must infer the same Arrow type in every frame.
 */
export function framesToIPC(frames: readonly Frame[]): Uint8Array {
  if (frames.length === 0) throw new TesseraError("toArrow: no partitions to write");
  const batches = frames.map(frameToRecordBatch);
  const schema = batches[0]!.schema;
  const describe = (s: arrow.Schema) => s.fields.map((f) => `${f.name}: ${f.type}`).join(", ");
  batches.forEach((b, i) => {
    const same: boolean = arrow.util.compareSchemas(schema, b.schema);
    if (!same) throw new TesseraError(`toArrow: partition ${i} has columns ${describe(b.schema)}, but partition 0 has ${describe(schema)}`);
  });
  const writer = new arrow.RecordBatchStreamWriter();
  for (const b of batches) writer.write(b);
  return writer.finish().toUint8Array(true);
}

// ---------------------------------------------------------------------------------------------
// Arrow -> Frame

function validityOf(data: arrow.Data): Uint8Array | undefined {
  if (data.typeId === arrow.Type.Null) return new Uint8Array(data.length);
  if (!data.nullBitmap || data.nullBitmap.length === 0 || data.nullCount <= 0) return undefined;
  return unpackBits(data.nullBitmap, data.offset, data.length);
}

function withValid(c: Column, valid: Uint8Array | undefined): Column {
  if (valid) c.valid = valid;
  return c;
}

/** Strings of a Utf8 / LargeUtf8 / Utf8View chunk (null where not valid). */
function stringsOf(data: arrow.Data, valid: Uint8Array | undefined): (string | null)[] {
  let out: (string | null)[];
  if (data.typeId === arrow.Type.Utf8View) {
    const v = arrow.makeVector(data);
    out = Array.from({ length: data.length }, (_, i) => v.get(i) as string | null);
  } else {
    out = decodeStrings(data.values as Uint8Array, data.valueOffsets as Int32Array | BigInt64Array, data.length);
  }
  if (valid) for (let i = 0; i < out.length; i++) if (!valid[i]) out[i] = null;
  return out;
}

function dictionaryToColumn(data: arrow.Data, valid: Uint8Array | undefined, name: string): Column {
  const type = data.type as arrow.Dictionary;
  const n = data.length;
  const indices = (data.values as ArrayLike<number | bigint>);
  const codes = indices instanceof Int32Array ? indices.subarray(0, n) : Int32Array.from({ length: n }, (_, i) => Number(indices[i]!));
  const dictVector = data.dictionary!;
  if (!isStringType(type.dictionary)) {
    // Decode through the dictionary's own column (numbers, dates ...).
    const dict = concatFrames(dictVector.data.map((d) => makeFrame(["v"], [dataToColumn(d, name)])));
    if (dict.length === 0) return withValid({ ...dict.columns[0]!, data: allocColumnData(dict.columns[0]!.type, n) }, new Uint8Array(n));
    const safe = valid ? codes.map((c, i) => (valid[i] ? c : 0)) : codes;
    const col = takeRows(dict, safe).columns[0]!;
    if (valid) col.valid = col.valid ? col.valid.map((v, i) => v & valid[i]!) : valid;
    return col;
  }
  const raw = dictVector.data.flatMap((d) => stringsOf(d, validityOf(d)));
  // Fold duplicate and null dictionary entries, so equal strings have one code.
  const first = new Map<string, number>();
  const remap = new Int32Array(raw.length);
  const dictionary: string[] = [];
  let identity = true;
  raw.forEach((s, i) => {
    if (s === null) {
      remap[i] = -1;
      identity = false;
      return;
    }
    let code = first.get(s);
    if (code === undefined) {
      code = dictionary.length;
      dictionary.push(s);
      first.set(s, code);
    }
    remap[i] = code;
    if (code !== i) identity = false;
  });
  let out: Int32Array = codes;
  let v = valid;
  if (!identity) {
    out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (v && !v[i]) continue;
      const c = remap[codes[i]!] ?? -1;
      if (c < 0) (v ??= new Uint8Array(n).fill(1))[i] = 0;
      else out[i] = c;
    }
  }
  return withValid({ type: "string", data: out, dictionary }, v);
}

/** One Arrow chunk (a column of one record batch) as a Frame column. */
export function dataToColumn(data: arrow.Data, name: string): Column {
  const n = data.length;
  const valid = validityOf(data);
  const type = data.type;
  try {
    switch (type.typeId) {
      case arrow.Type.Int:
      case arrow.Type.Timestamp:
      case arrow.Type.Date: {
        const meta = columnMetaOf(type);
        return withValid({ ...meta, data: (data.values as Int32Array).subarray(0, n) }, valid);
      }
      case arrow.Type.Float: {
        const p = (type as arrow.Float).precision;
        if (p !== arrow.Precision.HALF) return withValid({ type: columnMetaOf(type).type, data: (data.values as Float64Array).subarray(0, n) }, valid);
        const half = data.values as Uint16Array;
        return withValid({ type: "float32", data: Float32Array.from({ length: n }, (_, i) => arrow.util.uint16ToFloat64(half[i]!)) }, valid);
      }
      case arrow.Type.Decimal: {
        const v = arrow.makeVector(data);
        const scale = (type as arrow.Decimal).scale;
        return withValid({ type: "float64", data: Float64Array.from({ length: n }, (_, i) => (valid && !valid[i] ? 0 : decimalToNumber(v.get(i), scale) ?? 0)) }, valid);
      }
      case arrow.Type.Bool:
        return withValid({ type: "bool", data: unpackBits(data.values as Uint8Array, data.offset, n) }, valid);
      case arrow.Type.Utf8:
      case arrow.Type.LargeUtf8:
      case arrow.Type.Utf8View: {
        const { codes, dictionary, valid: v } = dictionaryEncode(stringsOf(data, valid));
        return withValid({ type: "string", data: codes, dictionary }, v);
      }
      case arrow.Type.Dictionary:
        return dictionaryToColumn(data, valid, name);
      default:
        return withValid({ type: "object", data: plainValues(data) }, valid);
    }
  } catch (err) {
    if (err instanceof TesseraError) throw err;
    throw new TesseraError(`fromArrow: column ${JSON.stringify(name)} of type ${String(type)}: ${(err as Error).message}`, { cause: err });
  }
}

function batchToFrame(batch: arrow.RecordBatch): Frame {
  const names = batch.schema.fields.map((f) => f.name);
  const columns = batch.data.children.map((d, i) => dataToColumn(d, names[i]!));
  return makeFrame(names, columns, batch.numRows);
}

/**
 * An Arrow Table or RecordBatch as one Frame. A single-batch table shares its buffers; several
 * batches are concatenated (string dictionaries merged).
 */
export function arrowToFrame(source: arrow.Table | arrow.RecordBatch): Frame {
  if (source instanceof arrow.RecordBatch) return batchToFrame(source);
  if (!(source instanceof arrow.Table)) {
    throw new TesseraError(`fromArrow: expected an Arrow Table or RecordBatch, got ${source === null ? "null" : typeof source} (a table from another copy of apache-arrow? pass its IPC bytes instead)`);
  }
  if (source.batches.length === 0) return emptyFrameOf(schemaFromArrow(source.schema));
  if (source.batches.length === 1) return batchToFrame(source.batches[0]!);
  return concatFrames(source.batches.map(batchToFrame));
}

/**
 * Arrow IPC bytes (stream or file format) as frames, one per record batch; a stream with no
 * batches gives one empty frame, so its schema is not lost.
 */
export function ipcToFrames(bytes: Uint8Array | ArrayBuffer): Frame[] {
  let table: arrow.Table;
  try {
    table = arrow.tableFromIPC(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes);
  } catch (err) {
    throw new TesseraError(`fromArrow: these bytes are not an Arrow IPC stream or file: ${(err as Error).message}`, { cause: err });
  }
  if (table.schema.fields.length === 0 && table.batches.length === 0) {
    throw new TesseraError(`fromArrow: these ${bytes.byteLength} bytes are not an Arrow IPC stream or file (no schema message found)`);
  }
  if (table.batches.length === 0) return [emptyFrameOf(schemaFromArrow(table.schema))];
  return table.batches.map(batchToFrame);
}
