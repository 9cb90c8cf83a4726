"""Geometric and photometric transforms shared by detection and segmentation.

Each geometric transform changes the image and then calls one overridable step per annotation kind
(``_resize_bboxes``, ``_resize_seg``, ``_flip_bbox``, ...). The base steps handle numpy boxes (N, 4) xyxy, keypoints
(N, K, 2+) and ``gt_seg_map`` arrays; vk-det/vk-seg subclasses add box objects and instance masks.
Sizes are given as (w, h); ``results['img_shape']`` is (h, w).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Number

import cv2
import numpy as np

from vk_core.dataset.rng import data_rng
from vk_core.image import (
    bgr2hsv,
    hsv2bgr,
    imflip,
    impad,
    imrescale,
    imresize,
)
from vk_core.image.geometric import INTERPOLATIONS
from vk_core.registry import TRANSFORMS

from .base import BaseTransform

_DIRECTIONS = ("horizontal", "vertical", "diagonal")


def _is_pos_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0


def _size_wh(value, name: str, owner: str) -> tuple[int, int]:
    """An int S -> (S, S); a pair of positive ints -> (w, h); anything else is a construction-time error."""
    if _is_pos_int(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_pos_int(v) for v in value):
        return (int(value[0]), int(value[1]))
    raise ValueError(f"{owner}: {name} must be a positive int or a (w, h) pair of positive ints, got {value!r}")


def _scale_size(size_wh: tuple[int, int], factor: tuple[float, float]) -> tuple[int, int]:
    return int(size_wh[0] * factor[0] + 0.5), int(size_wh[1] * factor[1] + 0.5)


def _ratio_range(value, owner: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(isinstance(v, Number) for v in value)
        or not 0 < value[0] <= value[1]
    ):
        raise ValueError(f"{owner}: ratio_range must be (min, max) with 0 < min <= max, got {value!r}")
    return (float(value[0]), float(value[1]))


# ---------------------------------------------------------------------------------------------------- resizing
@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resizes the image and its annotations to ``scale`` (w, h) or by ``scale_factor``.

    With ``keep_ratio`` the image is rescaled as large as fits in ``scale`` (long edge <= max(scale), short edge
    <= min(scale)). Sets ``img_shape``, ``scale`` (w, h), ``scale_factor`` (w_ratio, h_ratio) and ``keep_ratio``.
    Boxes are clipped to the new image when ``clip_object_border``.
    """

    def __init__(
        self,
        scale: int | tuple[int, int] | None = None,
        scale_factor: float | tuple[float, float] | None = None,
        keep_ratio: bool = False,
        clip_object_border: bool = True,
        backend: str = "cv2",
        interpolation: str = "bilinear",
    ):
        owner = type(self).__name__
        if (scale is None) == (scale_factor is None):
            raise ValueError(f"{owner}: give exactly one of scale and scale_factor (got {scale!r}, {scale_factor!r})")
        self.scale = None if scale is None else _size_wh(scale, "scale", owner)
        if scale_factor is None:
            self.scale_factor = None
        elif isinstance(scale_factor, Number) and not isinstance(scale_factor, bool) and scale_factor > 0:
            self.scale_factor = (float(scale_factor), float(scale_factor))
        elif (
            isinstance(scale_factor, (tuple, list))
            and len(scale_factor) == 2
            and all(isinstance(v, Number) and v > 0 for v in scale_factor)
        ):
            self.scale_factor = (float(scale_factor[0]), float(scale_factor[1]))
        else:
            raise ValueError(f"{owner}: scale_factor must be a positive number or pair, got {scale_factor!r}")
        if backend not in ("cv2", "pillow"):
            raise ValueError(f"{owner}: backend must be 'cv2' or 'pillow', got {backend!r}")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{owner}: interpolation must be one of {sorted(INTERPOLATIONS)}, got {interpolation!r}")
        self.keep_ratio = keep_ratio
        self.clip_object_border = clip_object_border
        self.backend = backend
        self.interpolation = interpolation

    def _resize_img(self, results: dict) -> None:
        img = results.get("img")
        if img is None:
            return
        h, w = img.shape[:2]
        if self.keep_ratio:
            new = imrescale(img, results["scale"], interpolation=self.interpolation, backend=self.backend)
            w_scale, h_scale = new.shape[1] / w, new.shape[0] / h
        else:
            new, w_scale, h_scale = imresize(
                img, results["scale"], return_scale=True, interpolation=self.interpolation, backend=self.backend
            )
        results["img"] = new
        results["img_shape"] = new.shape[:2]
        results["scale_factor"] = (w_scale, h_scale)
        results["keep_ratio"] = self.keep_ratio

    def _resize_bboxes(self, results: dict) -> None:
        boxes = results.get("gt_bboxes")
        if boxes is None:
            return
        boxes = boxes * np.tile(np.asarray(results["scale_factor"], dtype=np.float32), 2)
        if self.clip_object_border:
            h, w = results["img_shape"]
            boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, w)
            boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, h)
        results["gt_bboxes"] = boxes.astype(np.float32)

    def _resize_seg(self, results: dict) -> None:
        seg = results.get("gt_seg_map")
        if seg is None:
            return
        h, w = results["img_shape"]
        results["gt_seg_map"] = imresize(seg, (w, h), interpolation="nearest", backend=self.backend)

    def _resize_keypoints(self, results: dict) -> None:
        kps = results.get("gt_keypoints")
        if kps is None:
            return
        kps = kps.copy()
        kps[..., :2] *= np.asarray(results["scale_factor"], dtype=kps.dtype)
        if self.clip_object_border:
            h, w = results["img_shape"]
            kps[..., 0] = np.clip(kps[..., 0], 0, w)
            kps[..., 1] = np.clip(kps[..., 1], 0, h)
        results["gt_keypoints"] = kps

    def transform(self, results: dict) -> dict:
        if self.scale is not None:
            results["scale"] = self.scale
        else:
            h, w = results["img"].shape[:2]
            results["scale"] = _scale_size((w, h), self.scale_factor)
        self._resize_img(results)
        self._resize_bboxes(results)
        self._resize_seg(results)
        self._resize_keypoints(results)
        return results


