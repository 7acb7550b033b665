/**
 * OneHotEncoder and OrdinalEncoder (sklearn.preprocessing) on arrays of numeric categories
 * and on dataframe columns, numeric or string (dictionary-encoded: read through each
 * partition's own dictionary, so partitions need not share one).
 *
 * fit is one pass: per block each column's distinct values (`ml.prep.counts`), unioned up a
 * tree; the categories are those values sorted (numbers ascending, strings in code-unit
 * order, which is numpy's for text without astral characters), or the ones given. A missing
 * value (NaN, a null) is an error naming its row and column: impute first (scikit-learn 1.2
 * would take NaN as a category).
 *
 * transform is lazy, one task per block: an array gives a float64 array with X's row blocks;
 * a dataframe gives a dataframe whose other columns are kept, followed (one-hot) by one
 * float64 column per category named `<column>_<category>`, or (ordinal) with each encoded
 * column replaced by its float64 codes. inverseTransform goes back; a dataframe's string
 * features come back as string columns.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { DataFrame } from "../dataframe/dataframe.js";
import type { ColumnMeta } from "../dataframe/frame.js";
import type { MatrixInput } from "./data.js";
import { checkKeys, notFitted } from "./estimator.js";
import type { Category, CountsPartial } from "./ops-prep.js";
import { prepInput, reducePrep, transformed, type TransformOutput } from "./prep.js";
import type { Transformed } from "./preprocessing.js";
import { decodeNumber, encodeNumber, estimatorJSON, fittedFields, registerEstimator, type EstimatorJSON, type Fields } from "./serialize.js";

/** Most distinct values a column may have: more is taken for a continuous column given by mistake. */
export const MAX_CATEGORIES = 100_000;

const compare = (a: Category, b: Category): number => (typeof a === "number" && typeof b === "number" ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);

const showCat = (v: Category): string => (typeof v === "string" ? JSON.stringify(v) : String(v));

abstract class Encoder {
  protected abstract readonly estimator: string;
  readonly categoriesOption: "auto" | Category[][];
  /** Per feature, after fit: its categories in code order. */
  categories: Category[][] | null = null;
  nFeaturesIn = 0;
  /** Column names, when fitted on a dataframe. */
  featureNames: string[] | null = null;

  constructor(estimator: string, categories: unknown) {
    if (categories === undefined || categories === "auto") this.categoriesOption = "auto";
    else if (Array.isArray(categories) && categories.every((c) => Array.isArray(c) && c.length > 0 && c.every((v) => (typeof v === "number" && !Number.isNaN(v)) || typeof v === "string"))) {
      categories.forEach((c: Category[], j) => {
        if (new Set(c).size !== c.length) throw new TesseraError(`${estimator}: categories[${j}] has a value twice`);
      });
      this.categoriesOption = categories.map((c: Category[]) => [...c]);
    } else throw new TesseraError(`${estimator}: categories must be "auto" or, per feature, a non-empty array of numbers (not NaN) or strings; got ${JSON.stringify(categories)}`);
  }

  /** Whether fit should fail on a value outside given categories. */
  protected abstract strictFit(): boolean;

  /** Find the categories: one pass over X. */
  protected async fitCategories(X: MatrixInput, options?: ComputeOptions): Promise<void> {
    const what = `${this.estimator}.fit`;
    const input = await prepInput(X, what, true);
    const p = await reducePrep<CountsPartial>(input, "ml.prep.counts", "ml.prep.counts.combine", { missing: "error", maxValues: MAX_CATEGORIES }, what, options);
    if (p.problem) throw new TesseraError(`${what}: ${p.problem}`);
    if (p.rows === 0) throw new TesseraError(`${what}: X has no rows`);
    const d = input.rows.d;
    const name = (j: number) => (input.columns ? `column ${JSON.stringify(input.columns[j])}` : `column ${j}`);
    let categories: Category[][];
    if (this.categoriesOption === "auto") categories = p.values.map((v) => [...v].sort(compare));
    else {
      const given = this.categoriesOption;
      if (given.length !== d) throw new TesseraError(`${what}: categories has ${given.length} entries, but X has ${d} features`);
      given.forEach((cats, j) => {
        const want = input.strings[j] ? "string" : "number";
        if (cats.some((c) => typeof c !== want)) throw new TesseraError(`${what}: categories[${j}] must hold ${want}s, as ${name(j)} does`);
        if (!this.strictFit()) return;
        const known = new Set(cats);
        const unknown = p.values[j]!.filter((v) => !known.has(v)).sort(compare);
        if (unknown.length > 0) throw new TesseraError(`${what}: ${name(j)} has categories not in categories[${j}]: ${unknown.slice(0, 10).map(showCat).join(", ")}${unknown.length > 10 ? ", ..." : ""}`);
      });
      categories = given.map((c) => [...c]);
    }
    this.categories = categories;
    this.nFeaturesIn = d;
    this.featureNames = input.columns;
  }

