#!/usr/bin/python3
"""Exports, with torch.onnx.export, a small CNN whose graph carries the shape-computation
subgraphs PyTorch emits: reflection and replication padding (pads built from Shape, Gather,
ConstantOfShape, Concat, Reshape, Slice, Transpose and Cast on int64 tensors), adaptive
average pooling, and a flatten written as x.view(x.size(0), -1) (Shape, Gather, Unsqueeze,
Concat, Reshape). Writes padnet.onnx, padnet_input.npy and PyTorch's padnet_output.npy.

usage: scripts/models/padnet.py --out tests/data/models
"""
import argparse
import os

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


class PadNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.conv2 = nn.Conv2d(8, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = F.relu(self.conv1(F.pad(x, (1, 2, 2, 1), mode="reflect")))
        x = F.relu(self.bn(self.conv2(F.pad(x, (1, 1, 1, 1), mode="replicate"))))
        x = self.pool(x)
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc(x), dim=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(7)
    model = PadNet().eval()
    with torch.no_grad():  # statistics that make the BatchNorm do something
        model.bn.running_mean.uniform_(-0.5, 0.5)
        model.bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 3, 12, 12)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x, os.path.join(out, "padnet.onnx"), opset_version=13,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    np.save(os.path.join(out, "padnet_input.npy"), x.numpy())
    np.save(os.path.join(out, "padnet_output.npy"), y.numpy())


if __name__ == "__main__":
    main()
