#!/usr/bin/env python3
"""Writes small TensorFlow Lite models for es-infer's tests, and answers.

    infer-tflite.py DIR            an MLP over one feature vector
    infer-tflite.py --sequence DIR a model over a window of readings

DIR/model.tflite: a float32 3-8-3 perceptron (fully connected with ReLU,
fully connected, softmax), seeded weights, written with python3-flatbuffers
by the slots of TFLite's schema.fbs (no TensorFlow needed). DIR/rows.ndjson:
50 rows of temp, rh, co2; DIR/expected.txt: numpy's float32 forward pass,
the 3 probabilities of each row.

With --sequence: DIR/window.tflite takes a [1, 4, 2] window (4 readings of
temp and rh, oldest first), reshapes it to [1, 8] and scores it with an
8-6-1 perceptron (ReLU); DIR/flat.tflite is the same network over a
[1, 8] input; DIR/next.tflite has other weights (a reload);
DIR/conv1d.tflite starts as TF 2.3+ converts a Keras Conv1D (EXPAND_DIMS). DIR/rows.ndjson:
40 readings of two devices, a and b, interleaved unevenly;
DIR/expected.txt: per row, numpy's score of its device's last 4 readings,
or null while the device has fewer; DIR/expected-next.txt the same with
next.tflite's weights.
"""
import json
import sys

import flatbuffers
import numpy as np

FULLY_CONNECTED, RESHAPE, SOFTMAX, EXPAND_DIMS = 9, 22, 25, 70  # BuiltinOperator
OPT_FULLY_CONNECTED, OPT_SOFTMAX, OPT_RESHAPE = 8, 9, 17   # BuiltinOptions
OPT_EXPAND_DIMS = 40
RELU = 1                                  # ActivationFunctionType
FLOAT32, INT32 = 0, 2                     # TensorType


def vector(b, items, prepend):
    """A vector of 32-bit scalars (prepend: b.PrependInt32)."""
    b.StartVector(4, len(items), 4)
    for x in reversed(items):
        prepend(x)
    return b.EndVector()


def offsets(b, items):
    """A vector of tables made before."""
    b.StartVector(4, len(items), 4)
    for x in reversed(items):
        b.PrependUOffsetTRelative(x)
    return b.EndVector()


def options(b, otype, arg):
    """An operator's options table (arg: the activation, or the shape)."""
    if otype == OPT_SOFTMAX:
        b.StartObject(1)
        b.PrependFloat32Slot(0, 1.0, 0.0)
    elif otype == OPT_EXPAND_DIMS:
        b.StartObject(0)
    elif otype == OPT_RESHAPE:
        sh = vector(b, arg, b.PrependInt32)
        b.StartObject(1)
        b.PrependUOffsetTRelativeSlot(0, sh, 0)
    else:
        b.StartObject(1)
        b.PrependInt8Slot(0, arg, -1)
    return b.EndObject()


