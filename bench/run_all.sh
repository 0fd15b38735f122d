#!/usr/bin/env bash
# Runs the benchmarks on one device and writes dated results under bench/results/:
#   YYYY-MM-DD-<device>-ops.md / .json / .png   svertka_bench_ops: every case and contestant
#   YYYY-MM-DD-<device>-vgg16.md / .json / .png `svertka bench` on VGG-16 at the --batches sizes
#                                               (default 1; a chart from two sizes on), when this
#                                               build has that command
# <device> is a slug of the device's name ("pocl" for pocl's CPU device). The markdown starts
# with the exact commands, the device, its driver, the date and the git revision.
#
# usage: bench/run_all.sh [--device DEV] [--batch N] [--iterations N] [--batches "1 8 32 64"]
#                         [--model VGG16.onnx] [--out-dir DIR] [-- more svertka_bench_ops options]
# BUILD_DIR selects the build (default: build/); build it first (scripts/build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
out_dir=$root/bench/results
device=
batch=1
iterations=10
batches="1"
model=
extra=()
invocation="bench/run_all.sh$(printf ' %q' "$@")"
while [[ $# -gt 0 ]]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --out-dir) out_dir=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_all.sh: unknown argument '$1' (--help for usage)" >&2; exit 2 ;;
  esac
done

bench=$build/bench/svertka_bench_ops
svertka=$build/svertka
for exe in "$bench" "$svertka"; do
  if [[ ! -x $exe ]]; then
    echo "run_all.sh: $exe not found: build first (scripts/build, or set BUILD_DIR)" >&2
    exit 1
  fi
done
mkdir -p "$out_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

device_args=()
[[ -n $device ]] && device_args=(--device "$device")
bench_cmd=("$bench" "${device_args[@]}" --batch "$batch" --iterations "$iterations"
           --json "$tmp/ops.json" "${extra[@]}")
echo "run_all.sh: ${bench_cmd[*]}"
# the machine may be shared: its load before and after goes into the results
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
status=0
"${bench_cmd[@]}" | tee "$tmp/ops.txt" || status=${PIPESTATUS[0]}
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
if [[ ! -s $tmp/ops.json ]]; then
  echo "run_all.sh: the op benchmark wrote no JSON (exit $status)" >&2
  exit 1
fi

# the device, its driver and the date, as the benchmark recorded them
read_field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
name=$(read_field "$tmp/ops.json" "d['device']['name']")
platform=$(read_field "$tmp/ops.json" "d['device']['platform']")
driver=$(read_field "$tmp/ops.json" "d['device']['driver']")
spec=$(read_field "$tmp/ops.json" "d['device']['spec']")
stamp=$(read_field "$tmp/ops.json" "d['date']")
revision=$(read_field "$tmp/ops.json" "d['git_revision']")
day=${stamp:0:10}
case $platform in
  *"Portable Computing Language"*) slug=pocl ;;
  reference) slug=ref ;;
  *) slug=$(printf '%s' "$name" | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9]+/-/g; s/^-+//; s/-+$//') ;;
esac
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || true)
machine="$(uname -sm), ${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo '?') cores"

base=$out_dir/$day-$slug-ops
cp "$tmp/ops.json" "$base.json"
{
  echo "# Op benchmark on $name, $day"
  echo
  echo "- command: \`$invocation\`, which ran"
  echo "  \`${bench_cmd[*]/#$root\//}\` (JSON kept as \`$(basename "$base.json")\`)"
  echo "- device: $name ($platform, \`$spec\`); driver: $driver"
  echo "- date: $stamp; git revision: $revision"
  echo "- machine: $machine; load average (1, 5, 15 min) before: $load_before, after: $load_after"
  echo "- exit status of the benchmark: $status (0: every contestant ran or was skipped with a reason)"
  echo
  echo "Wall time: host clock around the op and a wait for its queue, for every contestant alike."
  echo "Device time: OpenCL profiling on the benchmark's own queue, baselines only. Rate: effective"
  echo "GFLOP/s (2 × the op's multiply-accumulates / median wall time), GB/s for pooling and softmax."
  echo "Ratio: median wall time / the library's fastest algorithm's (above 1: slower than it). Rel. error:"
  echo "max |y − y_x| / max |y_x|, x the library's first algorithm (e.g. sv_conv:direct); \"(vs ref)\": the reference path."
  echo
  python3 "$root/bench/report.py" "$base.json"
} > "$base.md"
echo "run_all.sh: wrote $base.md and $base.json"
if "$root/bench/plot.py" ops "$base.json" --out "$base.png"; then
  echo "run_all.sh: wrote $base.png"
fi

# VGG-16 end to end, through `svertka bench` where this build has it
bench_probe=$("$svertka" bench 2>&1 || true)
if [[ $bench_probe != *"unknown command"* ]]; then
  if [[ -z $model ]]; then
    model=$build/models/vgg16.onnx
    if [[ ! -s $model ]]; then
      mkdir -p "$(dirname "$model")"
      /usr/bin/python3 "$root/scripts/models/vgg16.py" --out "$model"
    fi
  fi
  vgg=$out_dir/$day-$slug-vgg16
  batch_list=$(tr -s ' ' ',' <<< "$batches" | sed 's/^,//; s/,$//')
  vgg_cmd=("$svertka" bench "$model" "${device_args[@]}" --batch "$batch_list"
           --iterations "$iterations" --per-layer --json "$vgg.json")
  echo "run_all.sh: ${vgg_cmd[*]}"
  load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
  vgg_status=0
  "${vgg_cmd[@]}" | tee "$tmp/vgg16.txt" || vgg_status=${PIPESTATUS[0]}
  load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
  [[ $vgg_status -eq 0 ]] || status=1
  {
    echo "# VGG-16 through \`svertka bench\` on $name, $day"
    echo
    echo "- command: \`$invocation\`, which ran"
    echo "  \`${vgg_cmd[*]/#$root\//}\` (exit status $vgg_status)"
    echo "- model: VGG-16 from \`scripts/models/vgg16.py\` (224×224, 15.5 GMAC per image)"
    echo "- device: $name ($platform, \`$spec\`); driver: $driver"
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); machine: $machine; load average before: $load_before, after: $load_after"
    echo
    echo '```'
    cat "$tmp/vgg16.txt"
    echo '```'
  } > "$vgg.md"
  echo "run_all.sh: wrote $vgg.md"
  if [[ -s $vgg.json && $batch_list == *,* ]] &&
     "$root/bench/plot.py" throughput "$vgg.json" --out "$vgg.png" --title "VGG-16 on $name (svertka bench)"; then
    echo "run_all.sh: wrote $vgg.png"
  fi
else
  echo "run_all.sh: skipped VGG-16 end to end: this build's svertka has no 'bench' command"
fi
exit "$status"
