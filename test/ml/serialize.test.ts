// Models to JSON and back (ml.fromJSON): every estimator, fitted on real data on a 2-worker
// LocalCluster, gives the same outputs after a round trip through JSON text; unfitted ones
// stay unfitted; malformed JSON is refused with what is wrong.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, dataframe as dd, ml, type Client } from "../../dist/index.js";
import { HAVE_DATASETS, loadCsv, loadDiabetes } from "./helpers.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

interface Model {
  toJSON(): unknown;
}
const roundTrip = <T extends Model>(m: T): T => ml.fromJSON(JSON.stringify(m)) as T;
const values = async (x: { compute(): Promise<{ data: ArrayLike<number> }> }) => Array.from((await x.compute()).data);

describe.skipIf(!HAVE_DATASETS)("model JSON", () => {
  it("round-trips every estimator: same parameters, same predictions and transforms", async () => {
    const iris = loadCsv("iris.csv");
    const X = da.fromTypedArray(iris.X, { shape: [iris.n, iris.d], chunks: [50, iris.d] });
    const diab = loadDiabetes();
    const Xd = da.fromTypedArray(diab.X, { shape: [diab.n, diab.d], chunks: [150, diab.d] });

    const fitted: [Model & { constructor: { name: string } }, (m: never) => Promise<unknown>][] = [
      [await new ml.StandardScaler({ withMean: false }).fit(X), (m: InstanceType<typeof ml.StandardScaler>) => values(m.transform(X))],
      [await new ml.MinMaxScaler({ featureRange: [-1, 2] }).fit(X), (m: InstanceType<typeof ml.MinMaxScaler>) => values(m.transform(X))],
      [await new ml.RobustScaler({ quantileRange: [20, 80] }).fit(X), (m: InstanceType<typeof ml.RobustScaler>) => values(m.inverseTransform(X))],
      [await new ml.LogisticRegression({ C: 0.5 }).fit(X, iris.y), (m: InstanceType<typeof ml.LogisticRegression>) => values(m.predictProba(X))],
      [await new ml.LinearRegression().fit(Xd, diab.y), (m: InstanceType<typeof ml.LinearRegression>) => values(m.predict(Xd))],
      [await new ml.Ridge({ alpha: 0.3, fitIntercept: false }).fit(Xd, diab.y), (m: InstanceType<typeof ml.Ridge>) => values(m.predict(Xd))],
      [await new ml.KMeans({ nClusters: 3, seed: 2 }).fit(X), (m: InstanceType<typeof ml.KMeans>) => values(m.predict(X))],
      [await new ml.KMeans({ nClusters: 2, init: [[5, 3, 1, 0], [6, 3, 5, 2]] }).fit(X), (m: InstanceType<typeof ml.KMeans>) => values(m.transform(X))],
      [await new ml.PCA({ nComponents: 2, whiten: true }).fit(X), (m: InstanceType<typeof ml.PCA>) => values(m.transform(X))],
      [await new ml.PolynomialFeatures({ degree: 3, interactionOnly: true }).fit(X), (m: InstanceType<typeof ml.PolynomialFeatures>) => values(m.transform(X))],
      [await new ml.OneHotEncoder({ drop: "first", handleUnknown: "ignore" }).fit([[1, 5], [2, 6], [3, 5]]), (m: InstanceType<typeof ml.OneHotEncoder>) => values(m.transform([[3, 6], [9, 5]]))],
      [await new ml.OrdinalEncoder({ handleUnknown: "useEncodedValue", unknownValue: NaN }).fit([[1], [2]]), (m: InstanceType<typeof ml.OrdinalEncoder>) => values(m.transform([[2], [7]]))],
      [await new ml.SimpleImputer({ strategy: "median" }).fit([[1, NaN], [2, 4], [10, 5]]), (m: InstanceType<typeof ml.SimpleImputer>) => values(m.transform([[NaN, NaN]]))],
    ];
    for (const [model, output] of fitted) {
      const json = model.toJSON() as { format: string; version: number; estimator: string; fitted: unknown };
      expect(json.format).toBe("tessera-ml");
      expect(json.version).toBe(1);
      expect(json.estimator).toBe(model.constructor.name);
      const back = roundTrip(model);
      expect(back.constructor).toBe(model.constructor);
      expect(JSON.stringify(back)).toBe(JSON.stringify(model));
      expect(await output(back as never)).toEqual(await output(model as never));
    }
  });

  it("keeps string categories, feature names and NaN through JSON", async () => {
    const df = dd.fromArrays({ c: ["NaN", "b", "a"], v: new Float64Array([1, 2, 3]) }, { npartitions: 2 });
    const enc = await new ml.OneHotEncoder().fit(df.select("c"));
    const back = roundTrip(enc);
    expect(back.categories).toEqual([["NaN", "a", "b"]]);
    expect(back.featureNames).toEqual(["c"]);
    const t = await back.transform(df).compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(["v", "c_NaN", "c_a", "c_b"]);
    const ord = roundTrip(await new ml.OrdinalEncoder({ handleUnknown: "useEncodedValue", unknownValue: NaN }).fit([[1]]));
    expect(ord.unknownValue).toBeNaN();
    expect(JSON.stringify(ord)).toContain('"unknownValue":"NaN"');
    const imp = roundTrip(await new ml.SimpleImputer({ strategy: "most_frequent" }).fit(dd.fromArrays({ s: ["x", null, "x"] }, { npartitions: 1 })));
    expect(imp.statistics).toEqual(["x"]);
    // Infinity written as a string decodes back.
    const lr = await new ml.LinearRegression().fit([[0], [1], [2]], [1, 3, 5]);
    const json = JSON.parse(JSON.stringify(lr));
    json.fitted.intercept = "-Infinity";
    expect((ml.fromJSON(json) as InstanceType<typeof ml.LinearRegression>).intercept).toBe(-Infinity);
  });

  it("an unfitted estimator stays unfitted; bad JSON is refused with what is wrong", async () => {
    const json = new ml.LogisticRegression({ C: 2 }).toJSON();
    expect(json.fitted).toBeNull();
    const lr = ml.fromJSON(json) as InstanceType<typeof ml.LogisticRegression>;
    expect(lr.C).toBe(2);
    expect(() => lr.predict([[1]])).toThrow(/LogisticRegression.predict: this LogisticRegression is not fitted yet; call fit\(\) first/);
    expect(() => (ml.fromJSON(new ml.PCA().toJSON()) as InstanceType<typeof ml.PCA>).transform([[1]])).toThrow(/not fitted yet/);

    const good = (await new ml.StandardScaler().fit([[1], [2]])).toJSON();
    expect(() => ml.fromJSON("{not json")).toThrow(/ml.fromJSON: the text is not valid JSON/);
    expect(() => ml.fromJSON([1, 2])).toThrow(/expected an object made by an estimator's toJSON\(\), got an array/);
    expect(() => ml.fromJSON({ ...good, format: "onnx" })).toThrow(/format must be "tessera-ml", got "onnx"/);
    expect(() => ml.fromJSON({ ...good, version: 2 })).toThrow(/version 2 is not supported; this tessera reads version 1/);
    expect(() => ml.fromJSON({ ...good, estimator: "XGBoost" })).toThrow(/unknown estimator "XGBoost"; known: .*StandardScaler/);
    expect(() => ml.fromJSON({ ...good, params: null })).toThrow(/"params" must be an object/);
    const { fitted: _f, ...noFitted } = good;
    expect(() => ml.fromJSON(noFitted)).toThrow(/"fitted" must be an object, or null/);
    expect(() => ml.fromJSON({ ...good, fitted: { ...good.fitted, mean: undefined } })).toThrow(/StandardScaler.fitted lacks the field "mean"/);
    expect(() => ml.fromJSON({ ...good, fitted: { ...good.fitted, scale: [1, 2] } })).toThrow(/StandardScaler.fitted.scale must have 1 values, got 2/);
    expect(() => ml.fromJSON({ ...good, fitted: { ...good.fitted, var: ["x"] } })).toThrow(/StandardScaler.fitted.var must be an array of numbers/);
    expect(() => ml.fromJSON({ ...good, params: { withMean: "yes" } })).toThrow(/StandardScaler: withMean must be true or false/);
    expect(() => ml.registerEstimator("", () => null)).toThrow(/name must be a non-empty string/);
  });
});
