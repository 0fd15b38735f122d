#!/usr/bin/python3
"""Write a VGG-16 ONNX model with deterministic random weights.

The graph is torchvision's ``vgg16`` architecture (configuration "D", no batch
normalisation), laid out node for node as ``torch.onnx.export`` (torch 1.13,
opset 13, eval mode) writes that network:

    13 x [Conv 3x3, pads 1, stride 1 (+ bias) -> Relu], a MaxPool 2x2/2 after
    conv blocks 2, 4, 7, 10 and 13;
    AveragePool kernel 1x1 stride 1: torchvision's AdaptiveAvgPool2d((7, 7)),
    which torch exports this way when its input is already 7x7 (224x224 input);
    Flatten axis 1;
    Gemm 25088->4096 (transB 1) -> Relu -> Gemm 4096->4096 -> Relu
    -> Gemm 4096->1000.

The Dropout layers of the classifier are identities in eval mode and torch
exports none, so none is written. Initializer names follow torchvision's
state_dict ("features.0.weight", "classifier.6.bias", ...), Linear weights are
[out, in] as in torch.

Input "input": float32 [N, 3, 224, 224] with a symbolic batch dimension "N";
output "output": float32 [N, 1000] (logits, no softmax). Opset 13.

Weights (numpy default_rng(seed), float32): convolution weights He-normal,
std = sqrt(2 / (C_in * 3 * 3)), so the second moment of the activations stays
roughly constant through the 13 conv+ReLU layers; the two hidden Linear layers
He-normal, std = sqrt(2 / in); the last Linear std = sqrt(1 / in), so logits
are of order 1 for inputs of unit variance. Biases are small and nonzero,
uniform in [-0.05, 0.05], so that a runtime that drops a bias gets caught.

The full model is about 553 MB and is never committed. ``--small`` writes a
width-reduced variant for tests (every conv width / 8: 8..64 channels,
hidden Linear width 512, still 224x224 input and 1000 outputs, about 10.5 MB).

Needs only numpy and onnx. Usage:
    scripts/models/vgg16.py --out /tmp/vgg16.onnx
    scripts/models/vgg16.py --small --out /tmp/vgg16_small.onnx
"""

import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# torchvision cfgs["D"]: conv output widths, "M" = max pool
CFG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
OPSET = 13
DEFAULT_SEED = 20240516


def build(small: bool, seed: int) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    div = 8 if small else 1
    hidden = 512 if small else 4096
    classes = 1000

    nodes, inits = [], []

    def add_init(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))

    def he(shape, fan_in, gain=2.0):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(gain / fan_in))

    def bias(n):
        return rng.uniform(-0.05, 0.05, size=n).astype(np.float32)

    x = "input"
    cin = 3
    idx = 0  # index in torchvision's features Sequential
    for v in CFG_D:
        if v == "M":
            y = f"/features/features.{idx}/MaxPool_output_0"
            nodes.append(
                helper.make_node(
                    "MaxPool", [x], [y], name=f"/features/features.{idx}/MaxPool",
                    ceil_mode=0, kernel_shape=[2, 2], pads=[0, 0, 0, 0], strides=[2, 2],
                )
            )
            x = y
            idx += 1
            continue
        cout = v // div
        w, b = f"features.{idx}.weight", f"features.{idx}.bias"
        add_init(w, he((cout, cin, 3, 3), cin * 9))
        add_init(b, bias(cout))
        y = f"/features/features.{idx}/Conv_output_0"
        nodes.append(
            helper.make_node(
                "Conv", [x, w, b], [y], name=f"/features/features.{idx}/Conv",
                dilations=[1, 1], group=1, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1],
            )
        )
        r = f"/features/features.{idx + 1}/Relu_output_0"
        nodes.append(helper.make_node("Relu", [y], [r], name=f"/features/features.{idx + 1}/Relu"))
        x = r
        cin = cout
        idx += 2

    # AdaptiveAvgPool2d((7, 7)) on a 7x7 map: torch exports AveragePool 1x1/1.
    nodes.append(
        helper.make_node(
            "AveragePool", [x], ["/avgpool/AveragePool_output_0"], name="/avgpool/AveragePool",
            kernel_shape=[1, 1], strides=[1, 1],
        )
    )
    nodes.append(
        helper.make_node("Flatten", ["/avgpool/AveragePool_output_0"], ["/Flatten_output_0"], name="/Flatten", axis=1)
    )
    x = "/Flatten_output_0"

    # classifier: Linear(0) ReLU(1) Dropout(2) Linear(3) ReLU(4) Dropout(5) Linear(6)
    fc = [(cin * 7 * 7, hidden, 0, True), (hidden, hidden, 3, True), (hidden, classes, 6, False)]
    for fin, fout, i, relu in fc:
        w, b = f"classifier.{i}.weight", f"classifier.{i}.bias"
        add_init(w, he((fout, fin), fin, 2.0 if relu else 1.0))
        add_init(b, bias(fout))
        y = "output" if i == 6 else f"/classifier/classifier.{i}/Gemm_output_0"
        nodes.append(
            helper.make_node(
                "Gemm", [x, w, b], [y], name=f"/classifier/classifier.{i}/Gemm", alpha=1.0, beta=1.0, transB=1
            )
        )
        x = y
        if relu:
            r = f"/classifier/classifier.{i + 1}/Relu_output_0"
            nodes.append(helper.make_node("Relu", [x], [r], name=f"/classifier/classifier.{i + 1}/Relu"))
            x = r

    graph = helper.make_graph(
        nodes,
        "vgg16_small" if small else "vgg16",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", classes])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="svertka-scripts")
    model.ir_version = 7  # what torch 1.13 writes with opset 13
    variant = "width / 8, hidden 512" if small else "torchvision vgg16"
    model.doc_string = f"VGG-16 ({variant}), random weights, seed {seed}"
    return model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="path of the .onnx file to write")
    ap.add_argument("--small", action="store_true", help="width-reduced variant (channels / 8, hidden FC 512)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"weight seed (default {DEFAULT_SEED})")
    args = ap.parse_args(argv)

    model = build(args.small, args.seed)
    onnx.checker.check_model(model)
    onnx.save(model, args.out)
    params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    print(f"wrote {args.out}: {len(model.graph.node)} nodes, {params} parameters, seed {args.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
