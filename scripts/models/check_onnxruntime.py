#!/usr/bin/python3
"""Run an ONNX model on an input .npy with onnxruntime, as an independent second opinion.

Feeds the .npy to the model's first graph input, prints the output's shape,
range and a few values, and with --out writes the first output as a float32
.npy. With --expected it also compares against that .npy
(|y - e| <= atol + rtol * |e| for every element) and exits 1 on a mismatch.

onnxruntime is optional: when it is not installed the script prints
"skipped: onnxruntime not installed" and exits 0, so nothing depends on it.
Usage:
    scripts/models/check_onnxruntime.py tests/data/models/segnet.onnx \\
        tests/data/models/segnet_input.npy --out /tmp/segnet_ort.npy \\
        --expected tests/data/models/segnet_output.npy
"""

import argparse
import sys

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="the .onnx model")
    ap.add_argument("input", help="a .npy fed to the model's first input (cast to float32)")
    ap.add_argument("--out", help="write the model's first output here as a float32 .npy")
    ap.add_argument("--expected", help="a .npy to compare the output with")
    ap.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance for --expected (default 1e-5)")
    ap.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance for --expected (default 1e-4)")
    args = ap.parse_args(argv)

    try:
        import onnxruntime as ort
    except ImportError:
        print("skipped: onnxruntime not installed")
        return 0

    x = np.load(args.input).astype(np.float32)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    out = sess.get_outputs()[0]
    y = sess.run([out.name], {inp.name: x})[0].astype(np.float32)

    print(f"onnxruntime {ort.__version__}: {args.model}")
    print(f"  {inp.name} {list(x.shape)} -> {out.name} {list(y.shape)}")
    print(f"  output min {y.min():.6g} max {y.max():.6g} mean {y.mean():.6g}")
    print(f"  first values {np.array2string(y.reshape(-1)[:6], precision=6)}")
    if args.out:
        np.save(args.out, y)
        print(f"  wrote {args.out}")
    if args.expected:
        e = np.load(args.expected).astype(np.float32)
        if e.shape != y.shape:
            print(f"  MISMATCH: shape {list(y.shape)}, expected {list(e.shape)}")
            return 1
        err = np.abs(y.astype(np.float64) - e)
        bad = int((err > args.atol + args.rtol * np.abs(e)).sum())
        print(
            f"  vs {args.expected}: max abs error {err.max():.3g}, "
            f"{bad} of {e.size} outside atol {args.atol:g} + rtol {args.rtol:g}"
        )
        if bad:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
