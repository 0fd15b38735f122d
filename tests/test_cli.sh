#!/usr/bin/env bash
# The svertka command's contract: exit 0 on success, 2 on usage errors, 1 on other failures,
# and a one-line "svertka: error: ..." on stderr for every error.
set -u
svertka=$1
src=$2
models=$src/tests/data/models
bad=$src/tests/data/bad
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
passes=0

# expect CODE PHRASE -- ARGS...: runs svertka ARGS, checks the exit code and that stdout+stderr
# contains PHRASE.
expect() {
  local code=$1 phrase=$2
  shift 3
  local out rc
  out=$("$svertka" "$@" 2>&1)
  rc=$?
  if [[ $rc -ne $code ]] || [[ $out != *"$phrase"* ]]; then
    echo "FAIL: svertka $* -> exit $rc (want $code), output lacks '$phrase' or differs:"
    printf '    %s\n' "$out"
    failures=$((failures + 1))
  else
    passes=$((passes + 1))
  fi
}

# expect_nan_scores DEVICE INPUT: runs LeNet on INPUT and checks that it succeeds and that all
# ten scores are NaN: NaN and infinities in an input propagate as IEEE values, on every device.
expect_nan_scores() {
  local out rc nans
  out=$("$svertka" run "$models/lenet_digits.onnx" --input "$2" --device "$1" --top 10 2>&1)
  rc=$?
  nans=$(grep -cE '^ +[0-9]+\. class [0-9]+ +-?nan *$' <<< "$out")
  if [[ $rc -ne 0 ]] || [[ $nans -ne 10 ]]; then
    echo "FAIL: run on $1 with $2 -> exit $rc (want 0) and $nans NaN scores (want 10):"
    printf '    %s\n' "$out"
    failures=$((failures + 1))
  else
    passes=$((passes + 1))
  fi
}

# expect_file PATH WHAT: PATH exists and is not empty
expect_file() {
  if [[ -s $1 ]]; then
    passes=$((passes + 1))
  else
    echo "FAIL: $2 wrote no $1"
    failures=$((failures + 1))
  fi
}

expect 2 "usage: svertka" -- 
expect 2 "svertka: error: unknown command 'frobnicate'" -- frobnicate
expect 0 "usage: svertka" -- --help
expect 0 "svertka 0." -- version
expect 0 "(default)" -- devices
expect 0 "ref" -- devices
expect 2 "svertka: error: devices takes no arguments" -- devices extra
expect 0 "verify: 2940 of 2940 elements" -- demo --size 14 --device ref
expect 0 "verify: 1500 of 1500 elements" -- demo --size 10
expect 2 "svertka: error: --size expects a positive integer, got 'ten'" -- demo --size ten
expect 2 "svertka: error: --size must be between 3 and 8192" -- demo --size 2
expect 2 "svertka: error: option --device needs a value" -- demo --device
expect 2 "svertka: error: demo: unknown argument '--bogus'" -- demo --bogus
expect 1 "svertka: error: no OpenCL device matches 'no-such-device'" -- demo --device no-such-device
expect 1 "svertka: error: malformed device spec" -- demo --device cl:x
out_dir=$(mktemp -d)
expect 0 "wrote 15 PGM images" -- demo --size 8 --device ref --output-dir "$out_dir"
expect_file "$out_dir/edges-r.pgm" "demo --output-dir"
rm -rf "$out_dir"
expect 1 "svertka: error: cannot write /nonexistent-dir/" -- demo --size 8 --device ref --output-dir /nonexistent-dir

# models: info, run, verify
expect 0 "Conv+Relu" -- info "$models/lenet_digits.onnx"
expect 0 "multiply-accumulates: 97192 per batch" -- info "$models/lenet_digits.onnx"
expect 0 "planned peak activation memory" -- info "$models/segnet.onnx" --batch 2
expect 0 "Pad+Conv+Relu              [1, 8, 13, 13]                36504  reference              s1,1 d1,1 p2,1/1,2 g1 reflect" -- \
  info "$models/padnet.onnx"
expect 2 "svertka: error: info: a model file is required" -- info
expect 0 "direct " -- info "$models/segnet.onnx" --device cl --algorithm direct
# the layer table names the transposed convolution's algorithm (16 input channels, 8 x 3 x 3
# output rows per group: large enough for the GEMM)
expect 0 "ConvTranspose              [1, 8, 32, 32]               294912  CLBlast SGEMM + col2im s2 d1 p1/1 op1 g1" -- \
  info "$models/segnet.onnx" --device cl
