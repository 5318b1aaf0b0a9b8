#!/usr/bin/env python3
"""Trains a tiny XGBoost model for es-infer's tests, and predicts with it.

    infer-train.py KIND DIR [--rounds N] [--depth D] [--rows R] [--seed S]

KIND: reg (reg:squarederror), binary (binary:logistic), logistic
(reg:logistic), logitraw (binary:logitraw), softprob (multi:softprob,
3 classes), softmax (multi:softmax, 3 classes). Writes, in DIR:

    model.json     bst.save_model(), features named temp, rh, co2
    rows.ndjson    R (200) other rows; about one value in ten missing, half
                   of those as an absent field, half as null
    expected.txt   xgboost's own predict() of the rows, one row a line,
                   float32 values as repr() gives them (a class model:
                   its probabilities, space-separated)

Everything is seeded and single-threaded: the same model and the same
predictions on every run. Python3-xgboost (Debian) is the oracle.
"""
import json
import sys

import numpy as np
import xgboost as xgb

OBJ = {
    "reg": ("reg:squarederror", 0),
    "binary": ("binary:logistic", 2),
    "logistic": ("reg:logistic", 0),
    "logitraw": ("binary:logitraw", 2),
    "softprob": ("multi:softprob", 3),
    "softmax": ("multi:softmax", 3),
}
NAMES = ["temp", "rh", "co2"]


def data(rng, n):
    """Sensor-like features with about 10% missing (NaN)."""
    x = np.column_stack([rng.normal(22, 4, n), rng.uniform(20, 90, n),
                         rng.normal(600, 150, n)])
    x[rng.random(x.shape) < 0.1] = np.nan
    return x


def labels(x, kind, rng):
    t, rh, co2 = (np.nan_to_num(x[:, i], nan=m) for i, m in
                  enumerate((22, 55, 600)))
    score = (t - 22) / 4 + (co2 - 600) / 150 - (rh - 55) / 35
    if kind == "reg":
        return score + rng.normal(0, 0.1, len(t))
    if kind == "logistic":
        return 1 / (1 + np.exp(-score))
    if OBJ[kind][1] == 2:
        return (score + rng.normal(0, 0.5, len(t)) > 0.5).astype(float)
    return np.digitize(score, [-0.7, 0.7]).astype(float)


def arg(name, default):
    """The integer after --name, or default."""
    a = sys.argv
    return int(a[a.index(name) + 1]) if name in a else default


def main():
    kind, out = sys.argv[1], sys.argv[2]
    rounds, depth = arg("--rounds", 20), arg("--depth", 4)
    nrows, seed = arg("--rows", 200), arg("--seed", 7)
    obj, ncls = OBJ[kind]
    rng = np.random.default_rng(seed)
    x = data(rng, max(400, 2 ** depth * 20))
    y = labels(x, kind, rng)
    params = {"objective": obj, "max_depth": depth, "eta": 0.3, "nthread": 1,
              "seed": seed, "tree_method": "exact"}
    if ncls > 2:
        params["num_class"] = ncls
    dtrain = xgb.DMatrix(x, label=y, feature_names=NAMES)
    bst = xgb.train(params, dtrain, num_boost_round=rounds)
    bst.save_model(out + "/model.json")
    rows = data(rng, nrows)
    with open(out + "/rows.ndjson", "w") as f:
        for i, r in enumerate(rows):
            rec = {"id": i}
            for name, v in zip(NAMES, r):
                if not np.isnan(v):
                    rec[name] = float(v)
                elif i % 2:
                    rec[name] = None
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    # The rows as es-infer reads them: the JSON text's doubles, as float32.
    back = np.array([[np.nan if json.loads(line).get(n) is None
                      else json.loads(line)[n] for n in NAMES]
                     for line in open(out + "/rows.ndjson")])
    dtest = xgb.DMatrix(back, feature_names=NAMES)
    if kind == "softmax":   # the probabilities, not the class index
        bst.set_param({"objective": "multi:softprob"})
    pred = bst.predict(dtest)
    with open(out + "/expected.txt", "w") as f:
        for p in pred:
            p = np.atleast_1d(p)
            f.write(" ".join(repr(float(v)) for v in p) + "\n")


main()
