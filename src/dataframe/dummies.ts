/**
 * categorize(columns) and getDummies(columns) (dask.dataframe's categorize / get_dummies).
 *
 * Each partition holds its strings as codes into its own dictionary, so a code means nothing
 * across partitions. categorize finds every category of the string columns (a reduction: each
 * partition's used strings, unioned up a tree) and recodes every partition into ONE shared
 * dictionary in sorted order (JavaScript string order: UTF-16 code units), so code c is the same
 * category everywhere, categories missing from a partition included. The schema is unchanged
 * (tessera has no category type); the categories are known to later verbs on this dataframe as
 * long as its steps leave those columns alone (filters keep them, as pandas keeps unused
 * categories).
 *
 * getDummies one-hot encodes string columns as pandas does: the other columns first, in their
 * order, then for each encoded column one 0/1 column per category named
 * `<prefix><prefixSep><category>` in category order (the prefix defaults to the column name);
 * nulls give all zeros; dropFirst drops the first category. It needs every category up front
 * (the output schema depends on them), so it runs the categorize reduction in prepare unless
 * the categories are already known.
 */

import { PREPARE } from "../client/collection.js";
import { TesseraError } from "../errors.js";
import { MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type GraphNode } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { opSpec } from "../graph/spec.js";
import { registerOp } from "../worker/registry.js";
import { DataFrame } from "./dataframe.js";
import { allocColumnData, asFrame, column, type Column, type ColumnType, type Frame, type Schema } from "./frame.js";
import { KeysInput, type Input, type Lowered } from "./input.js";
import { reducePartitions } from "./reduce.js";
import { deriveSchema, type Step } from "./steps.js";

export type DummyType = Exclude<ColumnType, "string" | "timestamp" | "date32" | "object">;

const DUMMY_TYPES: readonly DummyType[] = ["uint8", "bool", "int8", "int16", "int32", "uint16", "uint32", "int64", "uint64", "float32", "float64"];

export interface GetDummiesOptions {
  /** Column name prefix: one for all, one per encoded column, or by column (default: the column's name). */
  prefix?: string | readonly string[] | Record<string, string>;
  /** Between prefix and category (default "_"). */
  prefixSep?: string;
  /** Leave out the first category of each column (k - 1 columns for k categories). */
  dropFirst?: boolean;
  /** Type of the 0/1 columns (default "uint8"). */
  dtype?: DummyType;
}

/** Categories of string columns, each sorted and without duplicates. */
export type Categories = Record<string, string[]>;

/** A record's own entry (a column may be called "constructor"). */
function own<T>(r: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(r, key) ? r[key] : undefined;
}

function stringColumns(schema: Schema, columns: readonly string[] | undefined, verb: string): string[] {
  if (columns === undefined) return schema.names.filter((_, i) => schema.types[i]!.type === "string");
  if (!Array.isArray(columns)) throw new TesseraError(`${verb}: columns must be an array of names, got ${JSON.stringify(columns)}`);
  const seen = new Set<string>();
  for (const name of columns) {
    const i = schema.names.indexOf(name);
    if (i < 0) throw new TesseraError(`${verb}: no column ${JSON.stringify(name)}; columns are ${schema.names.map((n) => JSON.stringify(n)).join(", ")}`);
    const t = schema.types[i]!.type;
    if (t !== "string") throw new TesseraError(`${verb}: column ${JSON.stringify(name)} is ${t}; only string columns have categories (cast or map it to strings first)`);
    if (seen.has(name)) throw new TesseraError(`${verb}: column ${JSON.stringify(name)} is named twice`);
    seen.add(name);
  }
  return [...columns];
}

/** Check names now when the schema is known without I/O; otherwise prepare checks them. */
function early(df: DataFrame, columns: readonly string[] | undefined, verb: string): void {
  if (df.input.prepared) stringColumns(deriveSchema(df.input.schema(), df.steps), columns, verb);
}

export function categorize(df: DataFrame, columns?: readonly string[]): DataFrame {
  early(df, columns, "categorize");
  return new DataFrame(new CategorizeInput(df, columns ? [...columns] : undefined));
}

