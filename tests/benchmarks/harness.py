"""Timing harness shared by every benchmark in this folder.

A benchmark times several callables in one process, one of them the baseline (a raw PyTorch loop, a reference
op, the previous implementation). Runs are interleaved round-robin so that machine noise hits every case alike,
and each case is summarised by its median. Results are ratios against the baseline measured in the same run;
absolute times are reported for context only.

    from harness import compare
    compare("bbox_overlaps 1000x1000", {"reference": ref, "kernel": fast}, baseline="reference")
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_DIR = Path(os.environ.get("VK_BENCH_DIR", Path(__file__).resolve().parents[2] / "bench-results"))


@dataclass
class CaseResult:
    label: str
    median_s: float
    min_s: float
    runs: int
    ratio_to_baseline: float  # baseline median / this median: > 1 means faster than the baseline


@dataclass
class Comparison:
    name: str
    baseline: str
    cases: list[CaseResult]
    params: dict = field(default_factory=dict)

    def case(self, label: str) -> CaseResult:
        return next(c for c in self.cases if c.label == label)


_SESSION: list[Comparison] = []


def _time_once(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def compare(
    name: str,
    cases: dict[str, Callable[[], object]],
    baseline: str,
    *,
    repeat: int = 7,
    warmup: int = 1,
    number: int = 1,
    params: dict | None = None,
) -> Comparison:
    """Times each callable ``repeat`` times (after ``warmup`` untimed calls), interleaved, and records medians.

    ``number`` calls are timed together per run for callables too fast to time singly.
    """
    if baseline not in cases:
        raise ValueError(f"compare({name!r}): baseline {baseline!r} is not one of the cases {list(cases)}")
    if repeat < 1:
        raise ValueError(f"compare({name!r}): repeat must be >= 1, got {repeat}")
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(repeat):
        for label, fn in cases.items():
            samples[label].append(_time_once(fn, number))
    base_median = statistics.median(samples[baseline])
    results = [
        CaseResult(label, statistics.median(times), min(times), len(times), base_median / statistics.median(times))
        for label, times in samples.items()
    ]
    comparison = Comparison(name, baseline, results, dict(params or {}))
    _SESSION.append(comparison)
    return comparison


def format_table(comparisons: list[Comparison]) -> str:
    rows = [("benchmark", "case", "median ms", "min ms", "runs", "speed vs baseline")]
    for comp in comparisons:
        for case in comp.cases:
            tag = " (baseline)" if case.label == comp.baseline else ""
            rows.append(
                (
                    comp.name,
                    case.label + tag,
                    f"{case.median_s * 1e3:.3f}",
                    f"{case.min_s * 1e3:.3f}",
                    str(case.runs),
                    f"{case.ratio_to_baseline:.2f}x",
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def session_results() -> list[Comparison]:
    return list(_SESSION)


def write_json(comparisons: list[Comparison], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "comparisons": [asdict(c) for c in comparisons],
    }
    path.write_text(json.dumps(payload, indent=2))
    return path