def _build_resize(owner: str, resize_type: str, scale, resize_kwargs: dict) -> BaseTransform:
    if "scale_factor" in resize_kwargs:
        raise ValueError(f"{owner}: scale_factor cannot be combined with random scales")
    return TRANSFORMS.build(dict(type=resize_type, scale=scale, **resize_kwargs))


@TRANSFORMS.register_module()
class RandomResize(BaseTransform):
    """Resizes to a random scale, then behaves as ``resize_type`` (default Resize) with ``resize_kwargs``.

    - ``scale=(w, h)`` with ``ratio_range=(lo, hi)``: the scale times a ratio drawn uniformly from [lo, hi].
    - ``scale=[(w0, h0), (w1, h1)]`` (no ratio_range): each edge drawn uniformly (integers) between the two.
    """

    def __init__(
        self, scale, ratio_range: tuple[float, float] | None = None, resize_type: str = "Resize", **resize_kwargs
    ):
        owner = type(self).__name__
        self.ratio_range = _ratio_range(ratio_range, owner)
        if isinstance(scale, list) or (
            isinstance(scale, tuple) and len(scale) == 2 and all(isinstance(s, (tuple, list)) for s in scale)
        ):
            if self.ratio_range is not None:
                raise ValueError(f"{owner}: ratio_range needs a single (w, h) scale, got a list {scale!r}")
            if len(scale) != 2:
                raise ValueError(f"{owner}: a scale range is a list of two (w, h) pairs, got {scale!r}")
            self.scale = [_size_wh(s, f"scale[{i}]", owner) for i, s in enumerate(scale)]
            first = self.scale[0]
        else:
            self.scale = _size_wh(scale, "scale", owner)
            if self.ratio_range is None:
                raise ValueError(f"{owner}: a single scale needs ratio_range; use Resize for a fixed scale")
            first = self.scale
        self.resize_type = resize_type
        self.resize_kwargs = dict(resize_kwargs)
        self.resize = _build_resize(owner, resize_type, first, self.resize_kwargs)

    def _random_scale(self) -> tuple[int, int]:
        rng = data_rng()
        if self.ratio_range is not None:
            lo, hi = self.ratio_range
            ratio = rng.random() * (hi - lo) + lo
            return int(self.scale[0] * ratio), int(self.scale[1] * ratio)
        (w0, h0), (w1, h1) = self.scale
        return int(rng.integers(min(w0, w1), max(w0, w1) + 1)), int(rng.integers(min(h0, h1), max(h0, h1) + 1))

    def transform(self, results: dict) -> dict:
        scale = self._random_scale()
        self.resize.scale = scale
        results = self.resize(results)
        results["scale"] = scale
        return results


