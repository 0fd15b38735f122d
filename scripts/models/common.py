"""What the reference-model scripts share: the ONNX export every torch model here gets, and
the whole generate-and-save step of the models with random weights (segnet.py, seq1d.py).

Imported by the scripts next to it (their directory is on sys.path when they run); not a
script itself.
"""

import argparse
import os

import numpy as np


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


def export_onnx(model, example, path, opset):
    """torch.onnx.export of `model`, traced on the torch tensor `example`, to `path`: one
    input "input", one output "output", the batch axis symbolic ("N"), constants folded;
    then checked with onnx.checker."""
    import onnx
    import torch

    torch.onnx.export(
        model,
        example,
        path,
        opset_version=opset,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
        do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(path))


def write_random_model(name, make_model, input_shape, seed, opset, doc, argv=None) -> int:
    """The main() of a random-weight model script. Parses --out (a directory, default
    tests/data/models; `doc` is the help text); after torch.manual_seed(seed), on one thread,
    builds make_model() with init_weights, in eval mode; runs it on standard-normal float32
    input of input_shape from numpy's default_rng(seed); writes NAME.onnx (export_onnx),
    NAME_input.npy and NAME_output.npy (torch's output) into the directory."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="tests/data/models", help="directory to write into (created if missing)")
    args = ap.parse_args(argv)

    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    model = init_weights(make_model()).eval()
    x = np.random.default_rng(seed).standard_normal(input_shape, dtype=np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy().astype(np.float32)

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{name}.onnx")
    export_onnx(model, torch.from_numpy(x), path, opset)
    np.save(os.path.join(args.out, f"{name}_input.npy"), x)
    np.save(os.path.join(args.out, f"{name}_output.npy"), y)
    print(f"wrote {path}, {name}_input.npy {list(x.shape)}, {name}_output.npy {list(y.shape)}")
    return 0
