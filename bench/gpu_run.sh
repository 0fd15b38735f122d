#!/usr/bin/env bash
# On an NVIDIA GPU host, in one go: builds svertka, verifies VGG-16 against the reference path
# with every convolution algorithm, tunes it, and benchmarks it against its peers (PyTorch with
# cuDNN fp32/TF32 where PyTorch sees the GPU, onnxruntime where installed), writing dated results
# under bench/results/ (or --out-dir) with the commands, device, driver and date.
#
# usage: bench/gpu_run.sh [--device DEV] [--batches "1 64"] [--tune-seconds S] [--model VGG16.onnx]
#                         [--out-dir DIR] [--steps LIST] [--algorithms "ALG ..."]
#   --device        the svertka device spec (default gpu)
#   --batches       the batch sizes benchmarked and tuned (default "1 64")
#   --tune-seconds  the tuner's budget per batch size (default 300)
#   --model         a VGG-16 ONNX file (default: generated once under BUILD_DIR/models/ by
#                   scripts/models/vgg16.py, which needs python3 with numpy and onnx)
#   --steps         which steps run, in this order, comma-separated (default
#                   verify,tune,bench,algorithms,peers):
#                     tests       the test suites on the device (BUILD_DIR-tests/, needs Check; the
#                                 ONNX conformance runs where $ONNX_TESTDATA, default
#                                 /usr/share/libonnx-testdata/data, exists), log in --out-dir
#                     verify      svertka verify on VGG-16, once per algorithm
#                     tune        svertka tune at --batches
#                     bench       bench/run_all.sh: the op benchmark and svertka bench (auto)
#                     algorithms  svertka bench --per-layer once per algorithm
#                     peers       scripts/bench_peers
#   --algorithms    the algorithms verify and algorithms run (default: every one svertka lists)
# A machine lent for minutes at a time can take the steps over several calls, the most telling
# first, e.g. --steps tests, then --steps verify,bench,peers --algorithms auto. Where only the
# checkout travels, the ONNX test data (40 MB) can go with it in an ignored folder that
# ONNX_TESTDATA names.
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
steps=verify,tune,bench,algorithms,peers
algorithms=
invocation="bench/gpu_run.sh$(printf ' %q' "$@")"
while [[ $# -gt 0 ]]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --tune-seconds) tune_seconds=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --out-dir) out_dir=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --algorithms) algorithms=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "gpu_run.sh: unknown argument '$1' (--help for usage)" >&2; exit 2 ;;
  esac
done

if [[ -n $model && ! -f $model ]]; then
  echo "gpu_run.sh: --model $model: no such file" >&2
  exit 2
fi
for s in ${steps//,/ }; do
  case $s in
    tests|verify|tune|bench|algorithms|peers) ;;
    *) echo "gpu_run.sh: --steps: unknown step '$s' (tests verify tune bench algorithms peers)" >&2
       exit 2 ;;
  esac
done
wants() { [[ ,$steps, == *,$1,* ]]; }

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

# the result files are named like run_all.sh's: date and a slug of the device's name
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$svertka" bench "$root/tests/data/models/segnet.onnx" --device "$device" --iterations 1 \
  --json "$tmp/probe.json" >/dev/null
slug=$(python3 -c 'import json, re, sys
print(re.sub("[^a-z0-9]+", "-", json.load(open(sys.argv[1]))["device"]["name"].lower()).strip("-"))' \
  "$tmp/probe.json" 2>/dev/null || echo device)
mkdir -p "$out_dir"
prefix=$out_dir/$(date -u +%Y-%m-%d)-$slug

# ---- the test suites on the device ----
run_tests() {
  local tests_build=$build-tests testdata=${ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
  local exclude=()
  if [[ ! -d $testdata/node ]]; then
    echo "gpu_run: no ONNX test data at $testdata (set ONNX_TESTDATA): conformance left out"
    exclude=(-E conformance)
  fi
  cmake -S "$root" -B "$tests_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DONNX_TESTDATA="$testdata" >/dev/null &&
    cmake --build "$tests_build" -j"$(nproc)" >/dev/null &&
    (cd "$tests_build" && SVERTKA_DEVICE=$device ctest --output-on-failure -j"$(nproc)" \
      "${exclude[@]}")
}
if wants tests; then
  step "tests" run_tests > >(tee "$prefix-tests.log") 2>&1
fi

needs_model=0
for s in verify tune bench algorithms peers; do wants $s && needs_model=1; done
if [[ $needs_model == 1 && -z $model ]]; then
  model=$build/models/vgg16.onnx
  if [[ ! -f $model ]]; then
    mkdir -p "$build/models"
    step "generate VGG-16" python3 "$root/scripts/models/vgg16.py" --out "$model" || exit 1
  fi
fi

# ---- correctness: every algorithm, every layer, against the reference path ----
if [[ -z $algorithms ]]; then
  algorithms=$("$svertka" --help | sed -n 's/^ALG: [^:]*: //p' | sed 's/ (default)//')
fi
if wants verify; then
  for alg in $algorithms; do
    step "verify $alg" "$svertka" verify "$model" --device "$device" --algorithm "$alg"
  done
fi

# ---- tuning, then the benchmarks ----
batch_list=${batches// /,}
if wants tune; then
  step "tune" "$svertka" tune "$model" --device "$device" --batch "$batch_list" \
    --seconds "$((tune_seconds * $(wc -w <<< "$batches")))"
fi
if wants bench; then
  step "bench (auto: tuned where tuned)" env BUILD_DIR="$build" "$root/bench/run_all.sh" \
    --device "$device" --batches "$batches" --model "$model" --out-dir "$out_dir"
fi
if wants algorithms; then
  for alg in $algorithms; do
    [[ $alg == auto ]] && continue
    step "bench $alg" "$svertka" bench "$model" --device "$device" --algorithm "$alg" \
      --batch "$batch_list" --iterations 20 --per-layer --json "$prefix-vgg16-$alg.json"
  done
fi
if wants peers; then
  step "peers" "$root/scripts/bench_peers" --model "$model" --device "$device" \
    --batches "$batch_list" --svertka "$svertka" --json "$prefix-peers.json" \
    --markdown "$prefix-peers.md"
fi

echo "gpu_run: $invocation"
if [[ ${#failures[@]} -gt 0 ]]; then
  echo "gpu_run: FAILED steps: ${failures[*]}"
  exit 1
fi
echo "gpu_run: every step passed; results in $out_dir"
