"""PackDetInputs: the last transform, producing the model's ``inputs`` tensor and a DetDataSample."""

from __future__ import annotations

import cv2
import numpy as np
import torch
from vk_core.structures import InstanceData, PixelData
from vk_core.transforms import BaseTransform

from ..registry import TRANSFORMS
from ..structures import BitmapMasks, DetDataSample, PolygonMasks

_INSTANCE_KEYS = {"gt_bboxes": "bboxes", "gt_bboxes_labels": "labels", "gt_masks": "masks"}


def _to_tensor(value):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    return torch.as_tensor(value)


@TRANSFORMS.register_module()
class PackDetInputs(BaseTransform):
    """Pack ``results`` into ``{'inputs': (C, H, W) uint8 tensor, 'data_samples': DetDataSample}``.

    Boxes become a float32 (N, 4) tensor in ``gt_instances.bboxes``; instances with ``gt_ignore_flags`` go to
    ``ignored_instances``; masks stay BitmapMasks/PolygonMasks; ``gt_seg_map`` becomes ``gt_sem_seg``.
    """

    def __init__(
        self,
        meta_keys=("img_id", "img_path", "ori_shape", "img_shape", "scale_factor", "flip", "flip_direction"),
    ):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        packed = {}
        if "img" in results:
            packed["inputs"] = hwc_to_chw_tensor(results["img"])
        sample = DetDataSample()
        if "gt_bboxes" in results or "gt_bboxes_labels" in results or "gt_masks" in results:
            n = _num_instances(results)
            ignore = results.get("gt_ignore_flags")
            ignore = np.zeros(n, bool) if ignore is None else np.asarray(ignore, bool)
            if len(ignore) != n:
                raise ValueError(
                    f"gt_ignore_flags has {len(ignore)} entries for {n} instances ({results.get('img_path')})"
                )
            keep = np.flatnonzero(~ignore)
            drop = np.flatnonzero(ignore)
            gt, ignored = InstanceData(), InstanceData()
            for key, name in _INSTANCE_KEYS.items():
                if key not in results:
                    continue
                value = results[key]
                if isinstance(value, (BitmapMasks, PolygonMasks)):
                    setattr(gt, name, value[keep])
                    setattr(ignored, name, value[drop])
                else:
                    t = _to_tensor(value)
                    if key == "gt_bboxes":
                        t = t.float().reshape(-1, 4)
                    elif key == "gt_bboxes_labels":
                        t = t.long()
                    setattr(gt, name, t[torch.from_numpy(keep)])
                    setattr(ignored, name, t[torch.from_numpy(drop)])
            sample.gt_instances = gt
            sample.ignored_instances = ignored
        if "proposals" in results:
            proposals = InstanceData(bboxes=_to_tensor(results["proposals"]).float().reshape(-1, 4))
            if "proposals_scores" in results:
                proposals.scores = _to_tensor(results["proposals_scores"]).float()
            sample.proposals = proposals
        if "gt_seg_map" in results:
            seg = _to_tensor(np.ascontiguousarray(results["gt_seg_map"])).long()
            sample.gt_sem_seg = PixelData(sem_seg=seg[None] if seg.ndim == 2 else seg)
        sample.set_metainfo({k: results[k] for k in self.meta_keys if k in results})
        packed["data_samples"] = sample
        return packed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(meta_keys={self.meta_keys})"


def hwc_to_chw_tensor(img: np.ndarray) -> torch.Tensor:
    """(H, W[, C]) array -> contiguous (C, H, W) tensor. cv2.split de-interleaves about 10x faster than a
    permuted torch copy, which dominated the pipeline's packing time."""
    if img.ndim == 2:
        return torch.from_numpy(np.ascontiguousarray(img))[None]
    if img.ndim != 3:
        raise ValueError(f"PackDetInputs expects an (H, W) or (H, W, C) image, got shape {img.shape}")
    if img.shape[2] == 1:
        return torch.from_numpy(np.ascontiguousarray(img[:, :, 0]))[None]
    if 1 < img.shape[2] <= 512 and img.dtype in (
        np.uint8,
        np.int8,
        np.uint16,
        np.int16,
        np.int32,
        np.float32,
        np.float64,
    ):
        return torch.from_numpy(np.stack(cv2.split(np.ascontiguousarray(img))))
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def _num_instances(results: dict) -> int:
    for key in ("gt_bboxes", "gt_bboxes_labels", "gt_masks"):
        if key in results:
            return len(results[key])
    return 0
