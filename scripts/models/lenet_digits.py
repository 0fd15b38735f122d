#!/usr/bin/python3
"""Train a LeNet-5-style CNN on scikit-learn's bundled digits and export it to ONNX.

Data: sklearn.datasets.load_digits (1797 8x8 grey images, values 0..16, bundled
with scikit-learn, nothing is downloaded). Split: train_test_split with
test_size=0.3, stratify=labels, random_state=SPLIT_SEED (0): 1257 training and
540 test images. Preprocessing, done in numpy before the model (the ONNX model
takes the preprocessed image): divide by 16 into [0, 1], then nearest-neighbour
upsample by 2 (every pixel repeated 2x2) to 16x16. Input "input":
float32 [N, 1, 16, 16].

Network (torch), output "output": float32 [N, 10] logits (no softmax):
    Conv2d(1, 6, 5, padding=2) -> ReLU -> MaxPool2d(2)      16x16 -> 16x16 -> 8x8
    Conv2d(6, 16, 5)           -> ReLU -> MaxPool2d(2)      8x8 -> 4x4 -> 2x2
    Flatten (64) -> Linear(64, 120) -> ReLU -> Linear(120, 84) -> ReLU -> Linear(84, 10)

Training: Adam (lr 2e-3), cross-entropy, batch 64, 30 epochs of the training
set (19 full batches each, the partial one dropped: 570 steps), shuffled by a
seeded torch.Generator; torch.manual_seed(SEED), one thread, deterministic
algorithms, so a rerun on the same machine gives the same bytes (another CPU
may round differently: the committed files are the reference, not a rerun).

Writes, into --out (a directory, default tests/data/models):
    lenet_digits.onnx               torch.onnx.export, opset 13, batch axis "N"
    lenet_digits_test_x.npy         float32 [540, 1, 16, 16], the preprocessed test images
    lenet_digits_test_labels.npy    int64 [540], the true digits
    lenet_digits_test_logits.npy    float32 [540, 10], torch's outputs in eval mode
    lenet_digits.json               accuracy, sample count, seeds, preprocessing, command

Usage: scripts/models/lenet_digits.py --out tests/data/models
"""

import argparse
import json
import os
import shlex
import sys

import numpy as np

sys.dont_write_bytecode = True  # importing common leaves no __pycache__ in the source tree
from common import export_onnx  # noqa: E402  (scripts/models/common.py)

SEED = 1998
SPLIT_SEED = 0
EPOCHS = 30
BATCH = 64
LR = 2e-3
UPSAMPLE = 2
OPSET = 13


def load_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images.astype(np.float32) / np.float32(16.0)  # [1797, 8, 8] in [0, 1]
    images = images.repeat(UPSAMPLE, axis=1).repeat(UPSAMPLE, axis=2)  # nearest x2: [1797, 16, 16]
    x = images[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, stratify=y, random_state=SPLIT_SEED)
    return (np.ascontiguousarray(x_tr), y_tr, np.ascontiguousarray(x_te), y_te)


def make_model():
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 2 * 2, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="tests/data/models", help="directory to write into (created if missing)")
    args = ap.parse_args(argv)

    import torch
    import torch.nn.functional as F

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    x_tr, y_tr, x_te, y_te = load_split()
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(SEED)
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    steps = 0
    model.train()
    for _ in range(EPOCHS):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt) - BATCH + 1, BATCH):  # drop the last partial batch
            idx = perm[i : i + BATCH]
            opt.zero_grad()
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            steps += 1

    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x_te)).numpy().astype(np.float32)
        train_acc = float((model(xt).argmax(1).numpy() == y_tr).mean())
    acc = float((logits.argmax(1) == y_te).mean())

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "lenet_digits.onnx")
    export_onnx(model, torch.from_numpy(x_te[:1]), onnx_path, OPSET)

    np.save(os.path.join(args.out, "lenet_digits_test_x.npy"), x_te)
    np.save(os.path.join(args.out, "lenet_digits_test_labels.npy"), y_te)
    np.save(os.path.join(args.out, "lenet_digits_test_logits.npy"), logits)

    import sklearn

    info = {
        "model": "lenet_digits.onnx",
        "input": {"name": "input", "shape": ["N", 1, 16, 16], "dtype": "float32"},
        "output": {"name": "output", "shape": ["N", 10], "dtype": "float32", "meaning": "logits"},
        "preprocessing": "load_digits images / 16 (range [0, 1]), nearest-neighbour upsampled x2 to 16x16",
        "dataset": "sklearn.datasets.load_digits (1797 images)",
        "split": {"test_size": 0.3, "stratify": True, "random_state": SPLIT_SEED},
        "test_samples": int(len(y_te)),
        "train_samples": int(len(y_tr)),
        "test_accuracy": acc,
        "train_accuracy": train_acc,
        "labels_dtype": "int64",
        "seed": SEED,
        "training": {"optimizer": "Adam", "lr": LR, "batch": BATCH, "epochs": EPOCHS, "steps": steps},
        "opset": OPSET,
        "versions": {"torch": torch.__version__, "sklearn": sklearn.__version__, "numpy": np.__version__},
        "command": " ".join(
            ["scripts/models/lenet_digits.py"] + [shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])]
        ),
    }
    with open(os.path.join(args.out, "lenet_digits.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(f"test accuracy {acc:.4f} on {len(y_te)} samples (train {train_acc:.4f}, {steps} steps); wrote {args.out}")
    return 0 if acc > 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
