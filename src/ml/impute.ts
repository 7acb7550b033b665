/**
 * SimpleImputer (sklearn.impute.SimpleImputer): fill missing values — NaN, and nulls of a
 * dataframe's columns — with a per-column statistic of the present ones. fit is one pass:
 *
 *   "mean"           per block the count and mean of present values, merged (Chan's update)
 *   "median"         per block each column's present values sorted, merged up a tree; the
 *                    median of the merged run on the client (n·d numbers: moderate n)
 *   "most_frequent"  per block each column's value counts, unioned; ties go to the smallest
 *                    value, as in scikit-learn
 *   "constant"       fillValue (default 0, or "missing_value" for string columns); no pass
 *
 * Dataframe string columns take "most_frequent" and "constant". transform is lazy: an array
 * gives a float64 array with X's row blocks; a dataframe keeps its columns in place, the
 * imputed ones filled (numeric ones as float64). Unlike scikit-learn, a column with no present
 * value is an error for the statistics (scikit-learn 1.2 drops it) and infinities count as
 * present values.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import type { ColumnMeta } from "../dataframe/frame.js";
import type { MatrixInput } from "./data.js";
import { checkKeys, notFitted } from "./estimator.js";
import type { Category, CountsPartial, MeanPartial, SortedPartial } from "./ops-prep.js";
import { prepInput, reducePrep, transformed } from "./prep.js";
import { quantile, type Transformed } from "./preprocessing.js";
import { decodeNumber, encodeNumber, estimatorJSON, fittedFields, registerEstimator, type EstimatorJSON } from "./serialize.js";

export type ImputeStrategy = "mean" | "median" | "most_frequent" | "constant";

export interface SimpleImputerOptions {
  /** What fills a missing value (default "mean"). */
  strategy?: ImputeStrategy;
  /** With "constant": the value (default 0, or "missing_value" for string columns). */
  fillValue?: number | string | null;
}

const STRATEGIES: readonly ImputeStrategy[] = ["mean", "median", "most_frequent", "constant"];

export class SimpleImputer {
  readonly strategy: ImputeStrategy;
  readonly fillValue: number | string | null;
  /** Per column, after fit: the value that replaces a missing one. */
  statistics: Category[] | null = null;
  nFeaturesIn = 0;
  featureNames: string[] | null = null;
  /** Which columns are strings (dataframes). */
  private stringColumns: boolean[] = [];

  constructor(options: SimpleImputerOptions = {}) {
    const E = "SimpleImputer";
    checkKeys(E, options, ["strategy", "fillValue"]);
    const s = options.strategy ?? "mean";
    if (!STRATEGIES.includes(s)) throw new TesseraError(`${E}: strategy must be one of ${STRATEGIES.map((x) => JSON.stringify(x)).join(", ")}, got ${JSON.stringify(s)}`);
    this.strategy = s;
    const f = options.fillValue ?? null;
    if (f !== null && typeof f !== "string" && !(typeof f === "number" && !Number.isNaN(f))) throw new TesseraError(`${E}: fillValue must be a number (not NaN) or a string, got ${JSON.stringify(options.fillValue)}`);
    if (f !== null && s !== "constant") throw new TesseraError(`${E}: fillValue is used only with strategy "constant"`);
    this.fillValue = f;
  }

