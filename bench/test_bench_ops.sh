#!/usr/bin/env bash
# The op benchmark's contract, on small shapes (--quick: every op and contestant, one timed run):
# it runs on the default device and on the reference path, checks the library against the
# reference path, writes JSON that parses and holds a record per case and contestant, and reports
# usage errors with exit status 2. Nothing here depends on speed.
set -u
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# check_json FILE DEVICE_IS_REF: the JSON parses and is complete; every library record is "ok"
# and checked against the reference path, or "skipped" because the algorithm declines the shape
# (SV_UNSUPPORTED: Winograd on a 1x1 kernel), and every library contestant ran some case; every
# baseline is "ok" and checked against the
# library within the tolerance, or "skipped" with a reason. Exit status 0: all of that; 1: not;
# 3: all of that except baselines whose output differs from the library's (which the reference
# path has just confirmed): a fault of the baseline on this device, reported but not ours.
check_json() {
  python3 - "$1" "$2" <<'PY'
import json, sys
path, on_ref = sys.argv[1], sys.argv[2] == "1"
d = json.load(open(path))
problems, warnings = [], []
for key in ("benchmark", "svertka_version", "git_revision", "date", "command"):
    if not isinstance(d.get(key), str) or not d[key]:
        problems.append(f"top-level '{key}' missing or empty")
for key in ("name", "platform", "driver", "spec"):
    if not isinstance(d.get("device", {}).get(key), str):
        problems.append(f"device '{key}' missing")
records = d.get("records", [])
cases = {r["case"] for r in records}
if len(cases) != 7:
    problems.append(f"{len(cases)} cases, expected the 7 quick ones")
tol = d["settings"]["rel_tolerance"]
for r in records:
    where = f"{r['case']} {r['contestant']}"
    if r["contestant"].startswith("sv_"):
        if r["status"] == "skipped" and r.get("reason", "").startswith("SV_UNSUPPORTED"):
            continue
        if r["status"] != "ok" or r["checked_against"] != "ref" or not r["max_rel_err"] <= tol:
            problems.append(f"{where}: {r['status']} {r.get('reason', '')} err {r['max_rel_err']}")
        if r["runs"] != 1 or r["wall_ms"]["median"] <= 0:
            problems.append(f"{where}: no timing")
    elif r["status"] == "ok":
        if on_ref:
            problems.append(f"{where}: a baseline ran on the reference device")
        if not r["max_rel_err"] <= tol or not str(r["checked_against"]).startswith("sv_"):
            problems.append(f"{where}: unchecked or wrong output ({r['max_rel_err']})")
        if r["device_ms"] is None and r["wall_ms"] is None:
            problems.append(f"{where}: no timing")
    elif r["status"] == "mismatch":
        warnings.append(f"{where}: {r.get('reason', '')}")
    elif r["status"] != "skipped" or not r.get("reason"):
        problems.append(f"{where}: {r['status']} {r.get('reason', '')}")
    elif on_ref and "reference device" not in r["reason"]:
        problems.append(f"{where}: skipped for another reason: {r['reason']}")
library = {r["contestant"] for r in records if r["contestant"].startswith("sv_")}
ran = {r["contestant"] for r in records if r["contestant"].startswith("sv_") and r["status"] == "ok"}
if library != ran:
    problems.append(f"library contestants that ran no case: {sorted(library - ran)}")
baselines = {r["contestant"] for r in records if not r["contestant"].startswith("sv_")}
if baselines != {"im2col+sgemm", "clblast-convgemm", "sgemm+col2im"}:
    problems.append(f"baseline records: {sorted(baselines)}")
for p in problems:
    print("  " + p)
for w in warnings:
    print("  WARNING: baseline differs from the library: " + w)
sys.exit(1 if problems else 3 if warnings else 0)
PY
}

for device in default ref; do
  args=(--quick --check-ref --iterations 1 --warmup 0 --json "$tmp/$device.json")
  [[ $device == ref ]] && args+=(--device ref)
  "$bench" "${args[@]}" > "$tmp/$device.txt" 2>&1
  rc=$?
  if [[ ! -s $tmp/$device.json ]]; then
    fail "svertka_bench_ops ${args[*]} exited $rc and wrote no JSON:"
    sed 's/^/    /' "$tmp/$device.txt"
    continue
  fi
  check_json "$tmp/$device.json" "$([[ $device == ref ]] && echo 1 || echo 0)"
  check=$?
  if [[ $check -eq 1 ]]; then
    fail "the JSON of svertka_bench_ops ${args[*]} is incomplete or wrong (above)"
  elif [[ $rc -ne 0 && $check -ne 3 ]]; then
    fail "svertka_bench_ops ${args[*]} exited $rc:"
    sed 's/^/    /' "$tmp/$device.txt"
  fi
done

# expect_usage PHRASE ARGS...: exit status 2 and PHRASE on stderr
expect_usage() {
  local phrase=$1 out rc
  shift
  out=$("$bench" "$@" 2>&1)
  rc=$?
  if [[ $rc -ne 2 || $out != *"$phrase"* ]]; then
    fail "svertka_bench_ops $* -> exit $rc (want 2), output lacks '$phrase': $out"
  fi
}
expect_usage "--batch expects an integer >= 1, got '0'" --batch 0
expect_usage "--iterations expects an integer >= 1, got 'x'" --iterations x
expect_usage "--seconds expects a number >= 0" --seconds -1
expect_usage "no case matches --filter 'no-such-case'" --filter no-such-case
expect_usage "unknown option '--bogus'" --bogus 1
expect_usage "option --json needs a value" --json
if ! "$bench" --list | grep -q "vgg16.conv5_3"; then
  fail "--list does not list vgg16.conv5_3"
fi

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "bench_ops: all checks passed"
