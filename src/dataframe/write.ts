/**
 * Writers: toParquet and toCsv write one file per partition, on the worker that holds the
 * partition (Node: the workers write to the file system; the partitions never travel to the
 * client). Without a path — or in a browser, where there is no file system — each partition's
 * bytes come back instead, to hand to a download or an upload. toArrow gathers the partitions
 * as one Arrow IPC stream, a record batch per partition.
 *
 * File names follow Dask: a directory gets `part.<i>.parquet` (Parquet) or `<i>.part` (CSV);
 * a CSV path with `*` puts the partition number there (`out-*.csv`).
 */

import { TesseraError } from "../errors.js";
import { registerOp } from "../worker/registry.js";
import type { DataFrame } from "./dataframe.js";
import { asFrame, type Frame } from "./frame.js";
import { eachPartition } from "./reduce.js";
import { framesToIPC } from "./io/arrow.js";
import { isNode } from "./io/source.js";
import { frameToCsv, frameToParquet, type CsvWriteOptions, type ParquetWriteOptions } from "./io/writers.js";

// Node's fs through a variable, so browser bundles leave it out.
const FS = "node:fs/promises";
type Fs = typeof import("node:fs/promises");
const fs = async (): Promise<Fs> => (await import(/* @vite-ignore */ FS)) as Fs;

function joinPath(dir: string, file: string): string {
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}

async function prepareDir(path: string, what: string): Promise<void> {
  if (!isNode()) throw new TesseraError(`${what}: cannot write to ${JSON.stringify(path)} here (no file system); call ${what}() without a path to get each partition's bytes`);
  try {
    await (await fs()).mkdir(path, { recursive: true });
  } catch (err) {
    throw new TesseraError(`${what}: cannot create the directory ${JSON.stringify(path)}: ${(err as Error).message}`, { cause: err });
  }
}

interface WriteSpec {
  what: "toParquet" | "toCsv";
  /** The file to write, or null to return the bytes. */
  path: string | null;
  partition: number;
  options: ParquetWriteOptions | CsvWriteOptions;
}

async function writeOut(spec: WriteSpec, bytes: Uint8Array | string): Promise<string | Uint8Array> {
  if (spec.path === null) return typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  try {
    await (await fs()).writeFile(spec.path, bytes);
  } catch (err) {
    throw new TesseraError(`${spec.what}: partition ${spec.partition}: cannot write ${spec.path}: ${(err as Error).message}`, { cause: err });
  }
  return spec.path;
}

registerOp("dataframe.write-parquet", async (spec: WriteSpec, frame: unknown) => {
  const f = asFrame(frame, `toParquet partition ${spec.partition}`);
  return writeOut(spec, frameToParquet(f, spec.options as ParquetWriteOptions));
});

registerOp("dataframe.write-csv", async (spec: WriteSpec, frame: unknown) => {
  const f = asFrame(frame, `toCsv partition ${spec.partition}`);
  return writeOut(spec, frameToCsv(f, spec.options as CsvWriteOptions));
});

/**
 * One Parquet file per partition: `dir/part.<i>.parquet` (returns the paths), or with no
 * directory each partition's file as bytes.
 */
export async function toParquet(df: DataFrame, dir?: string | null, options: ParquetWriteOptions = {}): Promise<string[] | Uint8Array[]> {
  if (dir !== undefined && dir !== null) await prepareDir(dir, "toParquet");
  const path = (i: number) => (dir === undefined || dir === null ? null : joinPath(dir, `part.${i}.parquet`));
  return (await eachPartition<string | Uint8Array>(df, "dataframe.write-parquet", (i): WriteSpec => ({ what: "toParquet", path: path(i), partition: i, options }))) as string[] | Uint8Array[];
}

/**
 * One CSV file per partition: `out-*.csv` (the partition number replaces `*`), or a directory
 * (`dir/<i>.part`); with no path each partition's file as bytes.
 */
export async function toCsv(df: DataFrame, path?: string | null, options: CsvWriteOptions = {}): Promise<string[] | Uint8Array[]> {
  let name: ((i: number) => string) | null = null;
  if (path !== undefined && path !== null) {
    if (path.includes("*")) {
      const slash = path.lastIndexOf("/");
      if (path.lastIndexOf("*") < slash) throw new TesseraError(`toCsv: the * in ${JSON.stringify(path)} must be in the file name, not a directory`);
      await prepareDir(slash > 0 ? path.slice(0, slash) : ".", "toCsv");
      name = (i) => path.replace("*", String(i));
    } else {
      await prepareDir(path, "toCsv");
      name = (i) => joinPath(path, `${i}.part`);
    }
  }
  return (await eachPartition<string | Uint8Array>(df, "dataframe.write-csv", (i): WriteSpec => ({ what: "toCsv", path: name ? name(i) : null, partition: i, options }))) as string[] | Uint8Array[];
}

/** The whole dataframe as Arrow IPC stream bytes, one record batch per partition. */
export async function toArrow(df: DataFrame): Promise<Uint8Array> {
  const frames = await eachPartition<Frame>(df, "dataframe.identity", () => ({}));
  return framesToIPC(frames);
}

registerOp("dataframe.identity", (_spec: object, frame: unknown) => asFrame(frame, "toArrow"));