  protected fitted(method: string): Category[][] {
    if (!this.categories) throw notFitted(this.estimator, method);
    return this.categories;
  }

  /** Input names: the dataframe's columns, or x0, x1, ... (scikit-learn's). */
  protected inputNames(): string[] {
    return this.featureNames ?? Array.from({ length: this.nFeaturesIn }, (_, j) => `x${j}`);
  }

  /** Column types of the original features (for a dataframe's inverseTransform). */
  protected featureTypes(): ColumnMeta[] {
    return this.categories!.map((c) => ({ type: typeof c[0] === "string" ? "string" : "float64" }));
  }

  /** What transform (inverse false) or inverseTransform makes of X, for `transformed`. */
  protected abstract output(method: string, inverse: boolean): TransformOutput;

  /**
   * Encoded X (lazy): one-hot columns (OneHotEncoder) or float64 codes (OrdinalEncoder).
   */
  transform<X extends MatrixInput>(X: X): Transformed<X> {
    const o = this.output("transform", false);
    this.checkArrayInput(X, "transform");
    return transformed(X, o) as Transformed<X>;
  }

  /**
   * The categories back (lazy). One-hot: all zeros is the dropped category, or unknown (NaN /
   * null); ordinal: a code of no category gives NaN (arrays) or null.
   */
  inverseTransform<X extends MatrixInput>(X: X): Transformed<X> {
    const o = this.output("inverseTransform", true);
    this.checkArrayInput(X, "inverseTransform");
    return transformed(X, o) as Transformed<X>;
  }

  /** An array has no strings: refuse an encoder fitted on string columns up front. */
  protected checkArrayInput(X: MatrixInput, method: string): void {
    if (X instanceof DataFrame) return;
    const j = this.categories!.findIndex((c) => typeof c[0] === "string");
    if (j >= 0) throw new TesseraError(`${this.estimator}.${method}: this ${this.estimator} was fitted on string column ${JSON.stringify(this.featureNames?.[j])}; give it a dataframe`);
  }

  async fitTransform<X extends MatrixInput>(X: X, options?: ComputeOptions): Promise<Transformed<X>> {
    await this.fit(X, options);
    return this.transform(X);
  }

  abstract fit(X: MatrixInput, options?: ComputeOptions): Promise<this>;

  protected sharedFitted(): Record<string, unknown> {
    const cats = this.categories!;
    return {
      nFeaturesIn: this.nFeaturesIn,
      featureNames: this.featureNames,
      categoryTypes: cats.map((c) => (typeof c[0] === "string" ? "string" : "number")),
      categories: cats.map((c) => c.map((v) => (typeof v === "number" ? encodeNumber(v) : v))),
    };
  }

  protected loadShared(f: Fields): void {
    this.nFeaturesIn = f.int("nFeaturesIn");
    this.featureNames = f.strings("featureNames");
    const types = f.array("categoryTypes");
    const cats = f.array("categories");
    if (types.length !== this.nFeaturesIn || cats.length !== this.nFeaturesIn) throw new TesseraError(`ml.fromJSON: ${this.estimator}.fitted needs categoryTypes and categories for each of its ${this.nFeaturesIn} features`);
    this.categories = cats.map((c, j) => {
      if (!Array.isArray(c) || c.length === 0) throw new TesseraError(`ml.fromJSON: ${this.estimator}.fitted.categories[${j}] must be a non-empty array`);
      return c.map((v) => {
        const x = types[j] === "string" ? (typeof v === "string" ? v : undefined) : decodeNumber(v);
        if (x === undefined) throw new TesseraError(`ml.fromJSON: ${this.estimator}.fitted.categories[${j}] holds ${JSON.stringify(v)}, not a ${types[j]}`);
        return x;
      });
    });
  }
}

