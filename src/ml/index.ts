/**
 * Machine learning on tessera collections (dask-ml): `import { ml } from "tessera"`.
 *
 *   const clf = new ml.LogisticRegression({ C: 1.0, maxIter: 100 });
 *   await clf.fit(X, y);                  // X: a 2-d array, a dataframe, or plain rows
 *   const acc = await clf.score(Xtest, ytest);
 *   const km = await new ml.KMeans({ nClusters: 3, seed: 0 }).fit(X);
 *
 * Estimators use scikit-learn's names in camelCase. Each fit is passes of one task per row
 * block, tree-reduced to a few numbers on the client; predictions and transforms are lazy
 * blockwise collections. See each module's notes for what runs where.
 */

import "./ops.js"; // the ml.* ops, for the inline executor on this thread

export { StandardScaler, MinMaxScaler, type StandardScalerOptions, type MinMaxScalerOptions, type Transformed } from "./preprocessing.js";
export { trainTestSplit, type TrainTestSplitOptions } from "./split.js";
export { LogisticRegression, type LogisticRegressionOptions, type Predicted } from "./logistic.js";
export { LinearRegression, Ridge, type LinearRegressionOptions, type RidgeOptions } from "./linear.js";
export { KMeans, type KMeansOptions } from "./kmeans.js";
export type { MatrixInput, TargetInput } from "./data.js";
