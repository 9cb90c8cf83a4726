import json
from pathlib import Path

import numpy as np
import pytest
from torch.utils.data import SequentialSampler
from vk_det.datasets import AspectRatioBatchSampler, CocoDataset, CocoFormatError, VOCDataset, XMLDataset

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def _write_coco(root: Path, images, annotations, categories=None) -> Path:
    (root / "img").mkdir(parents=True, exist_ok=True)
    for img in images:
        (root / "img" / img["file_name"]).write_bytes(b"x")
    categories = categories or [dict(id=1, name="cat"), dict(id=7, name="dog")]
    path = root / "ann.json"
    path.write_text(json.dumps(dict(images=images, annotations=annotations, categories=categories)))
    return path


def _img(i, w=40, h=30):
    return dict(id=i, file_name=f"{i}.jpg", width=w, height=h)


def _ann(i, img, cat, bbox, **kw):
    return {"id": i, "image_id": img, "category_id": cat, "bbox": bbox, "area": bbox[2] * bbox[3], "iscrowd": 0, **kw}


def _dataset(path, **kw):
    kw.setdefault("metainfo", dict(classes=("cat", "dog")))
    return CocoDataset(ann_file=str(path), data_prefix=dict(img=str(path.parent / "img")), **kw)


def test_labels_follow_classes_order_and_crowd_is_ignored(tmp_path):
    anns = [
        _ann(1, 1, 7, [1, 2, 10, 5]),
        _ann(2, 1, 1, [0, 0, 4, 4], iscrowd=1),
        _ann(3, 2, 1, [5, 5, 3, 3], segmentation=[[5, 5, 8, 5, 8, 8]]),
    ]
    path = _write_coco(tmp_path, [_img(1), _img(2), _img(3)], anns)
    ds = _dataset(path, metainfo=dict(classes=("dog", "cat")))
    assert len(ds) == 3
    first = ds.get_data_info(0)
    assert first["img_path"].endswith("1.jpg") and (first["height"], first["width"]) == (30, 40)
    assert [(i["bbox"], i["bbox_label"], i["ignore_flag"]) for i in first["instances"]] == [
        ([1, 2, 11, 7], 0, 0),
        ([0, 0, 4, 4], 1, 1),
    ]
    assert ds.get_data_info(1)["instances"][0]["mask"] == [[5, 5, 8, 5, 8, 8]]
    assert ds.get_cat_ids(0) == [0, 1]
    # a subset of classes drops the other category
    only_cat = _dataset(path, metainfo=dict(classes=("cat",)))
    assert [i["bbox_label"] for i in only_cat.get_data_info(0)["instances"]] == [0]


def test_filter_cfg_empty_gt_and_min_size(tmp_path):
    anns = [_ann(1, 1, 7, [1, 2, 10, 5]), _ann(2, 3, 1, [1, 1, 5, 5])]
    path = _write_coco(tmp_path, [_img(1), _img(2), _img(3, w=10, h=10)], anns)
    assert len(_dataset(path, filter_cfg=dict(filter_empty_gt=True))) == 2
    assert len(_dataset(path, filter_cfg=dict(filter_empty_gt=True, min_size=20))) == 1
    assert len(_dataset(path, filter_cfg=dict(filter_empty_gt=True), test_mode=True)) == 3


def test_tiny_boxes_are_dropped_with_a_counted_warning(tmp_path):
    anns = [_ann(1, 1, 7, [1, 2, 0.5, 5]), _ann(2, 1, 7, [1, 2, 5, 0]), _ann(3, 1, 1, [1, 1, 5, 5])]
    path = _write_coco(tmp_path, [_img(1)], anns)
    with pytest.warns(UserWarning, match="dropped 2 boxes"):
        ds = _dataset(path)
    assert len(ds.get_data_info(0)["instances"]) == 1


@pytest.mark.parametrize(
    ("images", "anns", "match"),
    [
        ([_img(1)], [_ann(5, 1, 7, [1, 2, -3, 5])], r"ann\.json: image id 1, annotation id 5: .*negative width"),
        ([_img(1)], [_ann(6, 1, 99, [1, 2, 3, 5])], r"image id 1, annotation id 6: category_id 99 is not in"),
        (
            [_img(2)],
            [_ann(8, 2, 1, [1, 2, 3, 5], segmentation=[[1, 2, 3, 4]])],
            r"image id 2, annotation id 8: polygon 0 has 4 coordinates.*at least 3 points",
        ),
        ([_img(1)], [_ann(9, 42, 1, [1, 2, 3, 5])], r"annotation id 9 refers to image id 42"),
    ],
)
def test_bad_annotations_name_file_image_and_annotation(tmp_path, images, anns, match):
    path = _write_coco(tmp_path, images, anns)
    with pytest.raises(CocoFormatError, match=match):
        _dataset(path)


