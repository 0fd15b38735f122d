#!/usr/bin/python3
"""Plot benchmark JSON as PNG charts (needs matplotlib: Debian python3-matplotlib).

  bench/plot.py ops RESULTS-ops.json --out ops.png
      svertka_bench_ops output: per case, the median wall time of every contestant
      (grouped bars, log scale), the library's first; skipped contestants leave a gap.

  bench/plot.py throughput A.json [B.json ...] --out throughput.png
      images/s against batch size, one line per engine: scripts/bench_peers JSON
      (records with engine, batch, images_per_second), or `svertka bench` JSON
      (any object holding a batch and an images-per-second figure). Needs at
      least two batch sizes in some series to draw a line; one batch size gives
      a point.
"""

import argparse
import json
import os
import sys

THROUGHPUT_KEYS = ("images_per_second", "images_per_s", "img_per_s", "img_s", "throughput")


def load(path):
    with open(path) as f:
        return json.load(f)


def plot_ops(data, out, title=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases, contestants = [], []
    times = {}
    for r in data["records"]:
        # the library's entry points (sv_pool, sv_softmax, ...) share one colour, "svertka";
        # its convolution algorithms (sv_conv:direct, ...) get one each
        name = r["contestant"]
        if name.startswith("sv_"):
            name = "svertka " + name.split(":", 1)[1] if ":" in name else "svertka"
        if r["case"] not in cases:
            cases.append(r["case"])
        if name not in contestants:
            contestants.append(name)
        if r["status"] == "ok" and r["wall_ms"]:
            times[(r["case"], name)] = r["wall_ms"]["median"]
    colours = {c: f"C{i}" for i, c in enumerate(contestants)}
    fig, ax = plt.subplots(figsize=(max(8.0, 0.6 * len(cases) + 2), 4.8), dpi=80)
    labelled = set()
    for k, case in enumerate(cases):
        present = [c for c in contestants if (case, c) in times]
        width = 0.8 / max(len(present), 1)
        for i, c in enumerate(present):
            ax.bar(k + (i - (len(present) - 1) / 2) * width, times[(case, c)], width=width,
                   color=colours[c], label=None if c in labelled else c)
            labelled.add(c)
    ax.set_yscale("log")
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels([c.replace("vgg16.", "") for c in cases], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("median wall time per op (ms, log scale)")
    dev = data.get("device", {})
    batch = data.get("settings", {}).get("batch", "?")
    ax.set_title(title or f"{dev.get('name', '?')} ({dev.get('platform', '?')}), batch {batch}, "
                 f"{data.get('date', '')[:10]}", fontsize=9)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def throughput_points(data, default_label):
    """(label, batch, images/s) for every object in the JSON that holds a batch and a rate."""
    points = []

    def walk(node, label):
        if isinstance(node, dict):
            label = node.get("engine") or node.get("label") or label
            rate = next((node[k] for k in THROUGHPUT_KEYS if isinstance(node.get(k), (int, float))), None)
            if isinstance(node.get("batch"), (int, float)) and rate is not None:
                points.append((label, int(node["batch"]), float(rate)))
                return
            for v in node.values():
                walk(v, label)
        elif isinstance(node, list):
            for v in node:
                walk(v, label)

    walk(data, default_label)
    return points


def plot_throughput(paths, out, title=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = {}
    for path in paths:
        data = load(path)
        label = data.get("device", {}).get("name") if isinstance(data.get("device"), dict) else None
        if label and str(data.get("tool", "")).startswith("svertka"):
            label = f"svertka on {label}"
        for name, batch, rate in throughput_points(data, label or os.path.basename(path)):
            series.setdefault(name, {})[batch] = rate
    if not series:
        print(f"plot.py: no (batch, images/s) figures in {' '.join(paths)}", file=sys.stderr)
        return 1
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=90)
    for name, pts in series.items():
        batches = sorted(pts)
        ax.plot(batches, [pts[b] for b in batches], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ticks = sorted({b for pts in series.values() for b in pts})
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(b) for b in ticks])
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("images/s (log scale)")
    ax.set_title(title or "VGG-16 throughput", fontsize=9)
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    o = sub.add_parser("ops", help="per-case time per contestant from svertka_bench_ops JSON")
    o.add_argument("json")
    o.add_argument("--out", required=True)
    o.add_argument("--title")
    t = sub.add_parser("throughput", help="images/s against batch size")
    t.add_argument("json", nargs="+")
    t.add_argument("--out", required=True)
    t.add_argument("--title")
    args = ap.parse_args(argv)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("plot.py: skipped: matplotlib not installed (Debian: apt-get install python3-matplotlib)",
              file=sys.stderr)
        return 3
    if args.what == "ops":
        plot_ops(load(args.json), args.out, args.title)
        return 0
    return plot_throughput(args.json, args.out, args.title)


if __name__ == "__main__":
    sys.exit(main())
