#!/usr/bin/python3
"""Export a small 1-D convolutional sequence classifier with random weights to ONNX.

Network (torch; weights He-normal for ReLU, biases uniform in [-0.1, 0.1],
drawn after torch.manual_seed(SEED), see common.init_weights),
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

import sys

sys.dont_write_bytecode = True  # importing common leaves no __pycache__ in the source tree
from common import write_random_model  # noqa: E402  (scripts/models/common.py)

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


def main(argv=None) -> int:
    return write_random_model("seq1d", make_model, (BATCH, 4, 64), SEED, OPSET, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
