"""The shapes dataset through the shared pipeline: boxes and segmentation maps must stay aligned."""

import json
from pathlib import Path

import numpy as np
import pytest
from vk_core.dataset import BaseDataset, seed_data_rng
from vk_core.testing import make_shapes_dataset


@pytest.fixture(scope="module")
def shapes_2_0(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes_pipe")
    info = make_shapes_dataset(root, num_images=12, image_size=(160, 120), seed=9)
    coco = json.loads(Path(info["splits"]["train"]["ann_file"]).read_text())
    by_image = {}
    for a in coco["annotations"]:
        x, y, w, h = a["bbox"]
        by_image.setdefault(a["image_id"], []).append({"bbox": [x, y, x + w, y + h], "bbox_label": a["category_id"]})
    data_list = [
        {
            "img_path": im["file_name"],
            "seg_map_path": im["file_name"].replace(".jpg", ".png"),
            "instances": by_image.get(im["id"], []),
        }
        for im in coco["images"]
    ]
    ann = root / "train_2_0.json"
    ann.write_text(json.dumps({"metainfo": {"classes": list(info["classes"])}, "data_list": data_list}))
    return root, ann


@pytest.mark.parametrize(
    "geometric, tight",
    [
        ([dict(type="RandomResize", scale=(320, 240), ratio_range=(0.5, 1.5), keep_ratio=True)], True),
        ([dict(type="RandomFlip", prob=[0.3, 0.3, 0.3], direction=["horizontal", "vertical", "diagonal"])], True),
        # A box clipped by a crop is no longer the tight box of the clipped shape (no masks to recompute it).
        ([dict(type="RandomCrop", crop_size=(0.6, 0.6), crop_type="relative", allow_negative_crop=True)], False),
        ([dict(type="CenterCrop", crop_size=(100, 80)), dict(type="Pad", size_divisor=32)], False),
    ],
    ids=["resize", "flip", "random_crop", "center_crop_pad"],
)
def test_boxes_and_seg_maps_stay_aligned(shapes_2_0, geometric, tight):
    root, ann = shapes_2_0
    pipeline = [
        dict(type="LoadImageFromFile"),
        dict(type="LoadAnnotations", with_seg=True),
        *geometric,
    ]
    ds = BaseDataset(
        str(ann),
        data_root=str(root),
        data_prefix=dict(img_path="images/train", seg_map_path="masks/train"),
        pipeline=pipeline,
        test_mode=True,
    )
    seed_data_rng(0)
    checked = 0
    for i in range(len(ds)):
        out = ds[i]
        seg = out["gt_seg_map"]
        assert seg.shape == out["img"].shape[:2]
        for box, label in zip(out["gt_bboxes"], out["gt_bboxes_labels"]):
            x1, y1, x2, y2 = np.round(box).astype(int)
            if (x2 - x1) * (y2 - y1) < 30:
                continue
            window = seg[y1:y2, x1:x2]
            assert (window == label).any(), (i, box, label)  # the box holds its shape, not background
            if tight:
                # Within a pixel of rounding, the class reaches every side of its box.
                hit = seg[max(y1 - 1, 0) : y2 + 1, max(x1 - 1, 0) : x2 + 1] == label
                sides = [hit[:3].any(), hit[-3:].any(), hit[:, :3].any(), hit[:, -3:].any()]
                assert all(sides), (i, box, label, sides)
                assert (window == label).mean() > 0.2, (i, box, label)
            checked += 1
    assert checked >= 10
