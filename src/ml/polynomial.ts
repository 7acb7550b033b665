/**
 * PolynomialFeatures (sklearn.preprocessing.PolynomialFeatures): every product of the input
 * features up to a degree, in scikit-learn's column order — the bias, then by degree, each
 * degree's monomials in the order of itertools.combinations_with_replacement over the feature
 * indices (combinations without replacement with interactionOnly). fit reads nothing but the
 * number of features (and a dataframe's column names); transform is lazy, one task per block,
 * and on a dataframe gives only the output columns, named as scikit-learn's
 * get_feature_names_out ("1", "a", "a^2", "a b").
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { DataFrame } from "../dataframe/dataframe.js";
import { featureColumns, toMatrix, type MatrixInput } from "./data.js";
import { boolOption, checkKeys, notFitted } from "./estimator.js";
import { transformed } from "./prep.js";
import type { Transformed } from "./preprocessing.js";
import { estimatorJSON, fittedFields, registerEstimator, type EstimatorJSON } from "./serialize.js";

export interface PolynomialFeaturesOptions {
  /** Highest degree (default 2), or [lowest, highest]. */
  degree?: number | readonly [number, number];
  /** Only products of distinct features (default false). */
  interactionOnly?: boolean;
  /** Start with a column of ones (default true). */
  includeBias?: boolean;
}

/** Most output columns: more is almost surely a mistake (and a block would not fit). */
const MAX_OUTPUT = 100_000;

export class PolynomialFeatures {
  readonly degree: number | readonly [number, number];
  readonly interactionOnly: boolean;
  readonly includeBias: boolean;
  nFeaturesIn = 0;
  featureNames: string[] | null = null;
  /** Per output column, the power of each input feature (row-major [nOutputFeatures, nFeaturesIn]), after fit. */
  powers: Int32Array | null = null;

  constructor(options: PolynomialFeaturesOptions = {}) {
    const E = "PolynomialFeatures";
    checkKeys(E, options, ["degree", "interactionOnly", "includeBias"]);
    const d = options.degree ?? 2;
    const ok = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 0;
    if (!(ok(d) || (Array.isArray(d) && d.length === 2 && ok(d[0]) && ok(d[1]) && d[0] <= d[1]))) {
      throw new TesseraError(`${E}: degree must be an integer >= 0 or [min, max] with 0 <= min <= max; got ${JSON.stringify(options.degree)}`);
    }
    this.degree = Array.isArray(d) ? [d[0], d[1]] : d;
    this.interactionOnly = boolOption(E, "interactionOnly", options.interactionOnly, false);
    this.includeBias = boolOption(E, "includeBias", options.includeBias, true);
  }

  get nOutputFeatures(): number {
    return this.powers ? this.powers.length / Math.max(1, this.nFeaturesIn) : 0;
  }

  /** Learn the number of features (and a dataframe's column names); runs nothing on the workers. */
  async fit(X: MatrixInput, _options?: ComputeOptions): Promise<this> {
    const what = "PolynomialFeatures.fit";
    let d: number;
    if (X instanceof DataFrame) {
      this.featureNames = featureColumns(await X.schema(), null, what);
      d = this.featureNames.length;
    } else {
      d = toMatrix(X, what).shape[1]!;
      this.featureNames = null;
    }
    this.setPowers(d, what);
    return this;
  }

  private setPowers(d: number, what: string): void {
    const [lo, hi] = Array.isArray(this.degree) ? this.degree : [0, this.degree as number];
    const rows: number[][] = [];
    if (this.includeBias) rows.push(new Array<number>(d).fill(0));
    const combo: number[] = [];
    const walk = (deg: number, start: number): void => {
      if (combo.length === deg) {
        const p = new Array<number>(d).fill(0);
        for (const j of combo) p[j]!++;
        rows.push(p);
        if (rows.length > MAX_OUTPUT) throw new TesseraError(`${what}: more than ${MAX_OUTPUT} output features; lower degree or use interactionOnly`);
        return;
      }
      for (let j = start; j < d; j++) {
        combo.push(j);
        walk(deg, this.interactionOnly ? j + 1 : j);
        combo.pop();
      }
    };
    for (let deg = Math.max(1, lo); deg <= hi; deg++) walk(deg, 0);
    if (rows.length === 0) throw new TesseraError(`${what}: no output features (degree ${JSON.stringify(this.degree)}, includeBias false)`);
    this.nFeaturesIn = d;
    this.powers = Int32Array.from(rows.flat());
  }

  /** Output column names, as scikit-learn's get_feature_names_out: "1", "x0", "x0^2", "x0 x1". */
  getFeatureNamesOut(): string[] {
    if (!this.powers) throw notFitted("PolynomialFeatures", "getFeatureNamesOut");
    const d = this.nFeaturesIn;
    const names = this.featureNames ?? Array.from({ length: d }, (_, j) => `x${j}`);
    return Array.from({ length: this.nOutputFeatures }, (_, c) => {
      const parts: string[] = [];
      for (let j = 0; j < d; j++) {
        const p = this.powers![c * d + j]!;
        if (p > 0) parts.push(p === 1 ? names[j]! : `${names[j]}^${p}`);
      }
      return parts.length === 0 ? "1" : parts.join(" ");
    });
  }

  /** The polynomial features of X (lazy). */
  transform<X extends MatrixInput>(X: X): Transformed<X> {
    if (!this.powers) throw notFitted("PolynomialFeatures", "transform");
    return transformed(X, {
      t: { kind: "poly", d: this.nFeaturesIn, powers: Array.from(this.powers), columns: this.featureNames },
      d: this.nFeaturesIn,
      inputs: this.featureNames,
      outputs: this.getFeatureNamesOut(),
      inPlace: false,
      prefix: "poly",
      what: "PolynomialFeatures.transform",
      estimator: "PolynomialFeatures",
    }) as Transformed<X>;
  }

  async fitTransform<X extends MatrixInput>(X: X, options?: ComputeOptions): Promise<Transformed<X>> {
    await this.fit(X, options);
    return this.transform(X);
  }

  toJSON(): EstimatorJSON {
    const params = { degree: Array.isArray(this.degree) ? [...this.degree] : this.degree, interactionOnly: this.interactionOnly, includeBias: this.includeBias };
    return estimatorJSON("PolynomialFeatures", params, this.powers ? { nFeaturesIn: this.nFeaturesIn, featureNames: this.featureNames } : null);
  }

  static fromJSON(json: EstimatorJSON): PolynomialFeatures {
    const out = new PolynomialFeatures(json.params as PolynomialFeaturesOptions);
    const f = fittedFields(json);
    if (f) {
      out.featureNames = f.strings("featureNames");
      out.setPowers(f.int("nFeaturesIn"), "ml.fromJSON: PolynomialFeatures");
    }
    return out;
  }
}

registerEstimator("PolynomialFeatures", PolynomialFeatures.fromJSON);
