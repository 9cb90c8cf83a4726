"""Images/s of the vk-det train data pipeline (dataset + transforms + PackDetInputs) against a plain floor.

Pipelines (MMDetection's RetinaNet / Faster R-CNN and Mask R-CNN train pipelines):
  boxes: LoadImageFromFile, LoadAnnotations(bbox), Resize((1333, 800), keep_ratio), RandomFlip(0.5), PackDetInputs
  masks: the same with LoadAnnotations(bbox, mask) (polygons rasterised to BitmapMasks, resized and flipped)
over the 128 coco128 train images (``../shared/data/coco128``), one thread, through CocoDataset.__getitem__.
The floor does the same pixel and box work as straight cv2/numpy/pycocotools calls, replaying the flips the
seeded vk pass drew, so the ratio is vk's overhead.

Run: ``.venv/bin/python tests/benchmarks/run.py det_pipeline``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from harness import compare

ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "coco128"
SCALE = (1333, 800)


def _dataset(with_mask: bool):
    from vk_core.registry import DefaultScope
    from vk_det.datasets import CocoDataset

    pipeline = [
        dict(type="LoadImageFromFile"),
        dict(type="LoadAnnotations", with_bbox=True, with_mask=with_mask),
        dict(type="Resize", scale=SCALE, keep_ratio=True),
        dict(type="RandomFlip", prob=0.5),
        dict(type="PackDetInputs"),
    ]
    with DefaultScope.using("vk_det"):
        return CocoDataset(
            ann_file=str(ROOT / "annotations" / "instances_train2017.json"),
            data_prefix=dict(img=str(ROOT / "images" / "train2017")),
            pipeline=pipeline,
        )


def _floor_pass(infos, flips, with_mask: bool):
    from faster_coco_eval.core import mask as mask_api

    out = None
    for info, flip in zip(infos, flips):
        with open(info["img_path"], "rb") as f:
            img = cv2.imdecode(np.frombuffer(f.read(), np.uint8), cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        factor = min(max(SCALE) / max(h, w), min(SCALE) / min(h, w))
        nw, nh = int(w * factor + 0.5), int(h * factor + 0.5)
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
        boxes = np.array([i["bbox"] for i in info["instances"]], np.float32).reshape(-1, 4)
        boxes *= np.array([nw / w, nh / h, nw / w, nh / h], np.float32)
        labels = np.array([i["bbox_label"] for i in info["instances"]], np.int64)
        masks = None
        if with_mask:
            rles = []
            for inst in info["instances"]:
                seg = inst["mask"]
                rles.append(mask_api.merge(mask_api.frPyObjects(seg, h, w)) if isinstance(seg, list) else
                            (mask_api.frPyObjects(seg, h, w) if isinstance(seg["counts"], list) else seg))  # fmt: skip
            if rles:
                masks = mask_api.decode(rles)
                masks = cv2.resize(masks, (nw, nh), interpolation=cv2.INTER_NEAREST).reshape(nh, nw, -1)
            else:
                masks = np.zeros((nh, nw, 0), np.uint8)
        if flip:
            img = cv2.flip(img, 1)
            boxes[:, [0, 2]] = nw - boxes[:, [2, 0]]
            if masks is not None:
                masks = masks[:, ::-1]
        inputs = torch.from_numpy(img).permute(2, 0, 1).contiguous()
        out = (inputs, torch.from_numpy(boxes), torch.from_numpy(labels), masks)
    return out


def main() -> None:
    if not ROOT.is_dir():
        print(f"skipped: coco128 not found at {ROOT}")
        return
    from vk_core.dataset import seed_data_rng

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    for with_mask in (False, True):
        dataset = _dataset(with_mask)
        n = len(dataset)
        infos = [dataset.get_data_info(i) for i in range(n)]

        def vk_pass(dataset=dataset, n=n):
            seed_data_rng(0)
            out = None
            for i in range(n):
                out = dataset[i]
            return out

        seed_data_rng(0)
        flips = [bool(dataset[i]["data_samples"].flip) for i in range(n)]
        last = vk_pass()
        floor = _floor_pass(infos[-1:], flips[-1:], with_mask)
        assert torch.equal(last["inputs"], floor[0]), "the floor must produce the same image"
        assert torch.allclose(last["data_samples"].gt_instances.bboxes, floor[1][~_ignored(infos[-1])], atol=1e-3)

        kind = "boxes+masks" if with_mask else "boxes"
        comp = compare(
            f"det train pipeline ({kind}), {n} coco128 images, Resize {SCALE}",
            {"plain cv2/numpy (floor)": lambda i=infos, f=flips, m=with_mask: _floor_pass(i, f, m), "vk_det": vk_pass},
            baseline="plain cv2/numpy (floor)",
            repeat=3,
            params={"images": n, "scale": SCALE, "masks": with_mask, "threads": 1},
        )
        for case in comp.cases:
            print(f"  {kind}: {case.label}: {n / case.median_s:.1f} images/s")


def _ignored(info) -> np.ndarray:
    return np.array([bool(i["ignore_flag"]) for i in info["instances"]], bool)


if __name__ == "__main__":
    main()
