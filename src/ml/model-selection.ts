/**
 * Model selection (sklearn.model_selection, dask_ml.model_selection): this file only gathers
 * the exports of kfold.ts, param-space.ts, search-common.ts, search-cv.ts and adaptive-search.ts.
 *
 * The data go to the workers once: a search persists X and y (as f64 row blocks) and every
 * candidate's fit and score reads those persisted blocks through small `ml.fold` tasks that
 * run where the blocks are. Nothing of X or y is sent again per candidate, and the candidates
 * run concurrently (each a few passes of blockwise tasks), so their tasks interleave on the
 * workers.
 *
 *   KFold                 folds by row over the blocks. Without shuffle, scikit-learn's folds:
 *                         fold f tests the f-th contiguous run of rows (the first n % k
 *                         folds one row longer), cut out of whichever blocks hold it. With
 *                         shuffle, each block's rows are permuted (seeded by seed and the
 *                         block's number) and each block gives fold f its f-th share
 *                         (positions [floor(f·r/k), floor((f+1)·r/k)) of the permutation):
 *                         balanced in every block, and nothing moves between workers.
 *   GridSearchCV          every combination of paramGrid (scikit-learn's order: names sorted,
 *                         the last varying fastest) x every fold.
 *   RandomizedSearchCV    nIter draws from paramDistributions (lists: uniform choices, without
 *                         repeats when every entry is a list; distributions: uniform,
 *                         logUniform, randint, or a function of a uniform draw).
 *   IncrementalSearchCV   models trained by partialFit, one block of the training data per call,
 *                         scored on a held-out split after each call; after call t the best
 *                         max(1, floor(n0 / (1 + t)^decayRate)) models go on (dask-ml's
 *                         inverse decay), until one is left or maxIter calls.
 *   HyperbandSearchCV     Hyperband (Li et al.; dask-ml's schedule): brackets s = smax..0,
 *                         smax = floor(log_eta(maxIter)); bracket s starts
 *                         n = ceil((smax + 1) · eta^s / (s + 1)) models at r = floor(maxIter ·
 *                         eta^-s) calls and runs successive halving: step i keeps the best
 *                         floor(n · eta^-i) and trains them to round(r · eta^i) calls, until one
 *                         is left or maxIter calls. The brackets run concurrently.
 */

export { KFold, type KFoldOptions } from "./kfold.js";
export { parameterGrid, parameterSampler, uniform, logUniform, randint, type ParamGrid, type ParamDistributions, type Distribution } from "./param-space.js";
export { getParams, cloneEstimator, type SearchEstimator, type Scoring } from "./search-common.js";
export { GridSearchCV, RandomizedSearchCV, type SearchOptions, type RandomizedSearchOptions, type CvResults } from "./search-cv.js";
export { IncrementalSearchCV, HyperbandSearchCV, hyperbandBrackets, type AdaptiveOptions, type IncrementalSearchOptions, type HyperbandOptions, type ModelRecord } from "./adaptive-search.js";
