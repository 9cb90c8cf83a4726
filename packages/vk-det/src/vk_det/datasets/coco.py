"""CocoDataset: COCO instance JSON to vk data items, with errors that name the file, image and annotation."""

from __future__ import annotations

import json
import logging
import os.path as osp
import warnings

from ..registry import DATASETS
from .base_det_dataset import BaseDetDataset

COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip


def make_palette(num_classes: int, seed: int = 42) -> list[tuple[int, int, int]]:
    """A fixed pseudo-random RGB palette so that a class keeps its colour across runs."""
    import numpy as np

    rng = np.random.RandomState(seed)
    colors = rng.randint(0, 256, size=(max(num_classes, 1), 3))
    return [tuple(int(c) for c in color) for color in colors[:num_classes]]


class CocoFormatError(ValueError):
    """A COCO annotation file that cannot be used as is."""


def load_coco_json(path: str) -> dict:
    if not osp.isfile(path):
        raise FileNotFoundError(f"COCO annotation file not found: {path}")
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as exc:
            raise CocoFormatError(f"{path}: not valid JSON ({exc})") from exc
    for key in ("images", "categories"):
        if key not in data:
            raise CocoFormatError(f"{path}: a COCO instance file needs the key {key!r}; found {sorted(data)}")
    data.setdefault("annotations", [])
    return data


@DATASETS.register_module()
class CocoDataset(BaseDetDataset):
    """COCO-format instance dataset.

    Category ids map to contiguous labels in ``metainfo['classes']`` order; passing ``metainfo=dict(classes=...)``
    selects a subset (other categories are dropped). Crowd boxes become ``ignore_flag=1``. Boxes under one pixel
    or with zero area are dropped with one warning that counts them, as MMDetection drops them.
    ``check_files=True`` stats every image at load time so a missing file is reported with its image id.
    """

    METAINFO = {"classes": COCO_CLASSES, "palette": make_palette(len(COCO_CLASSES))}

    def __init__(self, *args, check_files: bool = True, **kwargs):
        self.check_files = check_files
        self.num_dropped_boxes = 0
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> list[dict]:
        path = self.ann_file
        coco = load_coco_json(path)
        classes = tuple(self.metainfo["classes"])
        by_name = {}
        cat_ids = set()
        for cat in coco["categories"]:
            cat_ids.add(cat["id"])
            by_name.setdefault(cat["name"], cat["id"])
        if not classes:
            classes = tuple(c["name"] for c in coco["categories"])
            self._metainfo["classes"] = classes
        self._fit_palette(classes)
        missing = [c for c in classes if c not in by_name]
        if missing:
            raise CocoFormatError(
                f"{path}: classes {missing} from metainfo are not in the file's categories "
                f"{sorted(by_name)[:20]}{'...' if len(by_name) > 20 else ''}"
            )
        self.cat_ids = [by_name[c] for c in classes]
        self.cat2label = {cat_id: i for i, cat_id in enumerate(self.cat_ids)}

        anns_by_img: dict = {}
        for ann in coco["annotations"]:
            anns_by_img.setdefault(ann.get("image_id"), []).append(ann)
        image_ids = {img["id"] for img in coco["images"]}
        orphans = [a.get("id") for a in coco["annotations"] if a.get("image_id") not in image_ids]
        if orphans:
            raise CocoFormatError(
                f"{path}: annotation id {orphans[0]} refers to image id "
                f"{next(a['image_id'] for a in coco['annotations'] if a.get('id') == orphans[0])!r}, "
                f"which is not in 'images' ({len(orphans)} such annotations)"
            )

        self.num_dropped_boxes = 0
        self._ids_in_cat: set = set()
        data_list = []
        for img in coco["images"]:
            info = self.parse_data_info(dict(raw_img_info=img, raw_ann_info=anns_by_img.get(img["id"], [])), cat_ids)
            data_list.append(info)
        if self.num_dropped_boxes:
            msg = f"{path}: dropped {self.num_dropped_boxes} boxes narrower or shorter than 1 pixel or with zero area"
            warnings.warn(msg, stacklevel=2)
            from vk_core.logging import print_log

            print_log(msg, logger="current", level=logging.WARNING)
        return data_list

    def parse_data_info(self, raw: dict, known_cat_ids: set | None = None) -> dict:
        path = self.ann_file
        img = raw["raw_img_info"]
        img_id = img["id"]
        for key in ("file_name", "height", "width"):
            if key not in img:
                raise CocoFormatError(f"{path}: image id {img_id} has no {key!r}")
        img_path = self.join_img(img["file_name"])
        if self.check_files and not osp.isfile(img_path):
            raise FileNotFoundError(f"{path}: image id {img_id}: image file not found: {img_path}")
        info = dict(img_id=img_id, img_path=img_path, height=img["height"], width=img["width"])
        seg_prefix = self.data_prefix.get("seg")
        if seg_prefix:
            info["seg_map_path"] = osp.join(seg_prefix, osp.splitext(img["file_name"])[0] + self.seg_map_suffix)
        instances = []
        for ann in raw["raw_ann_info"]:
            ann_id = ann.get("id")
            where = f"{path}: image id {img_id}, annotation id {ann_id}"
            cat_id = ann.get("category_id")
            if known_cat_ids is not None and cat_id not in known_cat_ids:
                raise CocoFormatError(f"{where}: category_id {cat_id!r} is not in 'categories'")
            if cat_id not in self.cat2label:
                continue  # a category outside the selected classes
            self._ids_in_cat.add(img_id)
            bbox = ann.get("bbox")
            if bbox is None or len(bbox) != 4:
                raise CocoFormatError(f"{where}: 'bbox' must be [x, y, w, h], got {bbox!r}")
            x, y, w, h = bbox
            if w < 0 or h < 0:
                raise CocoFormatError(f"{where}: box [x, y, w, h] = {bbox} has a negative width or height")
            seg = ann.get("segmentation")
            if isinstance(seg, list):
                for k, poly in enumerate(seg):
                    if len(poly) < 6 or len(poly) % 2:
                        raise CocoFormatError(
                            f"{where}: polygon {k} has {len(poly)} coordinates; a polygon needs at least "
                            "3 points (6 numbers, x/y pairs)"
                        )
            inter_w = max(0, min(x + w, img["width"]) - max(x, 0))
            inter_h = max(0, min(y + h, img["height"]) - max(y, 0))
            if inter_w * inter_h == 0 or ann.get("area", w * h) <= 0 or w < 1 or h < 1:
                self.num_dropped_boxes += 1
                continue
            instance = dict(
                bbox=[x, y, x + w, y + h],
                bbox_label=self.cat2label[cat_id],
                ignore_flag=1 if ann.get("iscrowd", 0) else 0,
            )
            if seg:
                instance["mask"] = seg
            instances.append(instance)
        info["instances"] = instances
        return info

    def filter_data(self) -> list[dict]:
        """Apply ``filter_cfg``: ``filter_empty_gt`` (train only) and ``min_size`` on the image's short side."""
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        filter_empty_gt = self.filter_cfg.get("filter_empty_gt", False)
        min_size = self.filter_cfg.get("min_size", 0)
        kept = []
        for info in self.data_list:
            # As MMDetection: an image is empty when no annotation of a selected class refers to it.
            if filter_empty_gt and info["img_id"] not in getattr(self, "_ids_in_cat", ()):
                continue
            if min(info["width"], info["height"]) >= min_size:
                kept.append(info)
        return kept