export interface OneHotEncoderOptions {
  /** "auto" (the values seen in fit, sorted) or, per feature, its categories (default "auto"). */
  categories?: "auto" | Category[][];
  /** A category not seen in fit: "error" (default), or "ignore" (all zeros). */
  handleUnknown?: "error" | "ignore";
  /** Leave out one column per feature: "first", "if_binary" (features of two categories), or per feature the category (null: none). */
  drop?: null | "first" | "if_binary" | (Category | null)[];
}

/** One 0/1 column per category of each feature. */
export class OneHotEncoder extends Encoder {
  protected readonly estimator = "OneHotEncoder";
  readonly handleUnknown: "error" | "ignore";
  readonly drop: null | "first" | "if_binary" | (Category | null)[];
  /** Per feature, after fit: the index of the dropped category, or -1. */
  dropIdx: number[] | null = null;

  constructor(options: OneHotEncoderOptions = {}) {
    const E = "OneHotEncoder";
    checkKeys(E, options, ["categories", "handleUnknown", "drop"]);
    super(E, options.categories);
    const h = options.handleUnknown ?? "error";
    if (h !== "error" && h !== "ignore") throw new TesseraError(`${E}: handleUnknown must be "error" or "ignore", got ${JSON.stringify(h)}`);
    this.handleUnknown = h;
    const drop = options.drop ?? null;
    if (!(drop === null || drop === "first" || drop === "if_binary" || Array.isArray(drop))) {
      throw new TesseraError(`${E}: drop must be null, "first", "if_binary" or one category (or null) per feature; got ${JSON.stringify(drop)}`);
    }
    this.drop = Array.isArray(drop) ? [...drop] : drop;
  }

  protected strictFit(): boolean {
    return this.handleUnknown === "error";
  }

  /** Find each feature's categories (one pass over X). */
  async fit(X: MatrixInput, options?: ComputeOptions): Promise<this> {
    await this.fitCategories(X, options);
    const cats = this.categories!;
    const drop = this.drop;
    if (Array.isArray(drop)) {
      if (drop.length !== cats.length) throw new TesseraError(`OneHotEncoder.fit: drop has ${drop.length} entries, but X has ${cats.length} features`);
      this.dropIdx = drop.map((v, j) => {
        if (v === null) return -1;
        const i = cats[j]!.indexOf(v);
        if (i < 0) throw new TesseraError(`OneHotEncoder.fit: drop[${j}] is ${showCat(v)}, which is not a category of feature ${j} (${cats[j]!.map(showCat).join(", ")})`);
        return i;
      });
    } else this.dropIdx = cats.map((c) => (drop === "first" || (drop === "if_binary" && c.length === 2) ? 0 : -1));
    return this;
  }

  /** Output column names: `<feature>_<category>` (features x0, x1, ... for an array). */
  getFeatureNamesOut(): string[] {
    const cats = this.fitted("getFeatureNamesOut");
    const names = this.inputNames();
    return cats.flatMap((c, j) => c.filter((_, i) => i !== this.dropIdx![j]).map((v) => `${names[j]}_${v}`));
  }

  protected output(method: string, inverse: boolean): TransformOutput {
    const categories = this.fitted(method);
    const outNames = this.getFeatureNamesOut();
    const base = { prefix: `onehot-${method.toLowerCase()}`, what: `OneHotEncoder.${method}`, estimator: "OneHotEncoder", inPlace: false };
    if (!inverse) {
      return { ...base, t: { kind: "onehot", categories, drop: this.dropIdx!, ignoreUnknown: this.handleUnknown === "ignore", columns: this.featureNames }, d: this.nFeaturesIn, inputs: this.featureNames, outputs: outNames };
    }
    return {
      ...base,
      t: { kind: "onehot-inverse", categories, drop: this.dropIdx!, columns: this.featureNames ? outNames : null },
      d: outNames.length,
      inputs: this.featureNames ? outNames : null,
      outputs: this.inputNames(),
      types: this.featureTypes(),
    };
  }

  toJSON(): EstimatorJSON {
    const params = { categories: this.categoriesOption, handleUnknown: this.handleUnknown, drop: this.drop };
    return estimatorJSON("OneHotEncoder", params, this.categories ? { ...this.sharedFitted(), dropIdx: this.dropIdx } : null);
  }

  static fromJSON(json: EstimatorJSON): OneHotEncoder {
    const out = new OneHotEncoder(json.params as OneHotEncoderOptions);
    const f = fittedFields(json);
    if (f) {
      out.loadShared(f);
      const idx = f.f64("dropIdx", out.nFeaturesIn);
      if (!idx.every((v, j) => Number.isInteger(v) && v >= -1 && v < out.categories![j]!.length)) throw new TesseraError(`ml.fromJSON: OneHotEncoder.fitted.dropIdx must hold -1 or a category index per feature`);
      out.dropIdx = Array.from(idx);
    }
    return out;
  }
}

