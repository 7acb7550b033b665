"""Reference results for test/ml/*.test.ts, written to references.json.

Produced with Debian's python3-sklearn 1.2.1 (numpy 1.24.2, scipy 1.10.1):
    apt-get install -y python3-sklearn && /usr/bin/python3 test/ml/make-references.py
on the datasets in ../shared/datasets (as scikit-learn 1.2.1 ships them).

Logistic regression coefficients are the optimum of scikit-learn's objective (L2, C = 1,
unpenalized intercept; multinomial with one weight vector per class) found by Newton's method
to a gradient of ~1e-15: scikit-learn's own lbfgs stops at a gradient of ~1e-6 even with
tol=1e-10 (its ftol stop), so its coefficients ("sklearnCoef") are an approximation of it.
Accuracies are scikit-learn's, fitted with default options.

The entries after "diabetes" (preprocessing, PCA, metrics: test/ml/preprocessing.test.ts,
pca.test.ts, metrics.test.ts) are scikit-learn's own outputs with the options written next to
each; inputs that are derived from a dataset (NaN holes, predictions) are built by the rules
written here and rebuilt by the same rules in the tests (helpers.ts holeMask, the tests'
predictions). PCA uses svd_solver="full" (LAPACK SVD, signs by svd_flip), which is what the
exact TSQR reproduces; "auto" would pick the randomized solver on digits.
"""
import gzip
import warnings
import json
import os

import numpy as np
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, PolynomialFeatures, RobustScaler, StandardScaler
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn import metrics

warnings.filterwarnings("ignore")  # the default-options fits may stop at max_iter, as they do for users
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "datasets")


def load_csv(name):
    with open(os.path.join(DATA, name)) as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    n, d = int(rows[0][0]), int(rows[0][1])
    arr = np.array(rows[1:], dtype=float)
    assert arr.shape == (n, d + 1)
    return arr[:, :d], arr[:, d]


def load_diabetes():
    with gzip.open(os.path.join(DATA, "diabetes_data_raw.csv.gz"), "rt") as f:
        X = np.array([line.split() for line in f if line.strip()], dtype=float)
    with gzip.open(os.path.join(DATA, "diabetes_target.csv.gz"), "rt") as f:
        y = np.array([float(line) for line in f if line.strip()])
    return X, y


def newton(X, y, C=1.0):
    """The minimizer of (1/n) sum loss_i + ||W||^2 / (2 C n), by Newton's method."""
    n, d = X.shape
    classes = np.unique(y)
    K = 1 if len(classes) == 2 else len(classes)
    Xa = np.hstack([X, np.ones((n, 1))])
    Y = (y[:, None] == classes[None, :]).astype(float)
    if K == 1:
        Y = Y[:, 1:]
    theta = np.zeros((d + 1) * K)
    pen = np.zeros(d + 1)
    pen[:d] = 1.0 / (C * n)
    for _ in range(50):
        T = theta.reshape(K, d + 1)
        Z = Xa @ T.T
        if K == 1:
            P = 1 / (1 + np.exp(-Z))
        else:
            P = np.exp(Z - Z.max(axis=1, keepdims=True))
            P /= P.sum(axis=1, keepdims=True)
        G = ((P - Y).T @ Xa) / n + T * pen
        H = np.zeros(((d + 1) * K, (d + 1) * K))
        for a in range(K):
            for b in range(K):
                w = P[:, a] * ((a == b) - P[:, b]) if K > 1 else P[:, 0] * (1 - P[:, 0])
                H[a * (d + 1):(a + 1) * (d + 1), b * (d + 1):(b + 1) * (d + 1)] = (Xa * w[:, None]).T @ Xa / n
        H += np.diag(np.tile(pen, K))
        # lstsq: with K softmax intercepts the Hessian is singular along their common shift.
        theta = theta - np.linalg.lstsq(H, G.ravel(), rcond=None)[0]
        if np.abs(G).max() < 1e-15:
            break
    T = theta.reshape(K, d + 1)
    return T[:, :d], T[:, d], np.abs(G).max()


def logistic(X, y):
    W, b, grad = newton(X, y)
    assert grad < 1e-12, grad
    sk = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X, y)
    assert np.abs(sk.coef_ - W).max() < 1e-2 * max(1, np.abs(W).max())
    default = LogisticRegression().fit(X, y)
    return {
        "coef": W.ravel().tolist(),
        "intercept": b.tolist(),
        "sklearnCoef": sk.coef_.ravel().tolist(),
        "accuracy": sk.score(X, y),
        "defaultAccuracy": default.score(X, y),
        "defaultIter": int(default.n_iter_[0]),
    }


out = {}

X, y = load_csv("breast_cancer.csv")
sc = StandardScaler().fit(X)
mm = MinMaxScaler().fit(X)
out["breast_cancer"] = {
    "scaler": {"mean": sc.mean_.tolist(), "scale": sc.scale_.tolist(), "var": sc.var_.tolist()},
    "minmax": {"scale": mm.scale_.tolist(), "min": mm.min_.tolist()},
    "logistic": logistic(sc.transform(X), y),
}

X, y = load_csv("iris.csv")
out["iris"] = {
    "logistic": logistic(X, y),
    "kmeans3": {"inertia": KMeans(n_clusters=3, n_init=10, random_state=0).fit(X).inertia_},
}

X, y = load_csv("wine_data.csv")
Xs = StandardScaler().fit_transform(X)
out["wine"] = {
    "logistic": logistic(Xs, y),
    "kmeans3": {"inertia": KMeans(n_clusters=3, n_init=10, random_state=0).fit(Xs).inertia_},
}