@TRANSFORMS.register_module()
class RandomChoiceResize(BaseTransform):
    """Resizes to one of ``scales`` (uniformly chosen); sets ``scale_idx``."""

    def __init__(self, scales: Sequence, resize_type: str = "Resize", **resize_kwargs):
        owner = type(self).__name__
        if not isinstance(scales, (list, tuple)) or not scales:
            raise ValueError(f"{owner}: scales must be a non-empty list of (w, h), got {scales!r}")
        if _is_pos_int(scales[0]) and len(scales) == 2:
            raise ValueError(f"{owner}: scales must be a list of (w, h) pairs; wrap one scale in a list: [{scales!r}]")
        self.scales = [_size_wh(s, f"scales[{i}]", owner) for i, s in enumerate(scales)]
        self.resize_type = resize_type
        self.resize_kwargs = dict(resize_kwargs)
        self.resize = _build_resize(owner, resize_type, self.scales[0], self.resize_kwargs)

    def transform(self, results: dict) -> dict:
        idx = int(data_rng().integers(len(self.scales)))
        self.resize.scale = self.scales[idx]
        results = self.resize(results)
        results["scale_idx"] = idx
        return results


# ---------------------------------------------------------------------------------------------------- flipping
@TRANSFORMS.register_module()
class RandomFlip(BaseTransform):
    """Flips with probability ``prob`` in ``direction`` ('horizontal', 'vertical', 'diagonal').

    ``prob`` and ``direction`` may be lists of equal length (one probability per direction, summing to <= 1); a
    single ``prob`` with several directions is shared equally. Sets ``flip`` and ``flip_direction``.
    ``swap_seg_labels=[(a, b), ...]`` swaps label pairs in the flipped seg map (left/right classes).
    """

    def __init__(
        self,
        prob: float | Sequence[float] | None = None,
        direction: str | Sequence[str] = "horizontal",
        swap_seg_labels: Sequence | None = None,
    ):
        owner = type(self).__name__
        directions = [direction] if isinstance(direction, str) else list(direction)
        if not directions or any(d not in _DIRECTIONS for d in directions):
            raise ValueError(f"{owner}: direction must be one of {_DIRECTIONS} or a list of them, got {direction!r}")
        if prob is None:
            raise ValueError(f"{owner}: prob is required (0 <= prob <= 1)")
        if isinstance(prob, (list, tuple)):
            if len(prob) != len(directions):
                raise ValueError(f"{owner}: {len(prob)} probabilities for {len(directions)} directions")
            if any(not isinstance(p, Number) or p < 0 for p in prob) or sum(prob) > 1 + 1e-9:
                raise ValueError(f"{owner}: probabilities must be >= 0 and sum to <= 1, got {prob!r}")
        elif not isinstance(prob, Number) or not 0 <= prob <= 1:
            raise ValueError(f"{owner}: prob must be in [0, 1], got {prob!r}")
        if swap_seg_labels is not None and not all(
            isinstance(p, (list, tuple)) and len(p) == 2 for p in swap_seg_labels
        ):
            raise ValueError(f"{owner}: swap_seg_labels must be a list of (a, b) pairs, got {swap_seg_labels!r}")
        self.prob = prob
        self.direction = direction
        self.swap_seg_labels = swap_seg_labels
        self._directions = directions
        if isinstance(prob, (list, tuple)):
            probs = [float(p) for p in prob]
        else:
            probs = [float(prob) / len(directions)] * len(directions)
        # Cumulative bounds of each direction; a uniform draw past the last bound means "no flip".
        self._bounds = [float(b) for b in np.cumsum(probs)]

    def _choose_direction(self) -> str | None:
        # One uniform draw and a scan of <= 3 bounds: Generator.choice(p=...) validates p on every call (~20x cost).
        u = data_rng().random()
        for direction, bound in zip(self._directions, self._bounds):
            if u < bound:
                return direction
        return None

    @staticmethod
    def _flip_bbox(bboxes: np.ndarray, img_shape: tuple[int, int], direction: str) -> np.ndarray:
        """Flips (N, 4k) xyxy boxes inside an image of ``img_shape`` (h, w)."""
        h, w = img_shape[:2]
        out = bboxes.copy()
        if direction in ("horizontal", "diagonal"):
            out[..., 0::4] = w - bboxes[..., 2::4]
            out[..., 2::4] = w - bboxes[..., 0::4]
        if direction in ("vertical", "diagonal"):
            out[..., 1::4] = h - bboxes[..., 3::4]
            out[..., 3::4] = h - bboxes[..., 1::4]
        return out

    @staticmethod
    def _flip_keypoints(keypoints: np.ndarray, img_shape: tuple[int, int], direction: str) -> np.ndarray:
        h, w = img_shape[:2]
        out = keypoints.copy()
        if direction in ("horizontal", "diagonal"):
            out[..., 0] = w - keypoints[..., 0]
        if direction in ("vertical", "diagonal"):
            out[..., 1] = h - keypoints[..., 1]
        return out

    def _flip_seg_map(self, seg_map: np.ndarray, direction: str) -> np.ndarray:
        seg = imflip(seg_map, direction)
        if self.swap_seg_labels:
            swapped = seg.copy()
            for a, b in self.swap_seg_labels:
                swapped[seg == a] = b
                swapped[seg == b] = a
            seg = swapped
        return seg

    def _flip(self, results: dict) -> None:
        direction = results["flip_direction"]
        results["img"] = imflip(results["img"], direction)
        img_shape = results["img"].shape[:2]
        if results.get("gt_bboxes") is not None:
            results["gt_bboxes"] = self._flip_bbox(results["gt_bboxes"], img_shape, direction)
        if results.get("gt_keypoints") is not None:
            results["gt_keypoints"] = self._flip_keypoints(results["gt_keypoints"], img_shape, direction)
        if results.get("gt_seg_map") is not None:
            results["gt_seg_map"] = self._flip_seg_map(results["gt_seg_map"], direction)

    def transform(self, results: dict) -> dict:
        direction = self._choose_direction()
        results["flip"] = direction is not None
        results["flip_direction"] = direction
        if direction is not None:
            self._flip(results)
        return results


