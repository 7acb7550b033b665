"""Reference results for test/ml/sgd.test.ts, model-selection.test.ts and wrappers.test.ts,
written to references-b.json.

Produced with Debian's python3-sklearn 1.2.1 (numpy 1.24.2):
    apt-get install -y python3-sklearn && /usr/bin/python3 test/ml/make-references-b.py
on the datasets in ../shared/datasets. Features are standardized with StandardScaler first
(as the tests do with their own two-pass standardize, which agrees to ~1e-15).

SGD with shuffle=False makes scikit-learn's updates deterministic, so tessera's SGD (which
does the same updates in the same order) must give the same coefficients; the shuffled fits
give accuracies tessera should come close to (its shuffle permutes within blocks, not the
whole data, so only the accuracy is comparable).
"""
import gzip
import json
import os
import warnings

import numpy as np
from sklearn.linear_model import Ridge, SGDClassifier, SGDRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")  # ConvergenceWarning at max_iter, as users see it
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "datasets")


def load_csv(name):
    with open(os.path.join(DATA, name)) as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    n, d = int(rows[0][0]), int(rows[0][1])
    arr = np.array(rows[1:], dtype=float)
    return arr[:, :d], arr[:, d]


def load_diabetes():
    with gzip.open(os.path.join(DATA, "diabetes_data_raw.csv.gz"), "rt") as f:
        X = np.array([line.split() for line in f if line.strip()], dtype=float)
    with gzip.open(os.path.join(DATA, "diabetes_target.csv.gz"), "rt") as f:
        y = np.array([float(line) for line in f if line.strip()])
    return X, y


def fitted(m, X, y):
    return {
        "coef": m.coef_.ravel().tolist(),
        "intercept": np.atleast_1d(m.intercept_).tolist(),
        "nIter": int(m.n_iter_) if np.ndim(m.n_iter_) == 0 else int(np.max(m.n_iter_)),
        "t": float(m.t_),
        "score": float(m.score(X, y)),
    }


out = {"sgd": {}, "search": {}}

X, y = load_csv("breast_cancer.csv")
Z = StandardScaler().fit_transform(X)
bc = out["sgd"]["breast_cancer"] = {}
for loss in ["hinge", "log_loss", "modified_huber"]:
    bc[loss] = fitted(SGDClassifier(loss=loss, shuffle=False).fit(Z, y), Z, y)
    bc[loss]["shuffledScore"] = float(SGDClassifier(loss=loss, random_state=0).fit(Z, y).score(Z, y))
bc["elasticnet"] = fitted(SGDClassifier(penalty="elasticnet", alpha=1e-3, shuffle=False).fit(Z, y), Z, y)
bc["l1"] = fitted(SGDClassifier(penalty="l1", alpha=1e-3, shuffle=False).fit(Z, y), Z, y)
bc["adaptive"] = fitted(SGDClassifier(learning_rate="adaptive", eta0=0.01, shuffle=False).fit(Z, y), Z, y)
# partial_fit over three pieces (rows 0-199, 200-399, 400-) then once more over all
pf = SGDClassifier(loss="log_loss", shuffle=False)
for a, b in [(0, 200), (200, 400), (400, len(y))]:
    pf.partial_fit(Z[a:b], y[a:b], classes=[0, 1])
first = pf.coef_.ravel().tolist()
pf.partial_fit(Z, y)
bc["partialFit"] = {"afterOnePass": first, "afterTwoPasses": pf.coef_.ravel().tolist(), "intercept": pf.intercept_.tolist(), "t": float(pf.t_)}

X, y = load_csv("iris.csv")
Z = StandardScaler().fit_transform(X)
out["sgd"]["iris"] = {
    "log_loss": fitted(SGDClassifier(loss="log_loss", shuffle=False).fit(Z, y), Z, y),
    "hinge": fitted(SGDClassifier(shuffle=False).fit(Z, y), Z, y),
}
m = SGDClassifier(loss="log_loss", shuffle=False).fit(Z, y)
out["sgd"]["iris"]["log_loss"]["probaFirstRows"] = m.predict_proba(Z[:3]).ravel().tolist()
m = SGDClassifier(loss="modified_huber", shuffle=False).fit(Z, y)
out["sgd"]["iris"]["modified_huber"] = fitted(m, Z, y)
out["sgd"]["iris"]["modified_huber"]["probaFirstRows"] = m.predict_proba(Z[:3]).ravel().tolist()

X, y = load_diabetes()
Z = StandardScaler().fit_transform(X)
out["sgd"]["diabetes"] = {
    "squared_error": fitted(SGDRegressor(shuffle=False).fit(Z, y), Z, y),
    "huber": fitted(SGDRegressor(loss="huber", epsilon=10.0, shuffle=False, max_iter=5000).fit(Z, y), Z, y),
    "shuffledScore": float(SGDRegressor(random_state=0).fit(Z, y).score(Z, y)),
}

# Ridge over an alpha grid, 5 unshuffled folds: tessera's KFold (no shuffle) is scikit-learn's.
gs = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0, 100.0]}, cv=KFold(5)).fit(X, y)
out["search"]["diabetesRidge"] = {
    "meanTestScore": gs.cv_results_["mean_test_score"].tolist(),
    "stdTestScore": gs.cv_results_["std_test_score"].tolist(),
    "rankTestScore": gs.cv_results_["rank_test_score"].tolist(),
    "splitTestScores": [[float(gs.cv_results_[f"split{k}_test_score"][c]) for k in range(5)] for c in range(4)],
    "bestParams": gs.best_params_,
}

with open(os.path.join(HERE, "references-b.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
