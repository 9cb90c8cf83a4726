"""BaseDataset memory in DataLoader workers, with and without ``serialize_data``.

A dataset of N annotation entries (default 500,000, env ``VK_BENCH_MEM_ENTRIES``) is read for one full epoch by a
DataLoader with 4 workers. For each setting we sum, over the workers, the growth of USS (memory private to the
process) and PSS (private plus a fair share of shared pages) between the first batch and the end of the epoch.
Python objects are copied page by page into each worker as reference counts are written; one serialised numpy
buffer is only read, so its pages stay shared with the main process.

Run: ``.venv/bin/python tests/benchmarks/run.py dataset_memory``. Besides the timing table (epoch time, with
serialisation as the baseline) it prints the memory table and writes ``bench-results/dataset_memory.json``.
"""

from __future__ import annotations

import gc
import json
import os
import time

import numpy as np
import psutil
from harness import RESULTS_DIR, compare
from torch.utils.data import DataLoader
from vk_core.dataset import BaseDataset

N = int(os.environ.get("VK_BENCH_MEM_ENTRIES", "500000"))
WORKERS = 4
BATCH = 500


class SyntheticDetDataset(BaseDataset):
    """N detection-style entries built in memory (skips parsing a ~100 MB JSON file; the layout is the same)."""

    def __init__(self, n: int, **kwargs):
        self.n = n
        super().__init__(ann_file="synthetic", **kwargs)

    def load_data_list(self):
        rng = np.random.default_rng(0)
        boxes = rng.uniform(0, 600, size=(self.n, 3, 4)).round(1).tolist()
        labels = rng.integers(0, 80, size=(self.n, 3)).tolist()
        return [
            {
                "img_path": f"data/coco/train2017/{i:012d}.jpg",
                "img_id": i,
                "height": 480,
                "width": 640,
                "instances": [
                    {"bbox": boxes[i][k], "bbox_label": labels[i][k], "ignore_flag": 0} for k in range(1 + i % 3)
                ],
            }
            for i in range(self.n)
        ]


def _identity_keys(batch):
    # Return something tiny so the IPC cost does not dominate; the worker has still deserialised every entry.
    return len(batch)


def _mem(pids):
    out = []
    for pid in pids:
        info = psutil.Process(pid).memory_full_info()
        out.append((info.uss, info.pss))
    return np.array(out, dtype=np.float64)


def _epoch(dataset, freeze: bool) -> dict:
    loader = DataLoader(dataset, batch_size=BATCH, num_workers=WORKERS, collate_fn=_identity_keys, shuffle=True)
    if freeze:
        # Objects alive before the fork go to the permanent generation: a collection in a worker then never
        # writes to their pages (it would otherwise touch every tracked object the worker inherited).
        gc.collect()
        gc.freeze()
    try:
        return _measure(loader, len(dataset))
    finally:
        if freeze:
            gc.unfreeze()


def _measure(loader, size: int) -> dict:
    it = iter(loader)
    total = len(loader)
    seen = next(it)
    pids = [w.pid for w in it._workers]
    start = _mem(pids)
    t0 = time.perf_counter()
    for i, n in enumerate(it, start=2):
        seen += n
        if i == total - WORKERS:  # every worker is on its last batches: its pages have all been touched
            end = _mem(pids)
    elapsed = time.perf_counter() - t0
    assert seen == size, (seen, size)
    growth = (end - start).sum(axis=0) / 2**20
    return {"uss_growth_mb": round(growth[0], 1), "pss_growth_mb": round(growth[1], 1), "epoch_s": round(elapsed, 2)}


def main() -> None:
    results = {}
    datasets = {}
    for serialize in (True, False):
        t0 = time.perf_counter()
        ds = SyntheticDetDataset(N, serialize_data=serialize)
        build = time.perf_counter() - t0
        main_rss = psutil.Process().memory_info().rss / 2**20
        for freeze in (False, True):
            stats = _epoch(ds, freeze)
            stats.update(build_s=round(build, 2), main_rss_mb=round(main_rss, 1))
            results[f"serialize_data={serialize}, gc.freeze={freeze}"] = stats
        datasets[serialize] = ds
        del ds

    print(f"\nBaseDataset with {N:,} entries, DataLoader with {WORKERS} workers, one epoch (sum over workers)")
    print(f"{'setting':<40}{'USS growth MB':>15}{'PSS growth MB':>15}{'epoch s':>10}{'build s':>10}")
    for name, s in results.items():
        print(f"{name:<40}{s['uss_growth_mb']:>15}{s['pss_growth_mb']:>15}{s['epoch_s']:>10}{s['build_s']:>10}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "dataset_memory.json").write_text(
        json.dumps({"entries": N, "workers": WORKERS, "batch_size": BATCH, "results": results}, indent=2)
    )

    # Random access cost of one entry, the price of serialisation (deserialise vs deepcopy).
    ser, plain = datasets[True], datasets[False]
    idx = np.random.default_rng(1).integers(0, N, size=2000).tolist()
    compare(
        f"get_data_info x2000 ({N:,} entries)",
        {
            "deepcopy (serialize_data=False)": lambda: [plain.get_data_info(i) for i in idx],
            "unpickle (serialize_data=True)": lambda: [ser.get_data_info(i) for i in idx],
        },
        baseline="deepcopy (serialize_data=False)",
        repeat=5,
    )


if __name__ == "__main__":
    main()