# ---------------------------------------------------------------------------------------------------- cropping
class _CropMixin:
    """Shared crop steps: image, numpy boxes (shift, clip, drop empty), seg map, keypoints."""

    clip_object_border = True

    def _crop_img(self, results: dict, box: tuple[int, int, int, int]) -> None:
        x1, y1, x2, y2 = box
        results["img"] = results["img"][y1:y2, x1:x2, ...]
        results["img_shape"] = results["img"].shape[:2]

    def _crop_bboxes(self, results: dict, box: tuple[int, int, int, int]) -> np.ndarray | None:
        """Shifts and clips boxes; returns the bool mask of boxes that keep a positive area (None if no boxes)."""
        if results.get("gt_bboxes") is None:
            return None
        x1, y1, x2, y2 = box
        boxes = results["gt_bboxes"] - np.array([x1, y1, x1, y1], dtype=np.float32)
        if self.clip_object_border:
            boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, x2 - x1)
            boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, y2 - y1)
        results["gt_bboxes"] = boxes
        return (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])

    def _filter_instances(self, results: dict, keep: np.ndarray) -> None:
        """Applies the kept-box mask to every per-instance key a base pipeline produces."""
        for key in ("gt_bboxes", "gt_bboxes_labels", "gt_ignore_flags", "gt_keypoints"):
            if results.get(key) is not None:
                results[key] = results[key][keep]

    def _crop_seg(self, results: dict, box: tuple[int, int, int, int]) -> None:
        if results.get("gt_seg_map") is not None:
            x1, y1, x2, y2 = box
            results["gt_seg_map"] = results["gt_seg_map"][y1:y2, x1:x2]

    def _crop_keypoints(self, results: dict, box: tuple[int, int, int, int]) -> None:
        if results.get("gt_keypoints") is not None:
            kps = results["gt_keypoints"].copy()
            kps[..., 0] -= box[0]
            kps[..., 1] -= box[1]
            results["gt_keypoints"] = kps

    def _crop_all(self, results: dict, box: tuple[int, int, int, int], allow_empty: bool = True) -> dict | None:
        self._crop_img(results, box)
        keep = self._crop_bboxes(results, box)
        self._crop_keypoints(results, box)
        if keep is not None:
            if not keep.any() and not allow_empty and len(keep):
                return None
            self._filter_instances(results, keep)
        self._crop_seg(results, box)
        return results


