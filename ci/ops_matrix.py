"""Reads one row of ci/ops_matrix.yaml and prints it as shell assignments for build_ops_wheels.sh.

python ci/ops_matrix.py ROW     ->  ROW_TORCH=... ROW_CUDA=... ROW_ARCHS=... ROW_INDEX_URL=...
python ci/ops_matrix.py --list  ->  the row ids
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import yaml

MATRIX = Path(__file__).resolve().parent / "ops_matrix.yaml"


def load() -> tuple[dict, list[dict]]:
    data = yaml.safe_load(MATRIX.read_text())
    return data.get("defaults", {}), data["rows"]


def main(argv: list[str]) -> int:
    defaults, rows = load()
    ids = [r["id"] for r in rows]
    if argv == ["--list"]:
        print("\n".join(ids))
        return 0
    if len(argv) != 1:
        print("usage: ops_matrix.py ROW | --list", file=sys.stderr)
        return 2
    row = next((r for r in rows if r["id"] == argv[0]), None)
    if row is None:
        print(f"{MATRIX}: no row {argv[0]!r}; rows are: {', '.join(ids)}", file=sys.stderr)
        return 2
    values = {
        "ROW_TORCH": str(row.get("torch", "current")),
        "ROW_CUDA": "" if row.get("cuda") is None else str(row["cuda"]),
        "ROW_ARCHS": str(row.get("cuda_arch_list", defaults.get("cuda_arch_list", ""))),
        "ROW_INDEX_URL": str(row.get("index_url", "")),
        "ROW_CUDA_HOME": str(row.get("cuda_home", "")),
    }
    for key, value in values.items():
        print(f"{key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