export function getDummies(df: DataFrame, columns?: readonly string[], options: GetDummiesOptions = {}): DataFrame {
  const dtype = options.dtype ?? "uint8";
  if (!DUMMY_TYPES.includes(dtype)) throw new TesseraError(`getDummies: dtype must be one of ${DUMMY_TYPES.join(", ")}, got ${JSON.stringify(dtype)}`);
  if (options.prefixSep !== undefined && typeof options.prefixSep !== "string") throw new TesseraError("getDummies: prefixSep must be a string");
  early(df, columns, "getDummies");
  return new DataFrame(new DummiesInput(df, columns ? [...columns] : undefined, { prefix: options.prefix, prefixSep: options.prefixSep ?? "_", dropFirst: options.dropFirst ?? false, dtype }));
}

/** Every category of `names` across all partitions (the categorize reduction). */
async function findCategories(df: DataFrame, names: readonly string[]): Promise<Categories> {
  if (names.length === 0) return {};
  return reducePartitions<Categories>(df, "dataframe.categories-partial", { columns: [...names] }, "dataframe.categories-combine");
}

/** Categories a dataframe is known to hold (after a categorize whose columns its steps kept). */
export function knownCategories(df: DataFrame): Categories {
  if (!(df.input instanceof CategorizeInput) || !df.input.prepared) return {};
  let known: Categories = { ...df.input.categories() };
  for (const s of df.steps) {
    switch (s.kind) {
      case "filter":
      case "dropna":
        break; // fewer rows; the categories stay (pandas keeps unused ones)
      case "select":
        known = Object.fromEntries(Object.entries(known).filter(([n]) => s.columns.includes(n)));
        break;
      case "rename":
        known = Object.fromEntries(Object.entries(known).map(([n, c]) => [own(s.mapping, n) ?? n, c]));
        break;
      case "assign":
        for (const c of s.columns) delete known[c.name];
        break;
      case "astype":
        for (const n of Object.keys(s.types)) delete known[n];
        break;
      case "fillna":
        for (const n of Object.keys(s.values)) delete known[n]; // the fill value may be new
        break;
    }
  }
  return known;
}

class CategorizeInput implements Input {
  private cats: Categories | undefined;
  private sch: Schema | undefined;
  private planning: Promise<void> | undefined;
  constructor(
    private readonly df: DataFrame,
    private readonly columns: string[] | undefined,
  ) {}

  get prepared(): boolean {
    return this.cats !== undefined;
  }
  prepare(): Promise<void> {
    this.planning ??= this.build().catch((err: unknown) => {
      this.planning = undefined;
      throw err;
    });
    return this.planning;
  }
  private async build(): Promise<void> {
    await this.df[PREPARE]();
    const schema = await this.df.schema();
    const names = stringColumns(schema, this.columns, "categorize");
    // Categories the source already knows need no second pass over the data.
    const known = knownCategories(this.df);
    const found = await findCategories(this.df, names.filter((n) => !own(known, n)));
    this.cats = Object.fromEntries(names.map((n) => [n, own(known, n) ?? own(found, n) ?? []]));
    this.sch = schema;
  }
  /** @internal the shared dictionaries, by column. */
  categories(): Categories {
    if (!this.cats) throw new TesseraError("internal: categorize was not prepared (prepare() first)");
    return this.cats;
  }
  schema(): Schema {
    if (!this.sch) throw new TesseraError("internal: categorize was not prepared (prepare() first)");
    return this.sch;
  }
  npartitions(): number {
    this.categories();
    return this.df.input.npartitions();
  }
  token(): string {
    return tokenize("categorize", this.df.input.token(), this.df.steps, this.columns ?? null);
  }
  lower(steps: readonly Step[]): Lowered {
    const cats = this.categories();
    const low = this.df.lowered();
    const name = `categorize-${tokenize(low.name, cats)}`;
    const spec = opSpec({ categories: cats });
    const nodes: GraphNode[] = [];
    for (let i = 0; i < low.npartitions; i++) nodes.push(new Task(blockKey(name, [i]), "dataframe.categorize", [spec, i, new TaskRef(blockKey(low.name, [i]))]));
    const graph = low.graph.withLayer(new MaterializedLayer(name, nodes, [low.name]));
    return new KeysInput(graph, name, low.npartitions, this.schema(), low.external).lower(steps);
  }
}