_CROP_TYPES = ("absolute", "absolute_range", "relative", "relative_range")


@TRANSFORMS.register_module()
class RandomCrop(_CropMixin, BaseTransform):
    """Crops a random window; boxes are shifted, clipped and those left empty dropped.

    ``crop_type``: 'absolute' (``crop_size`` = (w, h) pixels), 'absolute_range' (``crop_size`` = (min, max) pixels,
    each side drawn in that range), 'relative' ((w, h) fractions in (0, 1]), 'relative_range' (each side drawn
    between the fraction and 1). A crop keeping no box returns None (the dataset refetches) unless
    ``allow_negative_crop``.
    """

    def __init__(
        self,
        crop_size: tuple,
        crop_type: str = "absolute",
        allow_negative_crop: bool = False,
        recompute_bbox: bool = False,
        bbox_clip_border: bool = True,
    ):
        owner = type(self).__name__
        if crop_type not in _CROP_TYPES:
            raise ValueError(f"{owner}: crop_type must be one of {_CROP_TYPES}, got {crop_type!r}")
        if not isinstance(crop_size, (tuple, list)) or len(crop_size) != 2:
            raise ValueError(f"{owner}: crop_size must be a pair, got {crop_size!r}")
        if crop_type.startswith("absolute"):
            if not all(_is_pos_int(v) for v in crop_size):
                raise ValueError(f"{owner}: crop_size must be positive ints for {crop_type!r}, got {crop_size!r}")
            if crop_type == "absolute_range" and crop_size[0] > crop_size[1]:
                raise ValueError(f"{owner}: absolute_range crop_size must be (min, max), got {crop_size!r}")
        elif not all(isinstance(v, Number) and 0 < v <= 1 for v in crop_size):
            raise ValueError(f"{owner}: crop_size must be fractions in (0, 1] for {crop_type!r}, got {crop_size!r}")
        self.crop_size = tuple(crop_size)
        self.crop_type = crop_type
        self.allow_negative_crop = allow_negative_crop
        self.recompute_bbox = recompute_bbox
        self.bbox_clip_border = bbox_clip_border
        self.clip_object_border = bbox_clip_border

    def _get_crop_size(self, image_size: tuple[int, int]) -> tuple[int, int]:
        """(crop_h, crop_w) for an image of (h, w)."""
        h, w = image_size
        rng = data_rng()
        if self.crop_type == "absolute":
            return min(self.crop_size[1], h), min(self.crop_size[0], w)
        if self.crop_type == "absolute_range":
            lo, hi = self.crop_size
            crop_h = int(rng.integers(min(h, lo), min(h, hi) + 1))
            crop_w = int(rng.integers(min(w, lo), min(w, hi) + 1))
            return crop_h, crop_w
        fw, fh = self.crop_size
        if self.crop_type == "relative_range":
            fw, fh = fw + rng.random() * (1 - fw), fh + rng.random() * (1 - fh)
        return max(1, int(h * fh + 0.5)), max(1, int(w * fw + 0.5))

    def transform(self, results: dict) -> dict | None:
        h, w = results["img"].shape[:2]
        crop_h, crop_w = self._get_crop_size((h, w))
        rng = data_rng()
        y1 = int(rng.integers(0, max(h - crop_h, 0) + 1))
        x1 = int(rng.integers(0, max(w - crop_w, 0) + 1))
        return self._crop_all(results, (x1, y1, x1 + crop_w, y1 + crop_h), allow_empty=self.allow_negative_crop)


