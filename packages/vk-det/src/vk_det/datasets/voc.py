"""Pascal VOC style datasets: one XML file per image, an ImageSets/Main/<split>.txt list of ids."""

from __future__ import annotations

import os.path as osp
import xml.etree.ElementTree as ET

from ..registry import DATASETS
from .base_det_dataset import BaseDetDataset

VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable", "dog",
    "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip

VOC_PALETTE = [
    (106, 0, 228), (119, 11, 32), (165, 42, 42), (0, 0, 192), (197, 226, 255), (0, 60, 100), (0, 0, 142),
    (255, 77, 255), (153, 69, 1), (120, 166, 157), (0, 182, 199), (0, 226, 252), (182, 182, 255), (0, 0, 230),
    (220, 20, 60), (163, 255, 0), (0, 82, 0), (3, 95, 161), (0, 80, 100), (183, 130, 88),
]  # fmt: skip


def parse_voc_xml(xml_path: str, classes, min_size=None) -> tuple[dict, list[dict]]:
    """Read one VOC XML file: returns (size info, instances); unknown class names are skipped."""
    try:
        root = ET.parse(xml_path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ValueError(f"{xml_path}: cannot read VOC annotation ({exc})") from exc
    size = root.find("size")
    info = {}
    if size is not None:
        info = dict(width=int(float(size.find("width").text)), height=int(float(size.find("height").text)))
    label_of = {name: i for i, name in enumerate(classes)}
    instances = []
    for k, obj in enumerate(root.findall("object")):
        name = obj.find("name").text.strip()
        if name not in label_of:
            continue
        difficult = obj.find("difficult")
        difficult = int(difficult.text) if difficult is not None and difficult.text else 0
        box = obj.find("bndbox")
        if box is None:
            raise ValueError(f"{xml_path}: object {k} ({name}) has no <bndbox>")
        bbox = [int(float(box.find(t).text)) for t in ("xmin", "ymin", "xmax", "ymax")]
        if bbox[2] < bbox[0] or bbox[3] < bbox[1]:
            raise ValueError(f"{xml_path}: object {k} ({name}) has xmax < xmin or ymax < ymin: {bbox}")
        ignore = False
        if min_size is not None and (bbox[2] - bbox[0] < min_size or bbox[3] - bbox[1] < min_size):
            ignore = True
        instances.append(dict(bbox=bbox, bbox_label=label_of[name], ignore_flag=int(difficult or ignore)))
    return info, instances


@DATASETS.register_module()
class XMLDataset(BaseDetDataset):
    """VOC-layout dataset: ``ann_file`` lists image ids, ``data_prefix=dict(sub_data_root='VOC2007/')``.

    Images are ``<sub_data_root>/JPEGImages/<id>.jpg`` and annotations ``<sub_data_root>/Annotations/<id>.xml``.
    Difficult objects get ``ignore_flag=1``.
    """

    def __init__(self, *args, img_subdir: str = "JPEGImages", ann_subdir: str = "Annotations", **kwargs):
        self.img_subdir = img_subdir
        self.ann_subdir = ann_subdir
        self.bbox_min_size = kwargs.pop("bbox_min_size", None)
        kwargs.setdefault("data_prefix", dict(sub_data_root=""))
        super().__init__(*args, **kwargs)

    @property
    def sub_data_root(self) -> str:
        return self.data_prefix.get("sub_data_root", "") or ""

    def load_data_list(self) -> list[dict]:
        classes = self.metainfo["classes"]
        if not classes:
            raise ValueError(f"{type(self).__name__} needs metainfo['classes'] (the VOC class names)")
        self._fit_palette(classes)
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f"image id list not found: {self.ann_file}")
        with open(self.ann_file, encoding="utf-8") as f:
            ids = [line.strip() for line in f if line.strip()]
        data_list = []
        for img_id in ids:
            xml_path = osp.join(self.sub_data_root, self.ann_subdir, f"{img_id}.xml")
            size, instances = parse_voc_xml(xml_path, classes, self.bbox_min_size)
            img_path = osp.join(self.sub_data_root, self.img_subdir, f"{img_id}.jpg")
            if not size:
                import cv2

                im = cv2.imread(img_path)
                if im is None:
                    raise FileNotFoundError(f"{xml_path}: no <size> and the image cannot be read: {img_path}")
                size = dict(height=im.shape[0], width=im.shape[1])
            data_list.append(dict(img_id=img_id, img_path=img_path, xml_path=xml_path, instances=instances, **size))
        return data_list

    def filter_data(self) -> list[dict]:
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        filter_empty_gt = self.filter_cfg.get("filter_empty_gt", False)
        min_size = self.filter_cfg.get("min_size", 0)
        return [
            info
            for info in self.data_list
            if not (filter_empty_gt and not info["instances"]) and min(info["width"], info["height"]) >= min_size
        ]


@DATASETS.register_module()
class VOCDataset(XMLDataset):
    """Pascal VOC 2007/2012 with the 20 VOC classes."""

    METAINFO = {"classes": VOC_CLASSES, "palette": VOC_PALETTE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        root = self.sub_data_root
        self._metainfo.setdefault("dataset_type", "VOC2012" if "VOC2012" in root else "VOC2007")
