"""Reference results for the tests of RobustScaler's unitVariance, multiclass rocAucScore,
PCA's randomized solver and SGD's average / classWeight / sampleWeight / earlyStopping,
written to references-c.json.

Produced with Debian's python3-sklearn 1.2.1 (numpy 1.24.2, scipy 1.10.1):
    apt-get install -y python3-sklearn && /usr/bin/python3 test/ml/make-references-c.py
on the datasets in ../shared/datasets.
"""
import gzip
import json
import os
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, SGDClassifier, SGDRegressor
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import RobustScaler, StandardScaler

warnings.filterwarnings("ignore")  # ConvergenceWarning at max_iter, as users see it
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "datasets")


def load_csv(name):
    with open(os.path.join(DATA, name)) as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    d = int(rows[0][1])
    arr = np.array(rows[1:], dtype=float)
    return arr[:, :d], arr[:, d]


def load_digits():
    with gzip.open(os.path.join(DATA, "digits.csv.gz"), "rt") as f:
        arr = np.array([line.split(",") for line in f if line.strip()], dtype=float)
    return arr[:, :64], arr[:, 64]


def load_diabetes():
    with gzip.open(os.path.join(DATA, "diabetes_data_raw.csv.gz"), "rt") as f:
        X = np.array([line.split() for line in f if line.strip()], dtype=float)
    with gzip.open(os.path.join(DATA, "diabetes_target.csv.gz"), "rt") as f:
        y = np.array([float(line) for line in f if line.strip()])
    return X, y


out = {}

# RobustScaler(unit_variance=True) on breast_cancer, default and (10, 90) quantiles.
Xb, yb = load_csv("breast_cancer.csv")
out["robust_unit_variance"] = {
    "scale": RobustScaler(unit_variance=True).fit(Xb).scale_.tolist(),
    "scale10_90": RobustScaler(unit_variance=True, quantile_range=(10.0, 90.0)).fit(Xb).scale_.tolist(),
}

# Multiclass ROC AUC of a fitted model's probabilities: LogisticRegression(max_iter=1000) on
# iris's two sepal columns (a weak model, so the AUCs are not all 1) and on wine's first three
# columns, standardized; predict_proba on the training rows. "rounded" rounds the iris
# probabilities to 1 decimal and renormalizes them, for tied scores.
def auc_case(X, y):
    Z = StandardScaler().fit_transform(X)
    P = LogisticRegression(max_iter=1000).fit(Z, y).predict_proba(Z)
    return P


def auc_scores(y, P):
    return {f"{mc}_{av}": roc_auc_score(y, P, multi_class=mc, average=av) for mc in ["ovr", "ovo"] for av in ["macro", "weighted"]}


Xi, yi = load_csv("iris.csv")
Pi = auc_case(Xi[:, :2], yi)
Xw, yw = load_csv("wine_data.csv")
Pw = auc_case(Xw[:, :3], yw)
Pr = np.round(Pi, 1)
Pr = Pr / Pr.sum(axis=1, keepdims=True)
out["rocauc"] = {
    "iris": {"y": yi.tolist(), "proba": Pi.tolist(), "auc": auc_scores(yi, Pi)},
    "wine": {"y": yw.tolist(), "proba": Pw.tolist(), "auc": auc_scores(yw, Pw)},
    "iris_rounded": {"y": yi.tolist(), "proba": Pr.tolist(), "auc": auc_scores(yi, Pr)},
}


