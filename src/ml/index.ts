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
export { LogisticRegression, type LogisticRegressionOptions, type LogisticSolver, type Predicted } from "./logistic.js";
export { LinearRegression, Ridge, type LinearRegressionOptions, type RidgeOptions } from "./linear.js";
export { KMeans, type KMeansOptions } from "./kmeans.js";
export { RobustScaler, type RobustScalerOptions } from "./preprocessing.js";
export { OneHotEncoder, OrdinalEncoder, type OneHotEncoderOptions, type OrdinalEncoderOptions } from "./encoders.js";
export { SimpleImputer, type SimpleImputerOptions, type ImputeStrategy } from "./impute.js";
export { PolynomialFeatures, type PolynomialFeaturesOptions } from "./polynomial.js";
export { PCA, type PCAOptions, type PCASolver } from "./pca.js";
export { accuracyScore, logLoss, r2Score, meanSquaredError, meanAbsoluteError, confusionMatrix, rocAucScore, type MetricInput, type MetricOptions, type RocAucOptions } from "./metrics.js";
export { fromJSON, registerEstimator, type EstimatorJSON } from "./serialize.js";
export { SGDClassifier, SGDRegressor, type SGDClassifierOptions, type SGDRegressorOptions, type PartialFitOptions, type SgdFitOptions, type SampleWeight } from "./sgd.js";
export { Incremental, ParallelPostFit, type IncrementalOptions, type ParallelPostFitOptions } from "./wrappers.js";
export { KFold, GridSearchCV, RandomizedSearchCV, IncrementalSearchCV, HyperbandSearchCV, parameterGrid, parameterSampler, hyperbandBrackets, uniform, logUniform, randint, type KFoldOptions, type SearchOptions, type RandomizedSearchOptions, type IncrementalSearchOptions, type HyperbandOptions, type CvResults, type ParamGrid, type ParamDistributions, type Distribution, type Scoring } from "./model-selection.js";
export type { MatrixInput, TargetInput } from "./data.js";