@TRANSFORMS.register_module()
class CenterCrop(_CropMixin, BaseTransform):
    """Crops the centre ``crop_size`` (w, h); with ``auto_pad`` a smaller image is first padded (``pad_cfg``)."""

    def __init__(
        self,
        crop_size: int | tuple[int, int],
        auto_pad: bool = False,
        pad_cfg: dict | None = None,
        clip_object_border: bool = True,
    ):
        owner = type(self).__name__
        self.crop_size = _size_wh(crop_size, "crop_size", owner)
        self.auto_pad = auto_pad
        self.pad_cfg = dict(type="Pad") if pad_cfg is None else dict(pad_cfg)
        self.clip_object_border = clip_object_border
        if auto_pad:
            if "size" in self.pad_cfg or "size_divisor" in self.pad_cfg:
                raise ValueError(f"{owner}: pad_cfg must not set size/size_divisor; the crop size is used")
            self._pad_kwargs = {k: v for k, v in self.pad_cfg.items() if k != "type"}

    def transform(self, results: dict) -> dict:
        crop_w, crop_h = self.crop_size
        h, w = results["img"].shape[:2]
        if self.auto_pad and (h < crop_h or w < crop_w):
            pad = TRANSFORMS.build(
                dict(type=self.pad_cfg.get("type", "Pad"), size=(max(w, crop_w), max(h, crop_h)), **self._pad_kwargs)
            )
            results = pad(results)
            h, w = results["img"].shape[:2]
        x1 = max(0, int(round((w - crop_w) / 2.0)))
        y1 = max(0, int(round((h - crop_h) / 2.0)))
        return self._crop_all(results, (x1, y1, min(w, x1 + crop_w), min(h, y1 + crop_h)))