interface DummyOptions {
  prefix: GetDummiesOptions["prefix"];
  prefixSep: string;
  dropFirst: boolean;
  dtype: DummyType;
}

interface Encoding {
  column: string;
  categories: string[];
  /** Output column names, one per category (after dropFirst). */
  names: string[];
  /** Categories left out at the front (1 with dropFirst). */
  skip: number;
}

interface DummiesPlan {
  schema: Schema;
  keep: string[];
  encode: Encoding[];
}

class DummiesInput implements Input {
  private plan: DummiesPlan | undefined;
  private planning: Promise<void> | undefined;
  constructor(
    private readonly df: DataFrame,
    private readonly columns: string[] | undefined,
    private readonly options: DummyOptions,
  ) {}

  get prepared(): boolean {
    return this.plan !== undefined;
  }
  prepare(): Promise<void> {
    this.planning ??= this.build().catch((err: unknown) => {
      this.planning = undefined;
      throw err;
    });
    return this.planning;
  }

  private prefixes(names: readonly string[]): string[] {
    const p = this.options.prefix;
    if (p === undefined) return [...names];
    if (typeof p === "string") return names.map(() => p);
    if (Array.isArray(p)) {
      if (p.length !== names.length) throw new TesseraError(`getDummies: ${p.length} prefixes for ${names.length} encoded columns (${names.map((n) => JSON.stringify(n)).join(", ")})`);
      return [...(p as readonly string[])];
    }
    const byName = p as Record<string, string>;
    for (const k of Object.keys(byName)) if (!names.includes(k)) throw new TesseraError(`getDummies: prefix given for ${JSON.stringify(k)}, which is not an encoded column; encoded are ${names.map((n) => JSON.stringify(n)).join(", ")}`);
    return names.map((n) => own(byName, n) ?? n);
  }

  private async build(): Promise<void> {
    await this.df[PREPARE]();
    const input = await this.df.schema();
    const names = stringColumns(input, this.columns, "getDummies");
    const prefixes = this.prefixes(names);
    const known = knownCategories(this.df);
    const found = await findCategories(this.df, names.filter((n) => !own(known, n)));
    const keep = input.names.filter((n) => !names.includes(n));
    const out = [...keep];
    const types = keep.map((n) => ({ ...input.types[input.names.indexOf(n)]! }));
    const taken = new Set(out);
    const skip = this.options.dropFirst ? 1 : 0;
    const encode = names.map((column, j): Encoding => {
      const categories = own(known, column) ?? own(found, column) ?? [];
      const cols = categories.slice(skip).map((cat) => `${prefixes[j]}${this.options.prefixSep}${cat}`);
      for (const c of cols) {
        if (taken.has(c)) throw new TesseraError(`getDummies: the dummy column ${JSON.stringify(c)} of ${JSON.stringify(column)} is already a column; give another prefix or prefixSep`);
        taken.add(c);
        out.push(c);
        types.push({ type: this.options.dtype });
      }
      return { column, categories, names: cols, skip };
    });
    this.plan = { schema: { names: out, types }, keep, encode };
  }

  private ready(): DummiesPlan {
    if (!this.plan) throw new TesseraError("internal: getDummies was not prepared (prepare() first)");
    return this.plan;
  }
  schema(): Schema {
    return this.ready().schema;
  }
  npartitions(): number {
    this.ready();
    return this.df.input.npartitions();
  }
  token(): string {
    return tokenize("get-dummies", this.df.input.token(), this.df.steps, this.columns ?? null, this.options);
  }
  lower(steps: readonly Step[]): Lowered {
    const p = this.ready();
    const low = this.df.lowered();
    const name = `get-dummies-${tokenize(low.name, p.keep, p.encode, this.options.dtype)}`;
    const spec = opSpec({ keep: p.keep, encode: p.encode, dtype: this.options.dtype });
    const nodes: GraphNode[] = [];
    for (let i = 0; i < low.npartitions; i++) nodes.push(new Task(blockKey(name, [i]), "dataframe.get-dummies", [spec, i, new TaskRef(blockKey(low.name, [i]))]));
    const graph = low.graph.withLayer(new MaterializedLayer(name, nodes, [low.name]));
    return new KeysInput(graph, name, low.npartitions, p.schema, low.external).lower(steps);
  }
}