def test_missing_image_file_and_unknown_class(tmp_path):
    path = _write_coco(tmp_path, [_img(1), _img(2)], [])
    (tmp_path / "img" / "2.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"image id 2: image file not found: .*2\.jpg"):
        _dataset(path)
    assert len(_dataset(path, check_files=False)) == 2
    with pytest.raises(CocoFormatError, match=r"classes \['bird'\]"):
        _dataset(path, metainfo=dict(classes=("bird",)), check_files=False)
    with pytest.raises(FileNotFoundError, match="COCO annotation file not found"):
        _dataset(tmp_path / "none.json")


def test_shapes_dataset_loads(tmp_path):
    from vk_core.testing import make_shapes_dataset

    info = make_shapes_dataset(tmp_path, splits={"train": 4}, image_size=64, seed=0)
    split = info["splits"]["train"]
    ds = CocoDataset(
        ann_file=split["ann_file"], data_prefix=dict(img=split["img_dir"]), metainfo=dict(classes=info["classes"])
    )
    assert len(ds) == 4
    coco = json.loads(Path(split["ann_file"]).read_text())
    assert sum(len(ds.get_data_info(i)["instances"]) for i in range(4)) == len(coco["annotations"])
    assert len(ds.metainfo["palette"]) == len(info["classes"])


class _Sizes:
    def __init__(self, sizes):
        self.sizes = sizes

    def __len__(self):
        return len(self.sizes)

    def get_data_info(self, i):
        w, h = self.sizes[i]
        return dict(width=w, height=h)


def test_aspect_ratio_batch_sampler_groups_orientation():
    sizes = [(10, 20), (20, 10), (10, 20), (20, 10), (30, 10), (10, 30), (5, 5)]
    ds = _Sizes(sizes)
    sampler = SequentialSampler(ds)
    sampler.dataset = ds
    batches = list(AspectRatioBatchSampler(sampler, batch_size=2))
    assert batches[:3] == [[0, 2], [1, 3], [4, 6]]
    assert sorted(i for b in batches for i in b) == list(range(7))
    assert all(len({sizes[i][0] < sizes[i][1] for i in b}) == 1 for b in batches[:3])
    assert len(list(AspectRatioBatchSampler(sampler, 2, drop_last=True))) == 3
    with pytest.raises(ValueError, match="batch_size"):
        AspectRatioBatchSampler(sampler, 0)


def test_voc_xml_dataset(tmp_path):
    root = tmp_path / "VOC2007"
    (root / "Annotations").mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    (root / "ImageSets").mkdir()
    (root / "Annotations" / "a.xml").write_text(
        "<annotation><size><width>50</width><height>40</height></size>"
        "<object><name>dog</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax>"
        "<ymax>20</ymax></bndbox></object>"
        "<object><name>cat</name><difficult>1</difficult><bndbox><xmin>3</xmin><ymin>4</ymin><xmax>10</xmax>"
        "<ymax>12</ymax></bndbox></object>"
        "<object><name>unicorn</name><bndbox><xmin>3</xmin><ymin>4</ymin><xmax>10</xmax><ymax>12</ymax></bndbox>"
        "</object></annotation>"
    )
    (root / "ImageSets" / "train.txt").write_text("a\n")
    ds = VOCDataset(ann_file=str(root / "ImageSets" / "train.txt"), data_prefix=dict(sub_data_root=str(root)))
    info = ds.get_data_info(0)
    assert (info["width"], info["height"]) == (50, 40)
    assert [(i["bbox"], i["bbox_label"], i["ignore_flag"]) for i in info["instances"]] == [
        ([1, 2, 30, 20], 11, 0),
        ([3, 4, 10, 12], 7, 1),
    ]
    assert ds.metainfo["dataset_type"] == "VOC2007"


@pytest.mark.skipif(not (DATA / "bccd").is_dir(), reason="../shared/data/bccd is absent")
def test_bccd_voc_and_coco_agree():
    root = DATA / "bccd"
    classes = ("RBC", "WBC", "Platelets")
    voc = XMLDataset(
        ann_file=str(root / "BCCD" / "ImageSets" / "Main" / "val.txt"),
        data_prefix=dict(sub_data_root=str(root / "BCCD")),
        metainfo=dict(classes=classes),
        test_mode=True,
    )
    assert len(voc) == 87
    n_boxes = sum(len(voc.get_data_info(i)["instances"]) for i in range(len(voc)))
    coco = json.loads((root / "annotations" / "instances_val.json").read_text())
    # the COCO copy drops zero-size boxes and clips, so counts agree to a couple of boxes
    assert abs(n_boxes - len(coco["annotations"])) <= 2
    assert np.all([voc.get_data_info(i)["width"] == 640 for i in range(3)])
