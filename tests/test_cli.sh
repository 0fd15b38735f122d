#!/usr/bin/env bash
# The svertka command's contract: exit 0 on success, 2 on usage errors, 1 on other failures,
# and a one-line "svertka: error: ..." on stderr for every error.
set -u
svertka=$1
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
if [[ -s $out_dir/edges-r.pgm ]]; then
  passes=$((passes + 1))
else
  echo "FAIL: demo --output-dir wrote no edges-r.pgm"
  failures=$((failures + 1))
fi
rm -rf "$out_dir"
expect 1 "svertka: error: cannot write /nonexistent-dir/" -- demo --size 8 --device ref --output-dir /nonexistent-dir

echo "cli: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
