#!/usr/bin/env python3
"""Turn svertka_bench_ops JSON into a markdown table (standard library only).

One row per case and contestant: median and minimum wall time, median device
time, effective GFLOP/s (or GB/s for pooling and softmax), the ratio of the
contestant's median wall time to the library's fastest algorithm's, and the
relative error of its output against the library's first algorithm's (or, with
--check-ref, the reference path's). Skipped and failed contestants get their
reason.

Usage:
    bench/report.py RESULTS.json > table.md
"""

import argparse
import json
import sys


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def table(data):
    lines = [
        "| case | shape | contestant | runs | wall median (ms) | wall min (ms) "
        "| device median (ms) | rate (wall) | ratio | rel. error |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    library = {}  # per case, the median wall time of the library's fastest algorithm
    for r in data["records"]:
        if r["contestant"].startswith("sv_") and r["status"] == "ok":
            best = library.get(r["case"])
            library[r["case"]] = min(best, r["wall_ms"]["median"]) if best else r["wall_ms"]["median"]
    last_case = None
    for r in data["records"]:
        first = r["case"] != last_case
        last_case = r["case"]
        shape = ""
        if first:
            shape = "x " + "×".join(str(d) for d in r["input"])
            if r.get("weight"):
                shape += ", w " + "×".join(str(d) for d in r["weight"])
            if "kernel" in r:
                shape += f", k{r['kernel']} s{r['stride']} p{r['pad']}"
            if r.get("groups", 1) != 1:
                shape += f" g{r['groups']}"
        name = f"`{r['case']}`" if first else ""
        if r["status"] in ("skipped", "failed"):
            lines.append(f"| {name} | {shape} | {r['contestant']} | – | {r['status']}: "
                         f"{r.get('reason', '')} | | | | | |")
            continue
        wall = r["wall_ms"]
        dev = r["device_ms"]
        if r.get("gflops") is not None:
            rate = f"{r['gflops']:.1f} GFLOP/s"
        elif r.get("gbytes_per_s") is not None:
            rate = f"{r['gbytes_per_s']:.2f} GB/s"
        else:
            rate = "–"
        base = library.get(r["case"])
        ratio = f"{wall['median'] / base:.2f}" if base else "–"
        err = fmt(r.get("max_rel_err"), ".1e")
        if r.get("checked_against") == "ref":
            err += " (vs ref)"
        if r["status"] == "mismatch":
            err += " **MISMATCH**"
        lines.append(f"| {name} | {shape} | {r['contestant']} | {r['runs']} | {wall['median']:.3f} "
                     f"| {wall['min']:.3f} | {fmt(dev and dev['median'], '.3f')} | {rate} | {ratio} "
                     f"| {err} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", help="svertka_bench_ops --json output")
    args = ap.parse_args(argv)
    with open(args.json) as f:
        data = json.load(f)
    print(table(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
