"""``vk analyze-logs``: plot curves from and compute training time statistics of ``scalars.json`` logs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "plot curves (plot_curve) or compute training time (cal_train_time) from vis_data/scalars.json logs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="task", metavar="TASK", required=True)
    plot = sub.add_parser("plot_curve", help="plot scalar curves to an image")
    plot.add_argument("json_logs", nargs="+", help="scalars.json files")
    plot.add_argument("--keys", nargs="+", default=["loss"], help="scalars to plot")
    plot.add_argument("--legend", nargs="+", default=None, help="one legend entry per (log, key)")
    plot.add_argument("--title", default=None)
    plot.add_argument("--out", default="curve.png", help="output image (PNG, PDF, ...)")
    timing = sub.add_parser("cal_train_time", help="average iteration time per epoch")
    timing.add_argument("json_logs", nargs="+", help="scalars.json files")
    timing.add_argument("--include-outliers", action="store_true", help="keep the first iteration of each epoch")


def load_json_log(path) -> list[dict]:
    """The records of a JSON-lines log, with the file and line of any malformed line in the error."""
    records = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not a JSON object: {exc.msg}") from None
    return records


def train_time_stats(records: list[dict], include_outliers: bool = False) -> dict:
    """Per-epoch mean of ``time`` over training records (those with ``lr``); returns the summary."""
    per_epoch: dict[int, list[float]] = {}
    for rec in records:
        if "time" in rec and "lr" in rec:
            per_epoch.setdefault(int(rec.get("epoch", 1)), []).append(float(rec["time"]))
    if not per_epoch:
        raise ValueError("no training records with 'time' found")
    means = {}
    for epoch, times in per_epoch.items():
        if not include_outliers and len(times) > 1:
            times = times[1:]
        means[epoch] = sum(times) / len(times)
    values = list(means.values())
    avg = sum(values) / len(values)
    std = (sum((v - avg) ** 2 for v in values) / len(values)) ** 0.5
    slowest = max(means, key=means.get)
    fastest = min(means, key=means.get)
    return {"per_epoch": means, "slowest": slowest, "fastest": fastest, "std": std, "average": avg}


def plot_curve(logs: list[list[dict]], names: list[str], keys: list[str], out: str, legend=None, title=None) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise SystemExit("vk analyze-logs plot_curve needs matplotlib: pip install 'vk-core[plot]'") from exc
    labels = legend or [f"{Path(n).parent.parent.name or n}_{k}" for n in names for k in keys]
    if len(labels) != len(names) * len(keys):
        raise SystemExit(f"--legend needs {len(names) * len(keys)} entries (logs x keys), got {len(labels)}")
    fig, ax = plt.subplots(figsize=(8, 5))
    i = 0
    only_val = True
    for name, records in zip(names, logs):
        for key in keys:
            plotted = [r for r in records if key in r and "step" in r]
            if not plotted:
                raise SystemExit(f"{name}: no record has the key {key!r}")
            # Validation records carry no learning rate; epoch-based runs log them with step = epoch.
            only_val = only_val and not any("lr" in r for r in plotted)
            ax.plot(
                [r["step"] for r in plotted],
                [r[key] for r in plotted],
                label=labels[i],
                marker="o" if len(plotted) < 50 else None,
            )
            i += 1
    ax.set_xlabel("validation step (epoch for epoch-based runs)" if only_val else "iteration")
    ax.legend()
    if title:
        ax.set_title(title)
    fig.savefig(out)
    plt.close(fig)
    return out


def run(args) -> int:
    logs = [load_json_log(p) for p in args.json_logs]
    if args.task == "plot_curve":
        out = plot_curve(logs, args.json_logs, args.keys, args.out, args.legend, args.title)
        print(f"saved {out}")
        return 0
    for name, records in zip(args.json_logs, logs):
        stats = train_time_stats(records, args.include_outliers)
        print(f"-----Analyze train time of {name}-----")
        print(f"slowest epoch {stats['slowest']}, average time is {stats['per_epoch'][stats['slowest']]:.4f} s/iter")
        print(f"fastest epoch {stats['fastest']}, average time is {stats['per_epoch'][stats['fastest']]:.4f} s/iter")
        print(f"time std over epochs is {stats['std']:.4f}")
        print(f"average iter time: {stats['average']:.4f} s/iter")
    return 0
