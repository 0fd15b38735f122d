#!/usr/bin/python3
"""Export a small 1-D convolutional sequence classifier with random weights to ONNX.

Network (torch; weights He-normal for ReLU, biases uniform in [-0.1, 0.1],
drawn after torch.manual_seed(SEED), see init_weights),
input "input": float32 [N, 4, 64] (4 channels, 64 steps), output "output":
float32 [N, 6], log-probabilities of 6 classes:

    Conv1d(4, 16, 5, padding=2) -> ReLU -> MaxPool1d(2)       [N, 16, 64] -> [N, 16, 32]
    Conv1d(16, 32, 3, padding=2, dilation=2) -> ReLU          [N, 32, 32]
    AdaptiveAvgPool1d(1) -> Flatten                           [N, 32, 1] -> [N, 32]
    Linear(32, 6) -> LogSoftmax(dim=1)                        [N, 6]

Writes, into --out (a directory, default tests/data/models):
    seq1d.onnx          torch.onnx.export, opset 13, batch axis "N"
    seq1d_input.npy     float32 [2, 4, 64], standard normal (numpy default_rng(SEED))
    seq1d_output.npy    float32 [2, 6], torch's output in eval mode

Usage: scripts/models/seq1d.py --out tests/data/models
"""

import argparse
import os
import sys

import numpy as np

SEED = 6464
CLASSES = 6
BATCH = 2
OPSET = 13


def make_model():
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv1d(4, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Conv1d(16, 32, 3, padding=2, dilation=2),
        nn.ReLU(),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(32, CLASSES),
        nn.LogSoftmax(dim=1),
    )


def init_weights(model):
    """He-normal weights and small nonzero biases: PyTorch's default initialisation
    shrinks the activations layer by layer, which would leave nearly constant
    outputs, too flat to show an importer's mistake."""
    import torch.nn as nn

    for mod in model.modules():
        if isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            nn.init.uniform_(mod.bias, -0.1, 0.1)
    return model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="tests/data/models", help="directory to write into (created if missing)")
    args = ap.parse_args(argv)

    import onnx
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    model = init_weights(make_model()).eval()
    x = np.random.default_rng(SEED).standard_normal((BATCH, 4, 64), dtype=np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy().astype(np.float32)

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "seq1d.onnx")
    torch.onnx.export(
        model,
        torch.from_numpy(x),
        path,
        opset_version=OPSET,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
        do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(path))
    np.save(os.path.join(args.out, "seq1d_input.npy"), x)
    np.save(os.path.join(args.out, "seq1d_output.npy"), y)
    print(f"wrote {path}, seq1d_input.npy {list(x.shape)}, seq1d_output.npy {list(y.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