# ---------------------------------------------------------------------------------------------------- padding
@TRANSFORMS.register_module()
class Pad(BaseTransform):
    """Pads (bottom/right) to ``size`` (w, h), to a multiple of ``size_divisor``, or to a square.

    ``pad_val``: a number for the image, or ``dict(img=..., seg=...)``; default ``dict(img=0, seg=255)`` (255 is
    the segmentation ignore index).
    Sets ``pad_shape`` (the padded image's full shape), ``pad_fixed_size``, ``pad_size_divisor``, ``img_shape``.
    """

    def __init__(
        self,
        size: int | tuple[int, int] | None = None,
        size_divisor: int | None = None,
        pad_to_square: bool = False,
        pad_val: Number | dict | None = None,
        padding_mode: str = "constant",
    ):
        owner = type(self).__name__
        if pad_val is None:
            pad_val = dict(img=0, seg=255)
        if pad_to_square:
            if size is not None:
                raise ValueError(f"{owner}: size must be None with pad_to_square=True")
        elif (size is None) == (size_divisor is None):
            raise ValueError(f"{owner}: give exactly one of size and size_divisor (got {size!r}, {size_divisor!r})")
        self.size = None if size is None else _size_wh(size, "size", owner)
        if size_divisor is not None and not _is_pos_int(size_divisor):
            raise ValueError(f"{owner}: size_divisor must be a positive int, got {size_divisor!r}")
        if isinstance(pad_val, Number):
            pad_val = dict(img=pad_val, seg=255)
        elif not isinstance(pad_val, dict) or set(pad_val) - {"img", "seg", "masks"}:
            raise ValueError(f"{owner}: pad_val must be a number or a dict with keys img/seg, got {pad_val!r}")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"{owner}: padding_mode must be constant/edge/reflect/symmetric, got {padding_mode!r}")
        self.size_divisor = size_divisor
        self.pad_to_square = pad_to_square
        self.pad_val = pad_val
        self.padding_mode = padding_mode

    def _target_shape(self, img: np.ndarray) -> tuple[int, int]:
        h, w = img.shape[:2]
        if self.pad_to_square:
            h = w = max(h, w)
        if self.size_divisor is not None:
            d = self.size_divisor
            return int(np.ceil(h / d)) * d, int(np.ceil(w / d)) * d
        if self.size is not None:
            if self.size[1] < h or self.size[0] < w:
                raise ValueError(f"{type(self).__name__}: image {(h, w)} (h, w) is larger than size {self.size} (w, h)")
            return self.size[1], self.size[0]
        return h, w

    def _pad_img(self, results: dict) -> None:
        img = results["img"]
        pad_val = self.pad_val.get("img", 0)
        if isinstance(pad_val, Number) and img.ndim == 3:
            pad_val = (pad_val,) * img.shape[2]
        padded = impad(img, shape=self._target_shape(img), pad_val=pad_val, padding_mode=self.padding_mode)
        results["img"] = padded
        results["pad_shape"] = padded.shape
        results["pad_fixed_size"] = self.size
        results["pad_size_divisor"] = self.size_divisor
        results["img_shape"] = padded.shape[:2]

    def _pad_seg(self, results: dict) -> None:
        seg = results.get("gt_seg_map")
        if seg is None:
            return
        results["gt_seg_map"] = impad(
            seg, shape=results["pad_shape"][:2], pad_val=self.pad_val.get("seg", 255), padding_mode=self.padding_mode
        )

    def transform(self, results: dict) -> dict:
        self._pad_img(results)
        self._pad_seg(results)
        return results


