#!/usr/bin/env python3
"""Writes a small TensorFlow Lite MLP for es-infer's tests, and its answers.

    infer-tflite.py DIR

DIR/model.tflite: a float32 3-8-3 perceptron (fully connected with ReLU,
fully connected, softmax), seeded weights, written with python3-flatbuffers
by the slots of TFLite's schema.fbs (no TensorFlow needed). DIR/rows.ndjson:
50 rows of temp, rh, co2; DIR/expected.txt: numpy's float32 forward pass,
the 3 probabilities of each row.
"""
import json
import sys

import flatbuffers
import numpy as np

FULLY_CONNECTED, SOFTMAX = 9, 25          # BuiltinOperator
OPT_FULLY_CONNECTED, OPT_SOFTMAX = 8, 9   # BuiltinOptions
RELU = 1                                  # ActivationFunctionType
FLOAT32 = 0                               # TensorType


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


def model(w1, b1, w2, b2):
    """The flatbuffer, table by table; the slot numbers are the fields'
    order in schema.fbs (Model: version 0, operator_codes 1, subgraphs 2,
    description 3, buffers 4; SubGraph: tensors, inputs, outputs,
    operators, name; Tensor: shape, type, buffer, name; Operator:
    opcode_index, inputs, outputs, builtin_options_type, builtin_options;
    OperatorCode: deprecated_builtin_code 0, version 2, builtin_code 3)."""
    b = flatbuffers.Builder(4096)
    # Buffer 0 is empty by convention; tensor i has buffer i + 1 (data only
    # for the weights and biases).
    bufs = []
    for d in (None, None, w1, b1, None, w2, b2, None, None):
        v = b.CreateByteVector(d.astype("<f4").tobytes()) if d is not None else None
        b.StartObject(1)
        if v is not None:
            b.PrependUOffsetTRelativeSlot(0, v, 0)
        bufs.append(b.EndObject())
    shapes = [[1, 3], [8, 3], [8], [1, 8], [3, 8], [3], [1, 3], [1, 3]]
    tensors = []
    for i, shape in enumerate(shapes):
        name = b.CreateString("t%d" % i)
        sh = vector(b, shape, b.PrependInt32)
        b.StartObject(4)
        b.PrependUOffsetTRelativeSlot(0, sh, 0)
        b.PrependInt8Slot(1, FLOAT32, -1)
        b.PrependUint32Slot(2, i + 1, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        tensors.append(b.EndObject())
    ops = []
    for opcode, ins, outs, otype, act in ((0, [0, 1, 2], [3], OPT_FULLY_CONNECTED, RELU),
                                          (0, [3, 4, 5], [6], OPT_FULLY_CONNECTED, 0),
                                          (1, [6], [7], OPT_SOFTMAX, None)):
        if otype == OPT_SOFTMAX:
            b.StartObject(1)
            b.PrependFloat32Slot(0, 1.0, 0.0)
        else:
            b.StartObject(1)
            b.PrependInt8Slot(0, act, -1)
        opts = b.EndObject()
        vi = vector(b, ins, b.PrependInt32)
        vo = vector(b, outs, b.PrependInt32)
        b.StartObject(5)
        b.PrependUint32Slot(0, opcode, 0xFFFFFFFF)
        b.PrependUOffsetTRelativeSlot(1, vi, 0)
        b.PrependUOffsetTRelativeSlot(2, vo, 0)
        b.PrependUint8Slot(3, otype, 0)
        b.PrependUOffsetTRelativeSlot(4, opts, 0)
        ops.append(b.EndObject())
    codes = []
    for code in (FULLY_CONNECTED, SOFTMAX):
        b.StartObject(4)
        b.PrependInt8Slot(0, code, -1)      # the slot Arm NN 20.08 reads
        b.PrependInt32Slot(2, 1, 0)
        b.PrependInt32Slot(3, code, -1)     # builtin_code since TF 2.4
        codes.append(b.EndObject())
    vt, vops = offsets(b, tensors), offsets(b, ops)
    vin, vout = vector(b, [0], b.PrependInt32), vector(b, [7], b.PrependInt32)
    name = b.CreateString("main")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, vt, 0)
    b.PrependUOffsetTRelativeSlot(1, vin, 0)
    b.PrependUOffsetTRelativeSlot(2, vout, 0)
    b.PrependUOffsetTRelativeSlot(3, vops, 0)
    b.PrependUOffsetTRelativeSlot(4, name, 0)
    sub = b.EndObject()
    vcodes, vsubs, vbufs = offsets(b, codes), offsets(b, [sub]), offsets(b, bufs)
    desc = b.CreateString("edgestream tests/infer-tflite.py")
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, vcodes, 0)
    b.PrependUOffsetTRelativeSlot(2, vsubs, 0)
    b.PrependUOffsetTRelativeSlot(3, desc, 0)
    b.PrependUOffsetTRelativeSlot(4, vbufs, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(3)
    w1 = rng.normal(0, 0.5, (8, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 8).astype(np.float32)
    w2 = rng.normal(0, 0.5, (3, 8)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 3).astype(np.float32)
    open(out + "/model.tflite", "wb").write(model(w1, b1, w2, b2))
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


main()