def flatbuffer(tensors, ops, codes, inputs, outputs):
    """The model, table by table; the slot numbers are the fields' order
    in schema.fbs (Model: version 0, operator_codes 1, subgraphs 2,
    description 3, buffers 4; SubGraph: tensors, inputs, outputs,
    operators, name; Tensor: shape, type, buffer, name; Operator:
    opcode_index, inputs, outputs, builtin_options_type, builtin_options;
    OperatorCode: deprecated_builtin_code 0, version 2, builtin_code 3).
    tensors: (shape, type, data or None); ops: (opcode index, inputs,
    outputs, options type, options argument); codes: BuiltinOperators."""
    b = flatbuffers.Builder(4096)
    # Buffer 0 is empty by convention; tensor i has buffer i + 1 (data
    # only for the constants).
    bufs = []
    for data in [None] + [t[2] for t in tensors]:
        v = b.CreateByteVector(data) if data is not None else None
        b.StartObject(1)
        if v is not None:
            b.PrependUOffsetTRelativeSlot(0, v, 0)
        bufs.append(b.EndObject())
    tabs = []
    for i, (shape, ttype, _) in enumerate(tensors):
        name = b.CreateString("t%d" % i)
        sh = vector(b, shape, b.PrependInt32)
        b.StartObject(4)
        b.PrependUOffsetTRelativeSlot(0, sh, 0)
        b.PrependInt8Slot(1, ttype, -1)
        b.PrependUint32Slot(2, i + 1, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        tabs.append(b.EndObject())
    optabs = []
    for opcode, ins, outs, otype, arg in ops:
        opts = options(b, otype, arg)
        vi = vector(b, ins, b.PrependInt32)
        vo = vector(b, outs, b.PrependInt32)
        b.StartObject(5)
        b.PrependUint32Slot(0, opcode, 0xFFFFFFFF)
        b.PrependUOffsetTRelativeSlot(1, vi, 0)
        b.PrependUOffsetTRelativeSlot(2, vo, 0)
        b.PrependUint8Slot(3, otype, 0)
        b.PrependUOffsetTRelativeSlot(4, opts, 0)
        optabs.append(b.EndObject())
    ctabs = []
    for code in codes:
        b.StartObject(4)
        b.PrependInt8Slot(0, code, -1)      # the slot Arm NN 20.08 reads
        b.PrependInt32Slot(2, 1, 0)
        b.PrependInt32Slot(3, code, -1)     # builtin_code since TF 2.4
        ctabs.append(b.EndObject())
    vt, vops = offsets(b, tabs), offsets(b, optabs)
    vin, vout = vector(b, inputs, b.PrependInt32), vector(b, outputs, b.PrependInt32)
    name = b.CreateString("main")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, vt, 0)
    b.PrependUOffsetTRelativeSlot(1, vin, 0)
    b.PrependUOffsetTRelativeSlot(2, vout, 0)
    b.PrependUOffsetTRelativeSlot(3, vops, 0)
    b.PrependUOffsetTRelativeSlot(4, name, 0)
    sub = b.EndObject()
    vcodes, vsubs, vbufs = offsets(b, ctabs), offsets(b, [sub]), offsets(b, bufs)
    desc = b.CreateString("edgestream tests/infer-tflite.py")
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, vcodes, 0)
    b.PrependUOffsetTRelativeSlot(2, vsubs, 0)
    b.PrependUOffsetTRelativeSlot(3, desc, 0)
    b.PrependUOffsetTRelativeSlot(4, vbufs, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())


def f32(a):
    return a.astype("<f4").tobytes()


def mlp(w1, b1, w2, b2):
    """The 3-8-3 classifier."""
    tensors = [([1, 3], FLOAT32, None), ([8, 3], FLOAT32, f32(w1)),
               ([8], FLOAT32, f32(b1)), ([1, 8], FLOAT32, None),
               ([3, 8], FLOAT32, f32(w2)), ([3], FLOAT32, f32(b2)),
               ([1, 3], FLOAT32, None), ([1, 3], FLOAT32, None)]
    ops = [(0, [0, 1, 2], [3], OPT_FULLY_CONNECTED, RELU),
           (0, [3, 4, 5], [6], OPT_FULLY_CONNECTED, 0),
           (1, [6], [7], OPT_SOFTMAX, None)]
    return flatbuffer(tensors, ops, [FULLY_CONNECTED, SOFTMAX], [0], [7])


def scorer(w1, b1, w2, b2, window):
    """The 8-6-1 scorer over 4 readings of 2 features: its input [1, 4, 2]
    reshaped to [1, 8] (window), or [1, 8] itself."""
    fc = [([6, 8], FLOAT32, f32(w1)), ([6], FLOAT32, f32(b1)),
          ([1, 6], FLOAT32, None), ([1, 6], FLOAT32, f32(w2)),
          ([1], FLOAT32, f32(b2)), ([1, 1], FLOAT32, None)]
    if not window:
        tensors = [([1, 8], FLOAT32, None)] + fc
        ops = [(0, [0, 1, 2], [3], OPT_FULLY_CONNECTED, RELU),
               (0, [3, 4, 5], [6], OPT_FULLY_CONNECTED, 0)]
        return flatbuffer(tensors, ops, [FULLY_CONNECTED], [0], [6])
    tensors = [([1, 4, 2], FLOAT32, None), ([1, 8], FLOAT32, None)] + fc
    ops = [(1, [0], [1], OPT_RESHAPE, [1, 8]),
           (0, [1, 2, 3], [4], OPT_FULLY_CONNECTED, RELU),
           (0, [4, 5, 6], [7], OPT_FULLY_CONNECTED, 0)]
    return flatbuffer(tensors, ops, [FULLY_CONNECTED, RESHAPE], [0], [7])