# ---------------------------------------------------------------------------------------------------- photometric
@TRANSFORMS.register_module()
class Normalize(BaseTransform):
    """``img = (img[, BGR->RGB] - mean) / std`` as float32; records ``img_norm_cfg``."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], to_rgb: bool = True):
        owner = type(self).__name__
        mean_arr = np.asarray(mean, dtype=np.float64).ravel()
        std_arr = np.asarray(std, dtype=np.float64).ravel()
        if mean_arr.size not in (1, 3) or std_arr.size not in (1, 3):
            raise ValueError(f"{owner}: mean and std need 1 or 3 values, got {list(mean_arr)} and {list(std_arr)}")
        if (std_arr <= 0).any():
            raise ValueError(f"{owner}: std values must be positive, got {list(std_arr)}")
        self.mean = mean_arr
        self.std = std_arr
        self.to_rgb = to_rgb
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _vectors(self, channels: int) -> tuple[np.ndarray, np.ndarray]:
        """(1, C) mean and 1/std for a C-channel image, built once per channel count."""
        if channels not in self._cache:
            mean = np.broadcast_to(self.mean, (channels,)) if self.mean.size == 1 else self.mean
            std = np.broadcast_to(self.std, (channels,)) if self.std.size == 1 else self.std
            self._cache[channels] = (mean.reshape(1, -1).copy(), (1.0 / std).reshape(1, -1))
        return self._cache[channels]

    def transform(self, results: dict) -> dict:
        img = results["img"]
        channels = img.shape[2] if img.ndim == 3 else 1
        if (self.to_rgb and channels != 3) or (self.mean.size == 3 and channels != 3):
            raise ValueError(
                f"Normalize(mean={self.mean.tolist()}, to_rgb={self.to_rgb}) needs a 3-channel image, "
                f"got shape {img.shape} for {results.get('img_path', 'the image')}"
            )
        mean, std_inv = self._vectors(channels)
        img = img.astype(np.float32)
        if self.to_rgb:
            cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
        if channels <= 4:
            # In-place cv2 arithmetic with a (1, C) vector: the same calls as imnormalize_, prepared once.
            cv2.subtract(img, mean, img)
            cv2.multiply(img, std_inv, img)
        else:
            img -= mean.astype(np.float32).reshape(-1)
            img *= std_inv.astype(np.float32).reshape(-1)
        results["img"] = img
        results["img_norm_cfg"] = dict(mean=self.mean, std=self.std, to_rgb=self.to_rgb)
        return results

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean.tolist()}, std={self.std.tolist()}, to_rgb={self.to_rgb})"


@TRANSFORMS.register_module()
class PhotoMetricDistortion(BaseTransform):
    """Random brightness, contrast, saturation, hue and channel swap, each applied with probability 0.5.

    Order: brightness, contrast (first or last, at random), saturation, hue, channel swap. Works in float32 and
    returns a float32 image (HSV with hue in degrees), as MMDetection's version.
    """

    def __init__(
        self,
        brightness_delta: int = 32,
        contrast_range: Sequence[float] = (0.5, 1.5),
        saturation_range: Sequence[float] = (0.5, 1.5),
        hue_delta: int = 18,
    ):
        owner = type(self).__name__
        if not isinstance(brightness_delta, Number) or brightness_delta < 0:
            raise ValueError(f"{owner}: brightness_delta must be >= 0, got {brightness_delta!r}")
        if not isinstance(hue_delta, Number) or not 0 <= hue_delta <= 180:
            raise ValueError(f"{owner}: hue_delta must be in [0, 180] degrees, got {hue_delta!r}")
        for name, rng_ in (("contrast_range", contrast_range), ("saturation_range", saturation_range)):
            if not isinstance(rng_, (tuple, list)) or len(rng_) != 2 or not 0 <= rng_[0] <= rng_[1]:
                raise ValueError(f"{owner}: {name} must be (lower, upper) with 0 <= lower <= upper, got {rng_!r}")
        self.brightness_delta = brightness_delta
        self.contrast_range = tuple(contrast_range)
        self.saturation_range = tuple(saturation_range)
        self.hue_delta = hue_delta

    def _random_flags(self) -> tuple:
        rng = data_rng()
        flags = rng.integers(0, 2, size=6)
        return (
            int(flags[0]),  # contrast last (1) or first (0)
            bool(flags[1]),
            bool(flags[2]),
            bool(flags[3]),
            bool(flags[4]),
            bool(flags[5]),
            rng.uniform(-self.brightness_delta, self.brightness_delta),
            rng.uniform(*self.contrast_range),
            rng.uniform(*self.saturation_range),
            rng.uniform(-self.hue_delta, self.hue_delta),
            rng.permutation(3),
        )

    def transform(self, results: dict) -> dict:
        img = results["img"]
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"{type(self).__name__} needs a 3-channel image, got shape {img.shape}")
        img = img.astype(np.float32)
        mode, b_on, c_on, s_on, h_on, swap_on, delta, alpha, sat, hue, perm = self._random_flags()
        if b_on:
            img += delta
        if mode == 1 and c_on:
            img *= alpha
        if s_on or h_on:
            img = bgr2hsv(img)
            if s_on:
                img[..., 1] *= sat
            if h_on:
                hch = img[..., 0]
                hch += hue
                hch[hch > 360] -= 360
                hch[hch < 0] += 360
            img = hsv2bgr(img)
        if mode == 0 and c_on:
            img *= alpha
        if swap_on:
            img = np.ascontiguousarray(img[..., perm])
        results["img"] = img
        return results


__all__ = [
    "CenterCrop",
    "Normalize",
    "Pad",
    "PhotoMetricDistortion",
    "RandomChoiceResize",
    "RandomCrop",
    "RandomFlip",
    "RandomResize",
    "Resize",
]
