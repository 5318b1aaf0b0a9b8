#!/usr/bin/env python3
"""Compares es-infer's output with xgboost's predictions (es-infer's tests).

    infer-compare.py OUT.ndjson EXPECTED.txt FIELD [MAX_ULP]

OUT: es-infer's records; FIELD: the output holding the prediction (a
number, or an object of one probability per class, keyed 0, 1, ...).
EXPECTED: infer-train.py's expected.txt (a line "null": FIELD must be
null, as while a --sequence window fills). Prints "N rows, V values, max
difference D ulp" (D: in units of the last place of a float32) and exits 1
when the rows differ in number or a value differs by more than MAX_ULP
(default 1) units.
"""
import json
import sys

import numpy as np


def ordinal(x):
    """A float32's bits as an integer that orders like the numbers."""
    i = int(np.float32(x).view(np.int32))
    return i if i >= 0 else -(i & 0x7FFFFFFF)


def main():
    out = [json.loads(line) for line in open(sys.argv[1])]
    exp = [None if line.strip() == "null" else [float(v) for v in line.split()]
           for line in open(sys.argv[2])]
    field = sys.argv[3]
    max_ulp = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    worst, nvals = 0, 0
    for rec, want in zip(out, exp):
        got = rec[field]
        if want is None or got is None:
            if want is not None or got is not None:
                sys.exit("row %s: expected %s" % (rec, want))
            nvals += 1
            continue
        if isinstance(got, dict):
            got = [got[str(k)] for k in range(len(got))]
        else:
            got = [got]
        if len(got) != len(want):
            sys.exit("row %s: %d values, expected %d" % (rec, len(got), len(want)))
        for g, w in zip(got, want):
            worst = max(worst, abs(ordinal(g) - ordinal(w)))
            nvals += 1
    print("%d rows, %d values, max difference %d ulp" % (len(out), nvals, worst))
    sys.exit(0 if len(out) == len(exp) and worst <= max_ulp else 1)


main()