def expand_dims():
    """What TF 2.3+ makes of a Keras Conv1D's first step: EXPAND_DIMS of
    the [1, 4, 2] window to [1, 4, 1, 2] (Arm NN 20.08 lacks it)."""
    tensors = [([1, 4, 2], FLOAT32, None),
               ([1], INT32, np.array([2], "<i4").tobytes()),
               ([1, 4, 1, 2], FLOAT32, None)]
    ops = [(0, [0, 1], [2], OPT_EXPAND_DIMS, None)]
    return flatbuffer(tensors, ops, [EXPAND_DIMS], [0], [2])


def classifier(out):
    rng = np.random.default_rng(3)
    w1 = rng.normal(0, 0.5, (8, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 8).astype(np.float32)
    w2 = rng.normal(0, 0.5, (3, 8)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 3).astype(np.float32)
    open(out + "/model.tflite", "wb").write(mlp(w1, b1, w2, b2))
    x = np.column_stack([rng.normal(0, 1, 50), rng.normal(0, 1, 50),
                         rng.normal(0, 1, 50)]).astype(np.float32)
    with open(out + "/rows.ndjson", "w") as f:
        for i, r in enumerate(x):
            f.write(json.dumps({"id": i, "temp": float(r[0]), "rh": float(r[1]),
                                "co2": float(r[2])}) + "\n")
    h = np.maximum(x @ w1.T + b1, np.float32(0))
    z = h @ w2.T + b2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    with open(out + "/expected.txt", "w") as f:
        for row in p:
            f.write(" ".join(repr(float(v)) for v in row) + "\n")


def sequence(out):
    rng = np.random.default_rng(5)
    nets = []
    for _ in range(2):
        nets.append((rng.normal(0, 0.5, (6, 8)).astype(np.float32),
                     rng.normal(0, 0.1, 6).astype(np.float32),
                     rng.normal(0, 0.5, (1, 6)).astype(np.float32),
                     rng.normal(0, 0.1, 1).astype(np.float32)))
    open(out + "/window.tflite", "wb").write(scorer(*nets[0], True))
    open(out + "/flat.tflite", "wb").write(scorer(*nets[0], False))
    open(out + "/next.tflite", "wb").write(scorer(*nets[1], True))
    open(out + "/conv1d.tflite", "wb").write(expand_dims())
    # two devices, interleaved unevenly (a runs ahead of b at first)
    devs = ["a"] * 6 + list("abbaabab") * 3 + list("bbaa") + ["b"] * 6
    x = rng.normal(20, 3, (len(devs), 2)).astype(np.float32)
    seen = {"a": [], "b": []}
    exp = [[], []]
    with open(out + "/rows.ndjson", "w") as f:
        for i, (d, r) in enumerate(zip(devs, x)):
            f.write(json.dumps({"id": i, "device": d, "temp": float(r[0]),
                                "rh": float(r[1])}) + "\n")
            seen[d].append(r)
            for k, (w1, b1, w2, b2) in enumerate(nets):
                if len(seen[d]) < 4:
                    exp[k].append("null")
                    continue
                v = np.concatenate(seen[d][-4:]).astype(np.float32)
                h = np.maximum(w1 @ v + b1, np.float32(0))
                exp[k].append(repr(float((w2 @ h + b2)[0])))
    for k, name in enumerate(("expected.txt", "expected-next.txt")):
        with open(out + "/" + name, "w") as f:
            f.write("\n".join(exp[k]) + "\n")


if sys.argv[1] == "--sequence":
    sequence(sys.argv[2])
else:
    classifier(sys.argv[1])
