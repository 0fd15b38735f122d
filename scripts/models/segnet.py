#!/usr/bin/python3
"""Export a small U-Net-like segmentation net with random weights to ONNX.

Network (torch; weights He-normal for ReLU, biases uniform in [-0.1, 0.1],
drawn after torch.manual_seed(SEED), see common.init_weights),
input "input": float32 [N, 3, 32, 32], output "output": float32 [N, K, 32, 32]
with K = 5 class probabilities (softmax over the class axis, axis 1):

    enc1 = ReLU(Conv2d(3, 8, 3, padding=1)(x))                    [N, 8, 32, 32]
    enc2 = ReLU(Conv2d(8, 16, 3, padding=1)(MaxPool2d(2)(enc1)))  [N, 16, 16, 16]
    b    = MaxPool2d(2)(enc2)                                     [N, 16, 8, 8]
    up2  = ConvTranspose2d(16, 16, 2, stride=2)(b)                [N, 16, 16, 16]
    dec2 = ReLU(Conv2d(32, 16, 3, padding=1)(cat(up2, enc2)))     [N, 16, 16, 16]
    up1  = ConvTranspose2d(16, 8, 3, stride=2, padding=1,
                           output_padding=1)(dec2)                [N, 8, 32, 32]
    y    = Softmax(dim=1)(Conv2d(16, K, 1)(cat(up1, enc1)))       [N, K, 32, 32]

The second transposed convolution uses padding and output_padding on purpose,
so that an importer must honour ConvTranspose's pads and output_padding.

Writes, into --out (a directory, default tests/data/models):
    segnet.onnx         torch.onnx.export, opset 13, batch axis "N"
    segnet_input.npy    float32 [2, 3, 32, 32], standard normal (numpy default_rng(SEED))
    segnet_output.npy   float32 [2, 5, 32, 32], torch's output in eval mode

Usage: scripts/models/segnet.py --out tests/data/models
"""

import sys

sys.dont_write_bytecode = True  # importing common leaves no __pycache__ in the source tree
from common import write_random_model  # noqa: E402  (scripts/models/common.py)

SEED = 3232
CLASSES = 5
BATCH = 2
OPSET = 13


def make_model():
    import torch
    import torch.nn as nn

    class SegNet(nn.Module):
        def __init__(self, classes):
            super().__init__()
            self.enc1 = nn.Conv2d(3, 8, 3, padding=1)
            self.enc2 = nn.Conv2d(8, 16, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.up2 = nn.ConvTranspose2d(16, 16, 2, stride=2)
            self.dec2 = nn.Conv2d(32, 16, 3, padding=1)
            self.up1 = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
            self.head = nn.Conv2d(16, classes, 1)

        def forward(self, x):
            e1 = torch.relu(self.enc1(x))
            e2 = torch.relu(self.enc2(self.pool(e1)))
            b = self.pool(e2)
            d2 = torch.relu(self.dec2(torch.cat([self.up2(b), e2], dim=1)))
            d1 = torch.cat([self.up1(d2), e1], dim=1)
            return torch.softmax(self.head(d1), dim=1)

    return SegNet(CLASSES)


def main(argv=None) -> int:
    return write_random_model("segnet", make_model, (BATCH, 3, 32, 32), SEED, OPSET, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