export interface OrdinalEncoderOptions {
  /** "auto" (the values seen in fit, sorted) or, per feature, its categories (default "auto"). */
  categories?: "auto" | Category[][];
  /** A category not seen in fit: "error" (default), or "useEncodedValue" (encoded as unknownValue). */
  handleUnknown?: "error" | "useEncodedValue";
  /** The code of unknown categories with handleUnknown "useEncodedValue": an integer that is no category's code, or NaN. */
  unknownValue?: number | null;
}

/** Each category as its index, 0 .. k-1, per feature. */
export class OrdinalEncoder extends Encoder {
  protected readonly estimator = "OrdinalEncoder";
  readonly handleUnknown: "error" | "useEncodedValue";
  readonly unknownValue: number | null;

  constructor(options: OrdinalEncoderOptions = {}) {
    const E = "OrdinalEncoder";
    checkKeys(E, options, ["categories", "handleUnknown", "unknownValue"]);
    super(E, options.categories);
    const h = options.handleUnknown ?? "error";
    if (h !== "error" && h !== "useEncodedValue") throw new TesseraError(`${E}: handleUnknown must be "error" or "useEncodedValue", got ${JSON.stringify(h)}`);
    this.handleUnknown = h;
    const u = options.unknownValue ?? null;
    if (h === "useEncodedValue" && (typeof u !== "number" || !(Number.isInteger(u) || Number.isNaN(u)))) {
      throw new TesseraError(`${E}: with handleUnknown "useEncodedValue", unknownValue must be an integer or NaN; got ${JSON.stringify(options.unknownValue)}`);
    }
    if (h === "error" && u !== null) throw new TesseraError(`${E}: unknownValue is used only with handleUnknown "useEncodedValue"`);
    this.unknownValue = u;
  }

  protected strictFit(): boolean {
    return this.handleUnknown === "error";
  }

  /** Find each feature's categories (one pass over X). */
  async fit(X: MatrixInput, options?: ComputeOptions): Promise<this> {
    await this.fitCategories(X, options);
    const u = this.unknownValue;
    if (u !== null && !Number.isNaN(u)) {
      const j = this.categories!.findIndex((c) => u >= 0 && u < c.length);
      if (j >= 0) throw new TesseraError(`OrdinalEncoder.fit: unknownValue ${u} is the code of category ${showCat(this.categories![j]![u]!)} of feature ${j}; pick a negative number or NaN`);
    }
    return this;
  }

  protected output(method: string, inverse: boolean): TransformOutput {
    const categories = this.fitted(method);
    const base = { prefix: `ordinal-${method.toLowerCase()}`, what: `OrdinalEncoder.${method}`, estimator: "OrdinalEncoder", inPlace: true, d: this.nFeaturesIn, inputs: this.featureNames, outputs: this.inputNames() };
    if (inverse) return { ...base, t: { kind: "ordinal-inverse", categories, columns: this.featureNames }, types: this.featureTypes() };
    return { ...base, t: { kind: "ordinal", categories, unknownValue: this.unknownValue, columns: this.featureNames } };
  }

  /** The constructor options (unknownValue may be NaN, which toJSON writes as "NaN"). */
  getParams(): OrdinalEncoderOptions {
    return { categories: this.categoriesOption, handleUnknown: this.handleUnknown, unknownValue: this.unknownValue };
  }

  toJSON(): EstimatorJSON {
    const params = { categories: this.categoriesOption, handleUnknown: this.handleUnknown, unknownValue: this.unknownValue === null ? null : encodeNumber(this.unknownValue) };
    return estimatorJSON("OrdinalEncoder", params, this.categories ? this.sharedFitted() : null);
  }

  static fromJSON(json: EstimatorJSON): OrdinalEncoder {
    const p = { ...json.params };
    if (p.unknownValue !== null && p.unknownValue !== undefined) p.unknownValue = decodeNumber(p.unknownValue) ?? p.unknownValue;
    const out = new OrdinalEncoder(p as OrdinalEncoderOptions);
    const f = fittedFields(json);
    if (f) out.loadShared(f);
    return out;
  }
}

registerEstimator("OneHotEncoder", OneHotEncoder.fromJSON);
registerEstimator("OrdinalEncoder", OrdinalEncoder.fromJSON);
