"""A progress iterator: a rich bar on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import sys


def track(items, total: int | None = None, description: str = "working"):
    total = len(items) if total is None else total
    if sys.stderr.isatty() and total > 1:
        from rich.progress import track as rich_track

        yield from rich_track(items, total=total, description=description, transient=True)
        return
    step = max(total // 10, 1)
    for i, item in enumerate(items):
        yield item
        if total > 1 and ((i + 1) % step == 0 or i + 1 == total):
            print(f"{description}: {i + 1}/{total}", file=sys.stderr)
