"""Runs the benchmarks in this folder: ``python tests/benchmarks/run.py [NAME_SUBSTRING ...]``.

Each ``bench_*.py`` module defines ``main()``, which calls :func:`harness.compare`. Prints one table and writes
``bench-results/<module>.json`` per module plus ``bench-results/all.json``.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def main(argv: list[str]) -> int:
    modules = sorted(HERE.glob("bench_*.py"))
    if argv:
        modules = [m for m in modules if any(sub in m.stem for sub in argv)]
    failed = []
    for path in modules:
        before = len(harness.session_results())
        print(f"== {path.stem}", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
            module.main()
        except Exception:
            traceback.print_exc()
            failed.append(path.stem)
            continue
        harness.write_json(harness.session_results()[before:], harness.RESULTS_DIR / f"{path.stem}.json")
    results = harness.session_results()
    print()
    print(harness.format_table(results))
    out = harness.write_json(results, harness.RESULTS_DIR / "all.json")
    print(f"\nwrote {out}")
    if failed:
        print(f"failed benchmarks: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
