"""BaseDetDataset: vk_core's BaseDataset plus the detection conventions (classes, palette, filter_cfg)."""

from __future__ import annotations

import os.path as osp

from vk_core.dataset import BaseDataset


class BaseDetDataset(BaseDataset):
    """Base of every detection dataset.

    A data item is ``{'img_id', 'img_path', 'height', 'width', 'instances': [{'bbox': [x1, y1, x2, y2],
    'bbox_label': int, 'ignore_flag': 0|1, 'mask': polygons or RLE}], 'seg_map_path'?}``.
    ``data_prefix`` uses ``img`` (and ``seg``) as MMDetection 3.x configs do; ``img_path`` is accepted too.
    """

    METAINFO: dict = {"classes": (), "palette": []}

    def __init__(self, *args, seg_map_suffix: str = ".png", backend_args: dict | None = None, **kwargs):
        self.seg_map_suffix = seg_map_suffix
        self.backend_args = backend_args
        kwargs.setdefault("data_prefix", dict(img=""))
        super().__init__(*args, **kwargs)

    @property
    def img_prefix(self) -> str:
        prefix = self.data_prefix
        return prefix.get("img", prefix.get("img_path", "")) or ""

    def join_img(self, file_name: str) -> str:
        prefix = self.img_prefix
        return osp.join(prefix, file_name) if prefix else file_name

    def _fit_palette(self, classes) -> None:
        """One palette colour per class: a subset of the default classes keeps their colours, other class
        lists without a palette of the right length get a fixed pseudo-random one."""
        palette = list(self._metainfo.get("palette") or [])
        if len(palette) == len(classes):
            return
        default_classes = list(self.METAINFO.get("classes", ()))
        default_palette = list(self.METAINFO.get("palette", ()))
        if len(default_palette) == len(default_classes) and all(c in default_classes for c in classes):
            self._metainfo["palette"] = [default_palette[default_classes.index(c)] for c in classes]
        else:
            from .coco import make_palette

            self._metainfo["palette"] = make_palette(len(classes))

    def get_cat_ids(self, idx: int) -> list[int]:
        """Labels of the instances in image ``idx`` (ClassBalancedDataset uses it)."""
        return [inst["bbox_label"] for inst in self.get_data_info(idx)["instances"]]
