import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from vk_core.testing import SHAPES_CLASSES, make_shapes_dataset


def _digest(root: Path) -> dict:
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    return make_shapes_dataset(root, num_images=10, image_size=(160, 128), seed=3)


def test_layout_and_split(shapes):
    root = Path(shapes["root"])
    assert set(shapes["splits"]) == {"train", "val"}
    assert shapes["splits"]["train"]["num_images"] == 8 and shapes["splits"]["val"]["num_images"] == 2
    assert len(list((root / "images" / "train").glob("*.jpg"))) == 8
    assert len(list((root / "masks" / "val").glob("*.png"))) == 2
    img = cv2.imread(str(root / "images" / "train" / "000001.jpg"))
    assert img.shape == (128, 160, 3)
    meta = json.loads((root / "classes.json").read_text())
    assert meta["classes"] == list(SHAPES_CLASSES) and meta["ids"] == [1, 2, 3, 4]


def test_deterministic_per_seed(tmp_path):
    a = make_shapes_dataset(tmp_path / "a", 4, 64, seed=1)
    b = make_shapes_dataset(tmp_path / "b", 4, 64, seed=1)
    c = make_shapes_dataset(tmp_path / "c", 4, 64, seed=2)
    da, db, dc = _digest(Path(a["root"])), _digest(Path(b["root"])), _digest(Path(c["root"]))
    assert da == db
    assert da["images/train/000001.jpg"] != dc["images/train/000001.jpg"]


def test_explicit_splits_are_independent(tmp_path):
    a = make_shapes_dataset(tmp_path / "a", None, 64, seed=5, splits={"train": 2, "val": 1})
    b = make_shapes_dataset(tmp_path / "b", None, 64, seed=5, splits={"train": 3, "val": 1})
    assert (Path(a["root"]) / "images/val/000001.jpg").read_bytes() == (
        Path(b["root"]) / "images/val/000001.jpg"
    ).read_bytes()
    assert (Path(a["root"]) / "images/train/000002.jpg").read_bytes() == (
        Path(b["root"]) / "images/train/000002.jpg"
    ).read_bytes()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_images=0), "num_images must be an int >= 1"),
        (dict(image_size=(10, 64)), "image sizes must be ints >= 32"),
        (dict(splits={"train": -1}), r"splits\['train'\] must be an int >= 0"),
        (dict(min_shapes=3, max_shapes=2), "min_shapes <= max_shapes"),
        (dict(seed=-1), "seed must be an int >= 0"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    args = dict(num_images=2, image_size=64, seed=0) | kwargs
    with pytest.raises(ValueError, match=match):
        make_shapes_dataset(tmp_path, **args)


def test_pycocotools_reads_and_masks_match_drawn_pixels(shapes):
    from pycocotools.coco import COCO

    root = Path(shapes["root"])
    for split, info in shapes["splits"].items():
        coco = COCO(info["ann_file"])
        assert sorted(c["name"] for c in coco.loadCats(coco.getCatIds())) == sorted(SHAPES_CLASSES)
        assert len(coco.getImgIds()) == info["num_images"]
        for img_id in coco.getImgIds():
            meta = coco.loadImgs(img_id)[0]
            semantic = cv2.imread(str(root / "masks" / split / meta["file_name"].replace(".jpg", ".png")), -1)
            assert semantic.shape == (meta["height"], meta["width"]) and semantic.dtype == np.uint8
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
            assert len(anns) >= 1
            union = np.zeros_like(semantic)
            for ann in anns:
                assert ann["iscrowd"] == 0 and ann["area"] > 0
                mask = coco.annToMask(ann).astype(bool)
                drawn = semantic == ann["category_id"]
                # The polygon rasterises onto this instance's own pixels (same class in the semantic map).
                inside = (mask & drawn).sum() / mask.sum()
                assert inside > 0.99, (split, img_id, ann["id"], inside)
                assert abs(int(mask.sum()) - ann["area"]) <= 0.02 * ann["area"] + 2
                x, y, w, h = ann["bbox"]
                ys, xs = np.nonzero(mask)
                assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x, y, x + w, y + h)
                union[mask] = ann["category_id"]
            # Together the instances cover the labelled pixels of the semantic mask.
            labelled = semantic > 0
            assert (union[labelled] > 0).mean() > 0.99
            assert (union == semantic).mean() > 0.99


def test_shapes_are_visible_against_background(shapes):
    root = Path(shapes["root"])
    img = cv2.imread(str(root / "images/train/000001.jpg")).astype(np.float32)
    sem = cv2.imread(str(root / "masks/train/000001.png"), -1)
    hsv = cv2.cvtColor(img / 255.0, cv2.COLOR_BGR2HSV)
    fg_sat, bg_sat = hsv[..., 1][sem > 0].mean(), hsv[..., 1][sem == 0].mean()
    assert fg_sat > bg_sat + 0.3