expect 2 "--algorithm expects one of auto, direct" -- info "$models/segnet.onnx" --algorithm fastest
expect 0 "ALG: the convolution algorithm" -- --help
# tune: into a database under the test's own cache directory
SVERTKA_CACHE_DIR=$tmp/cache expect 0 "tuning database: $tmp/cache/tuning/" -- \
  tune "$models/segnet.onnx" --device cl --iterations 2
SVERTKA_CACHE_DIR=$tmp/cache expect 0 "* ok" -- tune "$models/segnet.onnx" --device cl --batch 2
expect 1 "nothing to tune" -- tune "$models/segnet.onnx" --device ref
expect 2 "svertka: error: tune: a model file is required" -- tune
expect 2 "--seconds expects a positive number" -- tune "$models/segnet.onnx" --seconds 0
expect 0 "batch 540" -- run "$models/lenet_digits.onnx" --input "$models/lenet_digits_test_x.npy" \
  --output "$tmp/logits.npy"
expect_file "$tmp/logits.npy" "run --output"
expect 0 "sample 1:" -- run "$models/seq1d.onnx" --input "$models/seq1d_input.npy" --top 3 --device ref
printf 'zero\none\ntwo\nthree\nfour\nfive\n' > "$tmp/labels.txt"
expect 0 "  1. class" -- run "$models/seq1d.onnx" --input "$models/seq1d_input.npy" --top 2 \
  --labels "$tmp/labels.txt"
expect 0 "verify: all 11 layers within" -- verify "$models/segnet.onnx" --batch 2 --seed 7
expect 0 "verify: all 8 layers within" -- verify "$models/lenet_digits.onnx" --device ref --batch 3
# then the model as it runs, with LeNet's two pools fused into its convolutions
expect 0 "verify: all 1 outputs as it runs within" -- verify "$models/lenet_digits.onnx" --batch 3
expect 0 "(6 layers, 2 pools fused, buffers shared)" -- verify "$models/lenet_digits.onnx" --batch 3
expect 2 "svertka: error: the model has 1 input, 0 --input given" -- run "$models/seq1d.onnx"
expect 2 "svertka: error: --labels goes with --top K" -- run "$models/seq1d.onnx" --input x.npy --labels l
expect 2 "svertka: error: run: unknown option '--bogus'" -- run "$models/seq1d.onnx" --bogus 1

# bench: runs, and its JSON carries what scripts read (no timing is judged here)
expect 0 "images/s" -- bench "$models/lenet_digits.onnx" --batch 1,3 --iterations 2 --warmup 1 \
  --per-layer --json "$tmp/bench.json"
if python3 - "$tmp/bench.json" <<'PY'; then passes=$((passes + 1)); else echo "FAIL: bench JSON"; failures=$((failures + 1)); fi
import json, sys
d = json.load(open(sys.argv[1]))
assert d["device"]["name"] and d["git_revision"] and d["date"] and d["library_version"]
assert [r["batch"] for r in d["runs"]] == [1, 3]
for r in d["runs"]:
    for key in ("median_ms", "p90_ms", "images_per_s", "gflops"):
        assert r[key] > 0, key
    # LeNet's pools join their convolutions where the device's algorithm fuses them
    ops = [l["op"] for l in r["layers"]]
    assert ops[:2] in (["Conv+Relu", "MaxPool"], ["Conv+Relu+MaxPool", "Conv+Relu+MaxPool"]), ops
    assert len(ops) == (8 if ops[1] == "MaxPool" else 6), ops
PY
expect 2 "svertka: error: --batch expects a positive integer, got 'x'" -- bench "$models/seq1d.onnx" --batch 1,x
expect 2 "svertka: error: --seconds expects a positive number" -- bench "$models/seq1d.onnx" --seconds 0
expect 2 "svertka: error: bench: a model file is required" -- bench
expect 1 "dimension 1 is 1099511627776" -- bench "$bad/huge_dims.onnx" --batch 2

# batch sizes beyond a tensor dimension, or beyond what the device can hold: refused with the
# numbers before anything is allocated, by run and by bench
expect 1 "svertka: error: batch 1099511627776 is outside 1..2147483647" -- \
  run "$models/segnet.onnx" --input "$models/segnet_input.npy" --batch 1099511627776 --device ref
expect 1 "svertka: error: batch 1099511627776 is outside 1..2147483647" -- \
  bench "$models/segnet.onnx" --batch 1099511627776
# segnet's largest activation is 16 x 32 x 32 floats (64 KiB) a sample: one sample more than the
# default device's largest allocation (as 'devices' prints it, rounded up) cannot be held
max_alloc_gib=$("$svertka" devices | awk '/\(default\)/ {print $7}')
huge=$(awk -v g="${max_alloc_gib:-0}" 'BEGIN {printf "%d", (g + 0.05) * 16384 + 1}')
if [[ -z $max_alloc_gib ]] || (( huge * 16384 > 2147483647 )); then
  echo "skipped: no batch of segnet exceeds the default device's largest allocation (${max_alloc_gib:-no device})"
