"""Real COCO images (../shared/data/coco128) through the shared vk_core data pipeline."""

import json
from pathlib import Path

import numpy as np
import pytest
from torch.utils.data import DataLoader
from vk_core.dataset import BaseDataset, DefaultSampler, pseudo_collate, seed_data_rng

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "coco128"
pytestmark = pytest.mark.skipif(not (DATA / "annotations").is_dir(), reason=f"coco128 not found at {DATA}")

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def coco_to_2_0(coco_file: Path, out: Path, limit: int) -> Path:
    """Writes the 2.0 annotation format (what BaseDataset reads) from a COCO instances file."""
    coco = json.loads(coco_file.read_text())
    cat_ids = [c["id"] for c in coco["categories"]]
    label = {cid: i for i, cid in enumerate(cat_ids)}
    by_image: dict[int, list] = {}
    for a in coco["annotations"]:
        if a.get("iscrowd", 0):
            continue
        x, y, w, h = a["bbox"]
        if w < 1 or h < 1:
            continue
        by_image.setdefault(a["image_id"], []).append(
            {"bbox": [x, y, x + w, y + h], "bbox_label": label[a["category_id"]]}
        )
    data_list = [
        {"img_path": im["file_name"], "height": im["height"], "width": im["width"], "instances": by_image[im["id"]]}
        for im in coco["images"]
        if im["id"] in by_image
    ][:limit]
    meta = {"classes": [c["name"] for c in coco["categories"]]}
    out.write_text(json.dumps({"metainfo": meta, "data_list": data_list}))
    return out


def train_pipeline():
    return [
        dict(type="LoadImageFromFile"),
        dict(type="LoadAnnotations"),
        dict(type="RandomResize", scale=(640, 480), ratio_range=(0.5, 1.0), keep_ratio=True),
        dict(type="RandomFlip", prob=0.5),
        dict(type="Pad", size_divisor=32),
        dict(type="Normalize", mean=MEAN, std=STD),
    ]


@pytest.fixture(scope="module")
def ann_file(tmp_path_factory):
    return coco_to_2_0(
        DATA / "annotations" / "instances_train2017.json", tmp_path_factory.mktemp("c128") / "ann.json", 24
    )


def test_full_pipeline_on_real_images(ann_file):
    seed_data_rng(0)
    ds = BaseDataset(
        str(ann_file), data_root=str(DATA), data_prefix=dict(img_path="images/train2017"), pipeline=train_pipeline()
    )
    assert len(ds) == 24 and len(ds.metainfo["classes"]) == 80
    flips = 0
    for i in range(len(ds)):
        raw = ds.get_data_info(i)
        out = ds[i]
        h0, w0 = out["ori_shape"]
        assert (h0, w0) == (raw["height"], raw["width"])
        img = out["img"]
        assert img.dtype == np.float32 and img.shape[0] % 32 == 0 and img.shape[1] % 32 == 0
        sh, sw = out["scale_factor"][1], out["scale_factor"][0]
        rh, rw = round(h0 * sh), round(w0 * sw)
        assert max(rh, rw) <= 640 + 1 and min(rh, rw) <= 480 + 1 and max(rh, rw) >= 320 - 1
        # Boxes follow the image: scaled, mirrored when flipped, inside the resized (unpadded) area.
        orig = np.array([inst["bbox"] for inst in raw["instances"]], np.float32)
        expected = orig * np.array([sw, sh, sw, sh], np.float32)
        expected[:, 0::2] = np.clip(expected[:, 0::2], 0, rw)
        expected[:, 1::2] = np.clip(expected[:, 1::2], 0, rh)
        if out["flip"]:
            flips += 1
            expected[:, [0, 2]] = rw - expected[:, [2, 0]]
        np.testing.assert_allclose(out["gt_bboxes"], expected, atol=0.6)
        assert out["gt_bboxes_labels"].tolist() == [inst["bbox_label"] for inst in raw["instances"]]
        # Padding is zero before normalisation, i.e. -mean/std after it (RGB order).
        if img.shape[0] > rh:
            np.testing.assert_allclose(img[-1, 0], -np.array(MEAN) / np.array(STD), atol=1e-4)
    assert 0 < flips < len(ds)


def test_dataloader_with_workers_and_sampler(ann_file):
    ds = BaseDataset(
        str(ann_file), data_root=str(DATA), data_prefix=dict(img_path="images/train2017"), pipeline=train_pipeline()
    )
    loader = DataLoader(ds, batch_size=4, sampler=DefaultSampler(ds, seed=0), num_workers=2, collate_fn=pseudo_collate)
    # Raw annotation lists differ in length per image, so they cannot be transposed (a Pack transform drops them).
    with pytest.raises(
        RuntimeError, match="pseudo_collate: key 'instances': sample 0 has .* elements but sample 1 has"
    ):
        next(iter(DataLoader(ds, batch_size=4, collate_fn=pseudo_collate)))
    ds.pipeline.transforms.append(lambda r: {k: v for k, v in r.items() if k != "instances"})
    batches = list(loader)
    assert len(batches) == 6
    assert sorted(i for b in batches for i in b["sample_idx"]) == list(range(24))
    assert all(len(b["img"]) == 4 for b in batches)


def test_corrupt_image_inside_dataset_names_file_and_index(ann_file, tmp_path):
    data = json.loads(Path(ann_file).read_text())
    data["data_list"][3]["img_path"] = "does_not_exist.jpg"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    ds = BaseDataset(
        str(bad),
        data_root=str(DATA),
        data_prefix=dict(img_path="images/train2017"),
        pipeline=train_pipeline()[:1],
        test_mode=True,
    )
    with pytest.raises(FileNotFoundError, match=r"BaseDataset\[3\]: image file not found: .*does_not_exist.jpg"):
        ds[3]
