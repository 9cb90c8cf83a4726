"""Loading images and (task-independent) annotations."""

from __future__ import annotations

import warnings

import numpy as np

from vk_core import fileio
from vk_core.image import imfrombytes
from vk_core.registry import TRANSFORMS

from .base import BaseTransform

_COLOR_TYPES = ("color", "grayscale", "unchanged", "color_ignore_orientation", "grayscale_ignore_orientation")


def _merge_file_client_args(owner: str, backend_args: dict | None, file_client_args: dict | None) -> dict | None:
    """Accepts MMCV 1.x ``file_client_args`` (deprecated) as ``backend_args``."""
    if file_client_args is None:
        return backend_args
    if backend_args is not None:
        raise ValueError(f"{owner}: give backend_args or the deprecated file_client_args, not both")
    warnings.warn(f"{owner}: file_client_args is deprecated, use backend_args", DeprecationWarning, stacklevel=3)
    return dict(file_client_args)


@TRANSFORMS.register_module()
class LoadImageFromFile(BaseTransform):
    """Reads ``results['img_path']`` into ``img`` and sets ``img_shape`` and ``ori_shape`` (both (h, w)).

    Args:
        to_float32: convert to float32 (default keeps uint8).
        color_type: 'color', 'grayscale', 'unchanged', ...
        imdecode_backend: 'cv2' or 'pillow'.
        ignore_empty: return None (drop the sample) for a missing file instead of raising.
        backend_args: fileio backend arguments.
    """

    def __init__(
        self,
        to_float32: bool = False,
        color_type: str = "color",
        imdecode_backend: str = "cv2",
        ignore_empty: bool = False,
        *,
        backend_args: dict | None = None,
        file_client_args: dict | None = None,
    ):
        backend_args = _merge_file_client_args(type(self).__name__, backend_args, file_client_args)
        if color_type not in _COLOR_TYPES:
            raise ValueError(f"LoadImageFromFile: color_type must be one of {_COLOR_TYPES}, got {color_type!r}")
        if imdecode_backend not in ("cv2", "pillow"):
            raise ValueError(f"LoadImageFromFile: imdecode_backend must be 'cv2' or 'pillow', got {imdecode_backend!r}")
        self.to_float32 = to_float32
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self.ignore_empty = ignore_empty
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict | None:
        if "img_path" not in results:
            raise KeyError(f"LoadImageFromFile needs results['img_path']; got keys {sorted(results)}")
        path = results["img_path"]
        try:
            content = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            if self.ignore_empty:
                return None
            raise FileNotFoundError(f"image file not found: {path}") from None
        img = imfrombytes(content, flag=self.color_type, backend=self.imdecode_backend)
        if img is None:
            if self.ignore_empty:
                return None
            raise ValueError(f"could not decode image {path} ({len(content)} bytes): corrupt or not an image")
        if self.to_float32:
            img = img.astype(np.float32)
        results["img"] = img
        results["img_shape"] = img.shape[:2]
        results["ori_shape"] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadAnnotations(BaseTransform):
    """Loads the task-independent annotations of a 2.0-format sample.

    From ``results['instances']`` (list of dicts with ``bbox`` xyxy, ``bbox_label``, ``keypoints``):
    ``gt_bboxes`` float32 (N, 4), ``gt_bboxes_labels`` int64 (N,), ``gt_keypoints`` float32 (N, K, 3);
    from ``results['seg_map_path']``: ``gt_seg_map`` (H, W) as stored. Task packages override the ``_load_*``
    steps (boxes as box objects, masks, label mapping).
    """

    def __init__(
        self,
        with_bbox: bool = True,
        with_label: bool = True,
        with_seg: bool = False,
        with_keypoints: bool = False,
        imdecode_backend: str = "cv2",
        *,
        backend_args: dict | None = None,
        file_client_args: dict | None = None,
    ):
        backend_args = _merge_file_client_args(type(self).__name__, backend_args, file_client_args)
        if imdecode_backend not in ("cv2", "pillow"):
            raise ValueError(f"LoadAnnotations: imdecode_backend must be 'cv2' or 'pillow', got {imdecode_backend!r}")
        self.with_bbox = with_bbox
        self.with_label = with_label
        self.with_seg = with_seg
        self.with_keypoints = with_keypoints
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def _instances(self, results: dict) -> list[dict]:
        if "instances" not in results:
            raise KeyError(f"{type(self).__name__} needs results['instances']; got keys {sorted(results)}")
        return results["instances"]

    def _load_bboxes(self, results: dict) -> None:
        boxes = [inst["bbox"] for inst in self._instances(results)]
        results["gt_bboxes"] = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)

    def _load_labels(self, results: dict) -> None:
        labels = [inst["bbox_label"] for inst in self._instances(results)]
        results["gt_bboxes_labels"] = np.asarray(labels, dtype=np.int64)

    def _load_seg_map(self, results: dict) -> None:
        if "seg_map_path" not in results:
            raise KeyError(f"{type(self).__name__}(with_seg=True) needs results['seg_map_path']")
        path = results["seg_map_path"]
        img = imfrombytes(
            fileio.get(path, backend_args=self.backend_args), flag="unchanged", backend=self.imdecode_backend
        )
        if img is None:
            raise ValueError(f"could not decode segmentation map {path}")
        results["gt_seg_map"] = img.squeeze() if img.ndim == 3 else img

    def _load_kps(self, results: dict) -> None:
        kps = [inst["keypoints"] for inst in self._instances(results)]
        # Keypoints are stored flat as [x1, y1, v1, x2, y2, v2, ...] (COCO) or already as (K, 3).
        results["gt_keypoints"] = np.asarray(kps, dtype=np.float32).reshape(len(kps), -1, 3)

    def transform(self, results: dict) -> dict:
        if self.with_bbox:
            self._load_bboxes(results)
        if self.with_label:
            self._load_labels(results)
        if self.with_seg:
            self._load_seg_map(results)
        if self.with_keypoints:
            self._load_kps(results)
        return results