X, y = load_diabetes()
lr = LinearRegression().fit(X, y)
rg = Ridge(alpha=1.0).fit(X, y)
out["diabetes"] = {
    "linear": {"coef": lr.coef_.tolist(), "intercept": lr.intercept_, "r2": lr.score(X, y)},
    "ridge": {"coef": rg.coef_.tolist(), "intercept": rg.intercept_, "r2": rg.score(X, y)},
}



def load_digits():
    with gzip.open(os.path.join(DATA, "digits.csv.gz"), "rt") as f:
        arr = np.array([line.strip().split(",") for line in f if line.strip()], dtype=float)
    return arr[:, :64], arr[:, 64]


def hole_mask(n, d):
    """NaN holes for the imputer tests: X[i, j] is missing when (13 i + 7 j) % 11 == 0."""
    i, j = np.meshgrid(np.arange(n), np.arange(d), indexing="ij")
    return (13 * i + 7 * j) % 11 == 0


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ---- preprocessing ----
X, y = load_csv("breast_cancer.csv")
rs = RobustScaler().fit(X)
rs2 = RobustScaler(quantile_range=(10.0, 90.0)).fit(X)
out["breast_cancer"]["robust"] = {"center": rs.center_.tolist(), "scale": rs.scale_.tolist()}
out["breast_cancer"]["robust10_90"] = {"center": rs2.center_.tolist(), "scale": rs2.scale_.tolist()}

X, y = load_csv("wine_data.csv")
Xh = X.copy()
Xh[hole_mask(*X.shape)] = np.nan
out["wine"]["impute"] = {
    s: SimpleImputer(strategy=s).fit(Xh).statistics_.tolist() for s in ["mean", "median", "most_frequent"]
}

X, y = load_digits()
cols = [2, 3, 4, 5, 10]
Xc = X[:, cols]
oh = OneHotEncoder(handle_unknown="error").fit(Xc)
ohd = OneHotEncoder(drop="first").fit(Xc)
od = OrdinalEncoder().fit(Xc)
out["digits"] = {
    "columns": cols,
    "onehot": {
        "categories": [c.tolist() for c in oh.categories_],
        "columnSums": oh.transform(Xc).toarray().sum(axis=0).tolist(),
        "dropFirstWidth": int(ohd.transform(Xc).shape[1]),
    },
    "ordinal": {"codeSums": od.transform(Xc).sum(axis=0).tolist()},
    "pca": {},
}
p = PCA(svd_solver="full").fit(X)
out["digits"]["pca"] = {
    "explainedVariance": p.explained_variance_.tolist(),
    "explainedVarianceRatio": p.explained_variance_ratio_.tolist(),
    "singularValues": p.singular_values_.tolist(),
    "components5": p.components_[:5].ravel().tolist(),
    "transformSums10": p.transform(X)[:, :10].sum(axis=0).tolist(),
}

X, y = load_csv("wine_data.csv")
Xs = StandardScaler().fit_transform(X)
p = PCA(n_components=0.8, svd_solver="full").fit(Xs)
pw = PCA(n_components=3, whiten=True, svd_solver="full").fit(Xs)
out["wine"]["pca80"] = {
    "nComponents": int(p.n_components_),
    "explainedVariance": p.explained_variance_.tolist(),
    "explainedVarianceRatio": p.explained_variance_ratio_.tolist(),
    "components": p.components_.ravel().tolist(),
    "noiseVariance": float(p.noise_variance_),
}
out["wine"]["pcaWhiten3"] = {"firstRows": pw.transform(Xs)[:5].ravel().tolist()}

X, y = load_diabetes()
Xp = X[:, :3]
pf = PolynomialFeatures(degree=2).fit(Xp)
pfi = PolynomialFeatures(degree=3, interaction_only=True, include_bias=False).fit(Xp)
out["diabetes"]["poly2"] = {"names": pf.get_feature_names_out(["age", "sex", "bmi"]).tolist(), "columnSums": pf.transform(Xp).sum(axis=0).tolist()}
out["diabetes"]["poly3interaction"] = {"names": pfi.get_feature_names_out().tolist(), "columnSums": pfi.transform(Xp).sum(axis=0).tolist()}

# ---- metrics, on predictions made from the data by fixed rules ----
# diabetes: y_pred = 10 * bmi - 110 (column 2 of the raw data)
yp = 10 * X[:, 2] - 110
out["metrics"] = {
    "diabetes": {
        "r2": metrics.r2_score(y, yp),
        "mse": metrics.mean_squared_error(y, yp),
        "mae": metrics.mean_absolute_error(y, yp),
    }
}
# breast_cancer: score s = (x0 - 14) / 3.5 (mean radius); p = sigmoid(-s); label = p > 0.5
X, y = load_csv("breast_cancer.csv")
s = (X[:, 0] - 14) / 3.5
pb = sigmoid(-s)
out["metrics"]["breast_cancer"] = {
    "rocAuc": metrics.roc_auc_score(y, -X[:, 0]),
    "logLoss": metrics.log_loss(y, pb),
    "accuracy": metrics.accuracy_score(y, (pb > 0.5).astype(float)),
    "confusion": metrics.confusion_matrix(y, (pb > 0.5).astype(float)).tolist(),
}
# iris: petal length (column 2) cut at 2.5 and 4.95 as the predicted class; proba softmax(-|x2 - c_k|) with c = 1.5, 4.3, 5.5
X, y = load_csv("iris.csv")
ypi = np.digitize(X[:, 2], [2.5, 4.95]).astype(float)
Z = -np.abs(X[:, 2:3] - np.array([[1.5, 4.3, 5.5]]))
P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
out["metrics"]["iris"] = {
    "accuracy": metrics.accuracy_score(y, ypi),
    "confusion": metrics.confusion_matrix(y, ypi).tolist(),
    "logLoss": metrics.log_loss(y, P),
}

with open(os.path.join(HERE, "references.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