# PCA on digits: the randomized solver (n_components=10, n_oversamples=10, iterated_power
# "auto") beside the full one, explained variance and its ratio; "spread" is, per component,
# the largest relative error of the randomized explained variance against the full one over
# random_state 0..5 (how far scikit-learn's own randomized answer strays).
Xd, _ = load_digits()
pr = PCA(n_components=10, svd_solver="randomized", random_state=0).fit(Xd)
pf = PCA(n_components=10, svd_solver="full").fit(Xd)
spread = np.max([np.abs(PCA(n_components=10, svd_solver="randomized", random_state=rs).fit(Xd).explained_variance_ - pf.explained_variance_) / pf.explained_variance_ for rs in range(6)], axis=0)
out["pca_digits10"] = {
    "spread": spread.tolist(),
    "randomized": {"explainedVariance": pr.explained_variance_.tolist(), "explainedVarianceRatio": pr.explained_variance_ratio_.tolist(), "noiseVariance": pr.noise_variance_},
    "full": {"explainedVariance": pf.explained_variance_.tolist(), "explainedVarianceRatio": pf.explained_variance_ratio_.tolist(), "noiseVariance": pf.noise_variance_, "components": pf.components_.tolist()},
}

# SGD with shuffle=False (scikit-learn's updates in row order, so deterministic) on the
# standardized datasets: average, class_weight and sample_weight; max_iter / tol as given.
# Early stopping draws its split with numpy's generator, so only its accuracy and epochs are kept.
def sgd_fit(m, X, y, **fit):
    m.fit(X, y, **fit)
    return {"coef": m.coef_.ravel().tolist(), "intercept": np.atleast_1d(m.intercept_).tolist(), "nIter": int(m.n_iter_), "t": float(m.t_)}


Zb = StandardScaler().fit_transform(Xb)
Zi = StandardScaler().fit_transform(Xi)
Zw = StandardScaler().fit_transform(Xw)
Xg, yg = load_diabetes()
Zg = StandardScaler().fit_transform(Xg)
swb = 1.0 + (np.arange(len(yb)) % 3)  # sample weights 1, 2, 3, 1, 2, 3, ...
swg = 0.5 + (np.arange(len(yg)) % 4) / 2
sgd = out["sgd"] = {}
sgd["average"] = sgd_fit(SGDClassifier(average=True, shuffle=False, max_iter=20, tol=None), Zb, yb)
sgd["average_log_l1"] = sgd_fit(SGDClassifier(loss="log_loss", penalty="elasticnet", alpha=1e-3, average=50, shuffle=False, max_iter=10, tol=None), Zb, yb)
sgd["average_iris"] = sgd_fit(SGDClassifier(average=True, shuffle=False, max_iter=10, tol=None), Zi, yi)
sgd["average_regressor"] = sgd_fit(SGDRegressor(average=True, shuffle=False, max_iter=10, tol=None), Zg, yg)
sgd["balanced"] = sgd_fit(SGDClassifier(class_weight="balanced", shuffle=False, max_iter=10, tol=None), Zb, yb)
sgd["class_map"] = sgd_fit(SGDClassifier(class_weight={0: 2.0, 1: 0.5}, shuffle=False, max_iter=10, tol=None), Zb, yb)
sgd["balanced_wine"] = sgd_fit(SGDClassifier(class_weight="balanced", shuffle=False, max_iter=10, tol=None), Zw, yw)
sgd["sample_weight"] = sgd_fit(SGDClassifier(loss="log_loss", shuffle=False, max_iter=10, tol=None), Zb, yb, sample_weight=swb)
sgd["sample_weight_regressor"] = sgd_fit(SGDRegressor(shuffle=False, max_iter=10, tol=None), Zg, yg, sample_weight=swg)
Xd2, yd2 = load_digits()
Zd = StandardScaler().fit_transform(Xd2)
es = [SGDClassifier(early_stopping=True, random_state=rs).fit(Zd, yd2) for rs in range(5)]
sgd["early_stopping_digits"] = {"accuracy": [m.score(Zd, yd2) for m in es], "nIter": [int(m.n_iter_) for m in es]}
esr = [SGDRegressor(early_stopping=True, random_state=rs).fit(Zg, yg) for rs in range(5)]
sgd["early_stopping_diabetes"] = {"r2": [m.score(Zg, yg) for m in esr], "nIter": [int(m.n_iter_) for m in esr]}

with open(os.path.join(HERE, "references-c.json"), "w") as f:
    json.dump(out, f)
