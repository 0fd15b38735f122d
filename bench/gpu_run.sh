#!/usr/bin/env bash
# On an NVIDIA GPU host, in one go: builds svertka, verifies VGG-16 against the reference path
# with every convolution algorithm, tunes it, and benchmarks it against its peers (PyTorch with
# cuDNN fp32/TF32 where PyTorch sees the GPU, onnxruntime where installed), writing dated results
# under bench/results/ (or --out-dir) with the commands, device, driver and date.
#
# usage: bench/gpu_run.sh [--device DEV] [--batches "1 64"] [--tune-seconds S] [--model VGG16.onnx]
#                         [--out-dir DIR] [--skip-verify] [--skip-tune]
#   --device        the svertka device spec (default gpu)
#   --batches       the batch sizes benchmarked and tuned (default "1 64")
#   --tune-seconds  the tuner's budget per batch size (default 300)
#   --model         a VGG-16 ONNX file (default: generated once under BUILD_DIR/models/ by
#                   scripts/models/vgg16.py, which needs python3 with numpy and onnx)
# On a host without package access, source the GPU kit first (it exports the library paths and
# registers NVIDIA's OpenCL driver), e.g.  . .gpu/setup.sh; bench/gpu_run.sh
# BUILD_DIR (default build-gpu/) is configured in Release without the tests.
# Exit status: 0 when every step passed, 1 when one failed (the others still run), 2 on usage.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-gpu}
device=gpu
batches="1 64"
tune_seconds=300
model=
out_dir=$root/bench/results
verify=1
tune=1
invocation="bench/gpu_run.sh$(printf ' %q' "$@")"
while [[ $# -gt 0 ]]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --tune-seconds) tune_seconds=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --out-dir) out_dir=$2; shift 2 ;;
    --skip-verify) verify=0; shift ;;
    --skip-tune) tune=0; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_run.sh: unknown argument '$1' (--help for usage)" >&2; exit 2 ;;
  esac
done

if [[ -n $model && ! -f $model ]]; then
  echo "gpu_run.sh: --model $model: no such file" >&2
  exit 2
fi

failures=()
step() { # step NAME COMMAND...: runs and times a step; a failure is recorded, not fatal
  local name=$1 start=$SECONDS
  shift
  echo "gpu_run: === $name: $*"
  if "$@"; then
    echo "gpu_run: === $name passed in $((SECONDS - start)) s"
  else
    echo "gpu_run: === $name FAILED (exit $?) after $((SECONDS - start)) s"
    failures+=("$name")
  fi
}

# ---- build (Release, no tests: the host may lack Check) ----
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSVERTKA_BUILD_TESTS=OFF >/dev/null &&
  cmake --build "$build" -j"$(nproc)" >/dev/null || {
  echo "gpu_run.sh: the build failed; run cmake -S . -B $build for the messages" >&2
  exit 1
}
svertka=$build/svertka
"$svertka" devices
if ! "$svertka" info "$root/tests/data/models/segnet.onnx" --device "$device" >/dev/null; then
  echo "gpu_run.sh: no usable device for --device $device (see the list above)" >&2
  exit 1
fi

if [[ -z $model ]]; then
  model=$build/models/vgg16.onnx
  if [[ ! -f $model ]]; then
    mkdir -p "$build/models"
    step "generate VGG-16" python3 "$root/scripts/models/vgg16.py" --out "$model" || exit 1
  fi
fi

# ---- correctness: every algorithm, every layer, against the reference path ----
algorithms=$("$svertka" --help | sed -n 's/^ALG: [^:]*: //p' | sed 's/ (default)//')
if [[ $verify == 1 ]]; then
  for alg in $algorithms; do
    step "verify $alg" "$svertka" verify "$model" --device "$device" --algorithm "$alg"
  done
fi

# ---- tuning, then the benchmarks ----
batch_list=${batches// /,}
if [[ $tune == 1 ]]; then
  step "tune" "$svertka" tune "$model" --device "$device" --batch "$batch_list" \
    --seconds "$((tune_seconds * $(wc -w <<< "$batches")))"
fi
mkdir -p "$out_dir"
step "bench (auto: tuned)" env BUILD_DIR="$build" "$root/bench/run_all.sh" --device "$device" \
  --batches "$batches" --model "$model" --out-dir "$out_dir"
# the files are named like run_all.sh's: date and a slug of the device's name
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$svertka" bench "$root/tests/data/models/segnet.onnx" --device "$device" --iterations 1 \
  --json "$tmp/probe.json" >/dev/null
slug=$(python3 -c 'import json, re, sys
print(re.sub("[^a-z0-9]+", "-", json.load(open(sys.argv[1]))["device"]["name"].lower()).strip("-"))' \
  "$tmp/probe.json" 2>/dev/null || echo device)
prefix=$out_dir/$(date -u +%Y-%m-%d)-$slug
for alg in $algorithms; do
  [[ $alg == auto ]] && continue
  step "bench $alg" "$svertka" bench "$model" --device "$device" --algorithm "$alg" \
    --batch "$batch_list" --iterations 20 --per-layer --json "$prefix-vgg16-$alg.json"
done
step "peers" "$root/scripts/bench_peers" --model "$model" --device "$device" \
  --batches "$batch_list" --svertka "$svertka" --json "$prefix-peers.json" \
  --markdown "$prefix-peers.md"

echo "gpu_run: $invocation"
if [[ ${#failures[@]} -gt 0 ]]; then
  echo "gpu_run: FAILED steps: ${failures[*]}"
  exit 1
fi
echo "gpu_run: every step passed; results in $out_dir"
