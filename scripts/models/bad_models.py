#!/usr/bin/python3
"""Writes small malformed or unsupported ONNX models and arrays that the loader must refuse with
a clear error (never a crash): each a minimal graph with exactly one defect. Also arrays that
are valid but hold NaN and infinities, which a model must run on (they propagate).

usage: scripts/models/bad_models.py --out tests/data/bad
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_graph(nodes, initializers, inputs=None, outputs=None, name="bad"):
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])]
    outputs = outputs or [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model


def weight(name="w", shape=(1, 1, 3, 3)):
    return numpy_helper.from_array(np.ones(shape, np.float32), name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    conv = lambda inputs, output="y": helper.make_node("Conv", inputs, [output], pads=[1, 1, 1, 1])
    models = {
        # a Conv reading a weight no initializer provides
        "missing_initializer": conv_graph([conv(["x", "w"])], []),
        # an op the library does not know
        "unknown_op": conv_graph([helper.make_node("FooBar", ["x"], ["y"])], []),
        # two nodes feeding each other
        "cyclic": conv_graph([helper.make_node("Relu", ["b"], ["a"]),
                              helper.make_node("Relu", ["a"], ["b"]),
                              helper.make_node("Relu", ["b"], ["y"])], []),
        # an int64 graph input
        "int64_input": conv_graph(
            [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)], [],
            inputs=[helper.make_tensor_value_info("x", TensorProto.INT64, ["N", 4])]),
        # an input dimension of 2^40
        "huge_dims": conv_graph(
            [helper.make_node("Relu", ["x"], ["y"])], [],
            inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1 << 40])]),
        # a supported op with an attribute it does not understand
        "unknown_attribute": conv_graph(
            [helper.make_node("Relu", ["x"], ["y"], flavour="spicy")], []),
        # a Conv whose weight does not fit the input's channels
        "channel_mismatch": conv_graph([conv(["x", "w"])], [weight(shape=(1, 2, 3, 3))]),
    }
    relu = helper.make_node("Relu", ["x"], ["y"])
    # an input dimension below zero
    models["negative_dims"] = conv_graph(
        [relu], [], inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, -3])])
    # input dimensions each in range whose product, about 2^93, overflows int64
    models["dims_product_overflow"] = conv_graph(
        [relu], [], inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1] + [2**31 - 1] * 3)])
    # the graph's output names a tensor that nothing produces
    models["dangling_output"] = conv_graph(
        [relu], [], outputs=[helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    # a node reads a tensor that nothing produces (not a weight: an activation's name)
    models["dangling_input"] = conv_graph(
        [relu, helper.make_node("Add", ["y", "ghost"], ["sum"])], [],
        outputs=[helper.make_tensor_value_info("sum", TensorProto.FLOAT, None)])
    # the rest change what onnx.helper checks, so they are edited after it made them
    # an initializer whose data is shorter than its shape
    short = helper.make_tensor("w", TensorProto.FLOAT, [9], [1.0] * 9)
    short.dims[:] = [1, 1, 3, 3, 2]  # now the shape asks for 18 values; 9 are stored
    models["short_initializer"] = conv_graph([conv(["x", "w"])], [short])
    # an initializer with a negative dimension
    negative = weight()
    negative.dims[:] = [1, 1, -3, 3]
    models["negative_initializer_dims"] = conv_graph([conv(["x", "w"])], [negative])
    # an initializer of 2^31 x 2^31 x 2^31 elements, more than int64 counts (and no data)
    overflow = helper.make_tensor("w", TensorProto.FLOAT, [0], [])
    overflow.dims[:] = [1 << 31, 1 << 31, 1 << 31]
    models["initializer_dims_overflow"] = conv_graph([conv(["x", "w"])], [overflow])
    for name, model in models.items():
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(model.SerializeToString())
    np.save(os.path.join(out, "int32.npy"), np.zeros((1, 1, 4, 4), np.int32))
    np.save(os.path.join(out, "nan_input.npy"),
            np.full((1, 1, 16, 16), np.nan, np.float32))
    # +inf and -inf in a checkerboard (LeNet-shaped): inf - inf makes NaN downstream
    checker = np.indices((16, 16)).sum(axis=0) % 2 == 0
    np.save(os.path.join(out, "inf_input.npy"),
            np.where(checker, np.inf, -np.inf).astype(np.float32).reshape(1, 1, 16, 16))
    # a .npy whose magic string is wrong in its last letter ("NUMPZ")
    with open(os.path.join(out, "nan_input.npy"), "rb") as f:
        data = bytearray(f.read())
    data[5] = ord("Z")
    with open(os.path.join(out, "bad_magic.npy"), "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