// ---- worker ops ------------------------------------------------------------------------------

/** The strings a string column's non-null rows use (its dictionary may hold more). */
function usedStrings(c: Column): string[] {
  const dict = c.dictionary ?? [];
  const used = new Uint8Array(dict.length);
  const codes = c.data as Int32Array;
  for (let i = 0; i < codes.length; i++) if (!c.valid || c.valid[i]) used[codes[i]!] = 1;
  return [...new Set(dict.filter((_, i) => used[i]))].sort();
}

function union(lists: readonly string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}

/** code -> position in `categories` for each entry of c's dictionary; a string not there is an error. */
function codeMap(c: Column, categories: readonly string[], where: string): Int32Array {
  const index = new Map(categories.map((s, i) => [s, i]));
  const dict = c.dictionary ?? [];
  const used = new Uint8Array(dict.length);
  const codes = c.data as Int32Array;
  for (let i = 0; i < codes.length; i++) if (!c.valid || c.valid[i]) used[codes[i]!] = 1;
  return Int32Array.from(dict, (s, k) => {
    const at = index.get(s);
    if (at === undefined && used[k]) {
      throw new TesseraError(`${where} holds ${JSON.stringify(s)}, which is not among its ${categories.length} categories (did the data change since they were found?)`);
    }
    return at ?? -1;
  });
}

registerOp("dataframe.categories-partial", (spec: { columns: string[] }, frame: unknown): Categories => {
  const f = asFrame(frame, "categorize");
  return Object.fromEntries(spec.columns.map((n) => {
    const c = column(f, n, "categorize");
    if (c.type !== "string") throw new TesseraError(`categorize: column ${JSON.stringify(n)} is ${c.type}, not string`);
    return [n, usedStrings(c)];
  }));
});

registerOp("dataframe.categories-combine", (...parts: Categories[]): Categories => {
  return Object.fromEntries(Object.keys(parts[0] ?? {}).map((n) => [n, union(parts.map((p) => own(p, n) ?? []))]));
});

registerOp("dataframe.categorize", (spec: { categories: Categories }, partition: number, frame: unknown): Frame => {
  const f = asFrame(frame, "categorize");
  const columns = f.columns.map((c, j) => {
    const cats = own(spec.categories, f.names[j]!);
    if (!cats) return c;
    const map = codeMap(c, cats, `categorize: partition ${partition}, column ${JSON.stringify(f.names[j])}`);
    const src = c.data as Int32Array;
    const data = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) data[i] = c.valid && !c.valid[i] ? 0 : map[src[i]!]!;
    const out: Column = { type: "string", data, dictionary: cats };
    if (c.valid) out.valid = c.valid;
    return out;
  });
  return { length: f.length, names: [...f.names], columns };
});

registerOp("dataframe.get-dummies", (spec: { keep: string[]; encode: Encoding[]; dtype: DummyType }, partition: number, frame: unknown): Frame => {
  const f = asFrame(frame, "getDummies");
  const n = f.length;
  const names = [...spec.keep];
  const columns = spec.keep.map((k) => column(f, k, `getDummies: partition ${partition}`));
  const wide = spec.dtype === "int64" || spec.dtype === "uint64";
  for (const e of spec.encode) {
    const c = column(f, e.column, `getDummies: partition ${partition}`);
    const map = codeMap(c, e.categories, `getDummies: partition ${partition}, column ${JSON.stringify(e.column)}`);
    const out = e.names.map(() => allocColumnData(spec.dtype, n) as { [i: number]: number | bigint });
    const codes = c.data as Int32Array;
    for (let i = 0; i < n; i++) {
      if (c.valid && !c.valid[i]) continue; // null: all zeros
      const at = map[codes[i]!]! - e.skip;
      if (at >= 0) out[at]![i] = wide ? 1n : 1;
    }
    e.names.forEach((name, j) => {
      names.push(name);
      columns.push({ type: spec.dtype, data: out[j] as unknown as Column["data"] });
    });
  }
  return { length: n, names, columns };
});
