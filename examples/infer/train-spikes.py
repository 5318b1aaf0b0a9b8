#!/usr/bin/env python3
"""Trains examples/infer's spike model on a gen-sensors stream.

    train-spikes.py SENSORS.ndjson MODEL.json

SENSORS: gen-sensors output (../shared/bench/gen-sensors), any seed. Its
temp readings are the training rows: the feature is the reading (value),
the label whether it is a planted spike (gen-sensors adds 8 to every
997th reading of a device that is a temp reading: seq % 997 == 0). The
model is binary:logistic, 20 trees of depth 3, seeded and single-threaded.
A model sees one record: what it needs from the past (a device's last
reading) an earlier stage would have to put in the record.
"""
import json
import sys

import numpy as np
import xgboost as xgb


def rows(path):
    """The value and the label of each temp reading."""
    x, y = [], []
    for line in open(path):
        r = json.loads(line)
        if r["sensor"] == "temp":
            x.append([r["value"]])
            y.append(1.0 if r["seq"] % 997 == 0 else 0.0)
    return np.array(x), np.array(y)


def main():
    x, y = rows(sys.argv[1])
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3,
              "nthread": 1, "seed": 1, "tree_method": "exact"}
    d = xgb.DMatrix(x, label=y, feature_names=["value"])
    xgb.train(params, d, num_boost_round=20).save_model(sys.argv[2])
    print("trained on %d temp readings, %d spikes" % (len(y), int(y.sum())),
          file=sys.stderr)


main()