  /** Compute the fill value of each column (one pass, none for "constant"). */
  async fit(X: MatrixInput, options?: ComputeOptions): Promise<this> {
    const what = "SimpleImputer.fit";
    const strings = this.strategy === "most_frequent" || this.strategy === "constant";
    const input = await prepInput(X, what, strings);
    const d = input.rows.d;
    const name = (j: number) => (input.columns ? `column ${JSON.stringify(input.columns[j])}` : `column ${j}`);
    const empty = (j: number) => new TesseraError(`${what}: ${name(j)} has no value that is not missing, so it has no ${this.strategy}; use strategy "constant"`);
    let stats: Category[];
    switch (this.strategy) {
      case "mean": {
        const p = await reducePrep<MeanPartial>(input, "ml.prep.mean", "ml.prep.mean.combine", {}, what, options);
        if (p.problem) throw new TesseraError(`${what}: ${p.problem}`);
        stats = p.mean.map((m, j) => {
          if (p.n[j] === 0) throw empty(j);
          return m;
        });
        break;
      }
      case "median": {
        const p = await reducePrep<SortedPartial>(input, "ml.prep.sorted", "ml.prep.sorted.combine", { nan: "skip" }, what, options);
        if (p.problem) throw new TesseraError(`${what}: ${p.problem}`);
        stats = p.cols.map((c, j) => {
          if (c.length === 0) throw empty(j);
          return quantile(c, 50);
        });
        break;
      }
      case "most_frequent": {
        const p = await reducePrep<CountsPartial>(input, "ml.prep.counts", "ml.prep.counts.combine", { missing: "count", maxValues: Number.MAX_SAFE_INTEGER }, what, options);
        if (p.problem) throw new TesseraError(`${what}: ${p.problem}`);
        stats = p.values.map((values, j) => {
          if (values.length === 0) throw empty(j);
          let best = 0;
          values.forEach((v, i) => {
            const c = p.counts[j]![i]!;
            const b = p.counts[j]![best]!;
            if (c > b || (c === b && (typeof v === "number" ? v < (values[best] as number) : v < values[best]!))) best = i;
          });
          return values[best]!;
        });
        break;
      }
      case "constant":
        stats = input.strings.map((isString, j) => {
          const f = this.fillValue ?? (isString ? "missing_value" : 0);
          if (isString !== (typeof f === "string")) throw new TesseraError(`${what}: fillValue ${JSON.stringify(f)} does not suit ${name(j)}, which is ${isString ? "a string column" : "numeric"}`);
          return f;
        });
        break;
    }
    this.statistics = stats;
    this.nFeaturesIn = d;
    this.featureNames = input.columns;
    this.stringColumns = input.strings;
    return this;
  }

  /** X with its missing values filled (lazy). */
  transform<X extends MatrixInput>(X: X): Transformed<X> {
    const what = "SimpleImputer.transform";
    if (!this.statistics) throw notFitted("SimpleImputer", "transform");
    const names = this.featureNames ?? Array.from({ length: this.nFeaturesIn }, (_, j) => `x${j}`);
    const types = this.stringColumns.map((s): ColumnMeta => ({ type: s ? "string" : "float64" }));
    if (!this.featureNames && this.stringColumns.some((s) => s)) throw new TesseraError(`${what}: internal: string columns without names`);
    return transformed(X, {
      t: { kind: "impute", fill: this.statistics, columns: this.featureNames },
      d: this.nFeaturesIn,
      inputs: this.featureNames,
      outputs: names,
      types,
      inPlace: true,
      prefix: "impute",
      what,
      estimator: "SimpleImputer",
    }) as Transformed<X>;
  }

  async fitTransform<X extends MatrixInput>(X: X, options?: ComputeOptions): Promise<Transformed<X>> {
    await this.fit(X, options);
    return this.transform(X);
  }

  toJSON(): EstimatorJSON {
    const params = { strategy: this.strategy, fillValue: this.fillValue };
    const fitted = this.statistics
      ? { nFeaturesIn: this.nFeaturesIn, featureNames: this.featureNames, stringColumns: this.stringColumns, statistics: this.statistics.map((v) => (typeof v === "number" ? encodeNumber(v) : v)) }
      : null;
    return estimatorJSON("SimpleImputer", params, fitted);
  }

  static fromJSON(json: EstimatorJSON): SimpleImputer {
    const out = new SimpleImputer(json.params as SimpleImputerOptions);
    const f = fittedFields(json);
    if (f) {
      out.nFeaturesIn = f.int("nFeaturesIn");
      out.featureNames = f.strings("featureNames");
      const strings = f.array("stringColumns");
      const stats = f.array("statistics");
      if (strings.length !== out.nFeaturesIn || stats.length !== out.nFeaturesIn || !strings.every((s) => typeof s === "boolean")) {
        throw new TesseraError(`ml.fromJSON: SimpleImputer.fitted needs stringColumns (booleans) and statistics for each of its ${out.nFeaturesIn} features`);
      }
      out.stringColumns = strings as boolean[];
      out.statistics = stats.map((v, j) => {
        const x = strings[j] ? (typeof v === "string" ? v : undefined) : decodeNumber(v);
        if (x === undefined) throw new TesseraError(`ml.fromJSON: SimpleImputer.fitted.statistics[${j}] is ${JSON.stringify(v)}, not a ${strings[j] ? "string" : "number"}`);
        return x;
      });
    }
    return out;
  }
}

registerEstimator("SimpleImputer", SimpleImputer.fromJSON);