else
  expect 1 "per allocation (max_alloc " -- \
    run "$models/segnet.onnx" --input "$models/segnet_input.npy" --batch "$huge" --device cl
  expect 1 "svertka: error: batch $huge: activation buffer" -- bench "$models/segnet.onnx" --batch "$huge" --device cl
fi

# bad files: a clear one-line error and exit 1, never a crash
head -c 300 "$models/lenet_digits.onnx" > "$tmp/truncated.onnx"
expect 1 "not an ONNX model: the 300 bytes do not parse" -- info "$tmp/truncated.onnx"
head -c 4096 /dev/urandom > "$tmp/random.onnx"
expect 1 "svertka: error: $tmp/random.onnx: " -- info "$tmp/random.onnx"
: > "$tmp/empty.onnx"
expect 1 "is empty" -- info "$tmp/empty.onnx"
expect 1 "cannot open model" -- info "$tmp/missing.onnx"
expect 1 "reads tensor 'w', which no node, input or initializer provides" -- info "$bad/missing_initializer.onnx"
expect 1 "op 'FooBar' is not supported" -- info "$bad/unknown_op.onnx"
expect 1 "attribute 'flavour' is not supported" -- info "$bad/unknown_attribute.onnx"
expect 1 "the graph has a cycle through node" -- info "$bad/cyclic.onnx"
expect 1 "has data type int64; only float inputs are supported" -- info "$bad/int64_input.onnx"
expect 1 "dimension 1 is 1099511627776, outside 1..2147483647" -- info "$bad/huge_dims.onnx"
expect 1 "tensor 'w' has 9 values, its shape needs 18" -- info "$bad/short_initializer.onnx"
expect 1 "weight has 2 input channels per group" -- info "$bad/channel_mismatch.onnx"
expect 1 "unsupported dtype '<i4'" -- run "$models/lenet_digits.onnx" --input "$bad/int32.npy"
expect 1 "seq1d_input.npy has shape [2, 4, 64]; input 'input' needs [2, 1, 16, 16]" -- \
  run "$models/lenet_digits.onnx" --input "$models/seq1d_input.npy"
expect 1 "missing.npy: cannot open: No such file or directory" -- run "$models/lenet_digits.onnx" --input "$tmp/missing.npy"
expect 1 "cannot read labels" -- run "$models/seq1d.onnx" --input "$models/seq1d_input.npy" \
  --top 1 --labels "$tmp/missing.txt"
expect 1 "graph input 'x': dimension 1 is -3, outside 1..2147483647" -- info "$bad/negative_dims.onnx"
expect 1 "tensor 'w' has a negative dimension" -- info "$bad/negative_initializer_dims.onnx"
expect 1 "graph input 'x' of shape [1, 2147483647, 2147483647, 2147483647] has more than \
2147483647 elements, the limit for a tensor of a model" -- info "$bad/dims_product_overflow.onnx"
expect 1 "tensor 'w': the product of its dimensions is too large" -- \
  info "$bad/initializer_dims_overflow.onnx"
expect 1 "graph output 'z' is not produced by any node" -- info "$bad/dangling_output.onnx"
expect 1 "node 'sum' (Add) reads tensor 'ghost', which no node, input or initializer provides" -- \
  info "$bad/dangling_input.onnx"
expect 1 "bad_magic.npy: npy: bad magic: not a .npy file" -- \
  run "$models/lenet_digits.onnx" --input "$bad/bad_magic.npy"
head -c 1000 "$models/lenet_digits_test_x.npy" > "$tmp/truncated.npy"
expect 1 "truncated.npy: npy: truncated data: shape [540, 1, 16, 16]" -- \
  run "$models/lenet_digits.onnx" --input "$tmp/truncated.npy"
head -c 4096 /dev/urandom > "$tmp/random.npy"
expect 1 "svertka: error: $tmp/random.npy: npy: " -- run "$models/lenet_digits.onnx" --input "$tmp/random.npy"
head -c 4096 /dev/urandom > "$tmp/random.png"
expect 1 "svertka: error: $tmp/random.png: image: " -- run "$models/lenet_digits.onnx" --input "$tmp/random.png"
for device in ref cl; do
  expect_nan_scores "$device" "$bad/nan_input.npy"
  expect_nan_scores "$device" "$bad/inf_input.npy"
done

echo "cli: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
