"""Throughput of a detection-style train pipeline against the same work written as plain cv2 calls (the floor).

Pipeline: LoadImageFromFile, RandomResize(keep_ratio), RandomFlip(0.5), Pad(size_divisor=32), Normalize, over the
coco128 images (``../shared/data/coco128``), one thread. The cv2 version replays exactly the scales and flips the
vk pipeline drew (same seed every run), so both do identical pixel work; the ratio measures vk's overhead.

Run: ``.venv/bin/python tests/benchmarks/run.py bench_pipeline``.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import torch
from harness import compare
from vk_core.dataset import Compose, seed_data_rng

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "coco128" / "images" / "train2017"
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def _vk_pipeline(scale, ratio_range):
    return Compose(
        [
            dict(type="LoadImageFromFile"),
            dict(type="RandomResize", scale=scale, ratio_range=ratio_range, keep_ratio=True),
            dict(type="RandomFlip", prob=0.5),
            dict(type="Pad", size_divisor=32),
            dict(type="Normalize", mean=MEAN, std=STD, to_rgb=True),
        ]
    )


def _cv2_pass(paths, params, mean, std_inv):
    out = None
    for path, ((new_w, new_h), flip) in zip(paths, params):
        with open(path, "rb") as f:
            img = cv2.imdecode(np.frombuffer(f.read(), np.uint8), cv2.IMREAD_COLOR)
        img = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        if flip:
            img = cv2.flip(img, 1)
        pad_h, pad_w = math.ceil(new_h / 32) * 32 - new_h, math.ceil(new_w / 32) * 32 - new_w
        img = cv2.copyMakeBorder(img, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        img = img.astype(np.float32)
        cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
        cv2.subtract(img, mean, img)
        cv2.multiply(img, std_inv, img)
        out = img
    return out


def main() -> None:
    if not DATA.is_dir():
        print(f"skipped: coco128 images not found at {DATA}")
        return
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    paths = sorted(str(p) for p in DATA.glob("*.jpg"))
    mean = np.array(MEAN, dtype=np.float64).reshape(1, -1)
    std_inv = 1.0 / np.array(STD, dtype=np.float64).reshape(1, -1)
    for scale, ratio in [((1333, 800), (0.5, 1.0)), ((640, 480), (0.5, 1.0))]:
        pipeline = _vk_pipeline(scale, ratio)

        def vk_pass(pipeline=pipeline):
            seed_data_rng(0)
            out = None
            for p in paths:
                out = pipeline({"img_path": p})
            return out

        # Record what the seeded vk pass drew, so the floor does exactly the same resizes and flips.
        seed_data_rng(0)
        params = []
        for p in paths:
            r = pipeline({"img_path": p})
            (h, w), (sw, sh) = r["ori_shape"], r["scale_factor"]
            params.append(((round(w * sw), round(h * sh)), r["flip"]))
        check = _cv2_pass(paths[-1:], params[-1:], mean, std_inv)
        assert np.allclose(check, vk_pass()["img"], atol=1e-4), "the cv2 floor must produce the same image"

        comp = compare(
            f"det train pipeline, {len(paths)} coco128 images, scale {scale} ratio {ratio}",
            {"plain cv2 (floor)": lambda params=params: _cv2_pass(paths, params, mean, std_inv), "vk_core": vk_pass},
            baseline="plain cv2 (floor)",
            repeat=7,
            params={"images": len(paths), "scale": scale, "ratio_range": ratio, "threads": 1},
        )
        floor = comp.case("plain cv2 (floor)")
        for case in comp.cases:
            print(
                f"  {case.label}: {len(paths) / case.median_s:.1f} images/s (median), "
                f"speed vs floor {floor.median_s / case.median_s:.2f} by median, {floor.min_s / case.min_s:.2f} by best run"
            )


if __name__ == "__main__":
    main()
