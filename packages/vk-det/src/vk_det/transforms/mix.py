"""YOLOX-style augmentations: HSV jitter, random affine, Mosaic and MixUp.

Mosaic and MixUp need other samples: wrap the dataset in ``MultiImageMixDataset`` (vk_det.datasets), which asks
each such transform for ``get_indexes(dataset)`` and hands the loaded samples over as ``results['mix_results']``.
Boxes are kept consistent with the image; masks are supported by RandomAffine only (Mosaic/MixUp drop them with
an error, as upstream does not support them either).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from vk_core.dataset import data_rng
from vk_core.transforms import BaseTransform

from ..registry import TRANSFORMS
from .geometric import _select_instances


def _keep_valid(results: dict, min_wh: float = 0.0) -> None:
    boxes = results["gt_bboxes"]
    keep = ((boxes[:, 2] - boxes[:, 0]) > min_wh) & ((boxes[:, 3] - boxes[:, 1]) > min_wh)
    _select_instances(results, keep)


def _no_masks(results: dict, name: str) -> None:
    if results.get("gt_masks") is not None:
        raise NotImplementedError(f"{name} does not transform gt_masks; remove with_mask from LoadAnnotations")


@TRANSFORMS.register_module()
class YOLOXHSVRandomAug(BaseTransform):
    """Shift hue, saturation and value by random amounts (each gain applied with probability 1/2)."""

    def __init__(self, hue_delta: int = 5, saturation_delta: int = 30, value_delta: int = 30):
        self.hue_delta = hue_delta
        self.saturation_delta = saturation_delta
        self.value_delta = value_delta

    def transform(self, results: dict) -> dict:
        rng = data_rng()
        gains = rng.uniform(-1, 1, 3) * [self.hue_delta, self.saturation_delta, self.value_delta]
        gains = (gains * rng.integers(0, 2, 3)).astype(np.int16)
        img = results["img"]
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.int16)
        hsv[..., 0] = (hsv[..., 0] + gains[0]) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] + gains[1], 0, 255)
        hsv[..., 2] = np.clip(hsv[..., 2] + gains[2], 0, 255)
        results["img"] = cv2.cvtColor(hsv.astype(img.dtype), cv2.COLOR_HSV2BGR)
        return results


def _project_boxes(boxes: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Boxes through a 3x3 homography: the axis-aligned box around the four projected corners."""
    if len(boxes) == 0:
        return boxes
    x1, y1, x2, y2 = boxes.T
    corners = np.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=1).reshape(-1, 2)
    pts = np.concatenate([corners, np.ones((len(corners), 1))], axis=1) @ matrix.T
    pts = (pts[:, :2] / pts[:, 2:3]).reshape(-1, 4, 2)
    return np.concatenate([pts.min(axis=1), pts.max(axis=1)], axis=1).astype(np.float32)


@TRANSFORMS.register_module()
class RandomAffine(BaseTransform):
    """Random rotation, scaling, shear and translation (one warp); boxes become the hull of their warped corners,
    masks are warped with nearest interpolation; instances left without area are dropped."""

    def __init__(
        self,
        max_rotate_degree: float = 10.0,
        max_translate_ratio: float = 0.1,
        scaling_ratio_range=(0.5, 1.5),
        max_shear_degree: float = 2.0,
        border=(0, 0),
        border_val=(114, 114, 114),
        bbox_clip_border: bool = True,
    ):
        if not 0 <= max_translate_ratio <= 1:
            raise ValueError(f"RandomAffine max_translate_ratio must be in [0, 1], got {max_translate_ratio}")
        if scaling_ratio_range[0] > scaling_ratio_range[1] or scaling_ratio_range[0] <= 0:
            raise ValueError(f"RandomAffine scaling_ratio_range must be increasing and positive: {scaling_ratio_range}")
        self.max_rotate_degree = max_rotate_degree
        self.max_translate_ratio = max_translate_ratio
        self.scaling_ratio_range = scaling_ratio_range
        self.max_shear_degree = max_shear_degree
        self.border = border
        self.border_val = border_val
        self.bbox_clip_border = bbox_clip_border

    def _matrix(self, h: int, w: int) -> np.ndarray:
        rng = data_rng()
        angle = math.radians(rng.uniform(-self.max_rotate_degree, self.max_rotate_degree))
        scale = rng.uniform(*self.scaling_ratio_range)
        shear_x = math.tan(math.radians(rng.uniform(-self.max_shear_degree, self.max_shear_degree)))
        shear_y = math.tan(math.radians(rng.uniform(-self.max_shear_degree, self.max_shear_degree)))
        tx = rng.uniform(0.5 - self.max_translate_ratio, 0.5 + self.max_translate_ratio) * w
        ty = rng.uniform(0.5 - self.max_translate_ratio, 0.5 + self.max_translate_ratio) * h
        c, s = math.cos(angle), math.sin(angle)
        rotate_scale = np.array([[c * scale, -s * scale, 0], [s * scale, c * scale, 0], [0, 0, 1]])
        shear = np.array([[1, shear_x, 0], [shear_y, 1, 0], [0, 0, 1]])
        # centre the source image on the origin, warp, then move to the (translated) centre of the output
        center = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1]])
        translate = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
        return translate @ shear @ rotate_scale @ center

    def transform(self, results: dict) -> dict:
        img = results["img"]
        h, w = img.shape[:2]
        out_h, out_w = h + self.border[0] * 2, w + self.border[1] * 2
        matrix = self._matrix(out_h, out_w)
        results["img"] = cv2.warpPerspective(img, matrix, (out_w, out_h), borderValue=self.border_val)
        results["img_shape"] = results["img"].shape[:2]
        if results.get("gt_bboxes") is not None:
            boxes = _project_boxes(results["gt_bboxes"], matrix)
            if self.bbox_clip_border:
                boxes[:, 0::2] = boxes[:, 0::2].clip(0, out_w)
                boxes[:, 1::2] = boxes[:, 1::2].clip(0, out_h)
            results["gt_bboxes"] = boxes
            if results.get("gt_masks") is not None:
                masks = results["gt_masks"]
                masks = masks.to_bitmap() if hasattr(masks, "to_bitmap") else masks  # polygons are rasterised

                def warp(m):
                    return cv2.warpPerspective(m, matrix, (out_w, out_h), flags=cv2.INTER_NEAREST)

                results["gt_masks"] = masks._map(warp, out_h, out_w)
            _keep_valid(results)
        results["homography_matrix"] = matrix @ results.get("homography_matrix", np.eye(3))
        return results


@TRANSFORMS.register_module()
class Mosaic(BaseTransform):
    """Four images around a random centre on a (2h, 2w) canvas, each scaled to fit ``img_scale`` (w, h)."""

    def __init__(
        self,
        img_scale=(640, 640),
        center_ratio_range=(0.5, 1.5),
        bbox_clip_border: bool = True,
        pad_val: float = 114.0,
        prob: float = 1.0,
    ):
        if not 0 <= prob <= 1:
            raise ValueError(f"Mosaic prob must be in [0, 1], got {prob}")
        self.img_scale = tuple(img_scale)
        self.center_ratio_range = center_ratio_range
        self.bbox_clip_border = bbox_clip_border
        self.pad_val = pad_val
        self.prob = prob

    def get_indexes(self, dataset) -> list[int]:
        return [int(i) for i in data_rng().integers(0, len(dataset), 3)]

    def transform(self, results: dict) -> dict:
        if data_rng().random() > self.prob:
            return results
        mix = results.get("mix_results")
        if not mix or len(mix) != 3:
            raise KeyError(
                "Mosaic needs results['mix_results'] with 3 samples: wrap the dataset in MultiImageMixDataset"
            )
        samples = [results, *mix]
        for s in samples:
            _no_masks(s, "Mosaic")
        w, h = self.img_scale
        canvas = np.full((2 * h, 2 * w, results["img"].shape[2]), self.pad_val, dtype=results["img"].dtype)
        cx = int(data_rng().uniform(*self.center_ratio_range) * w)
        cy = int(data_rng().uniform(*self.center_ratio_range) * h)
        boxes, labels, ignores = [], [], []
        for k, s in enumerate(samples):
            img = s["img"]
            ih, iw = img.shape[:2]
            ratio = min(h / ih, w / iw)
            new_w, new_h = max(int(iw * ratio), 1), max(int(ih * ratio), 1)
            # boxes follow the size actually produced, not the nominal ratio (no sub-pixel drift)
            sx, sy = new_w / iw, new_h / ih
            img = cv2.resize(img, (new_w, new_h))
            ih, iw = img.shape[:2]
            # paste window on the canvas (x1, y1, x2, y2) and the matching crop of the image
            if k == 0:  # top left
                x1, y1, x2, y2 = max(cx - iw, 0), max(cy - ih, 0), cx, cy
                crop = (iw - (x2 - x1), ih - (y2 - y1), iw, ih)
            elif k == 1:  # top right
                x1, y1, x2, y2 = cx, max(cy - ih, 0), min(cx + iw, 2 * w), cy
                crop = (0, ih - (y2 - y1), min(iw, x2 - x1), ih)
            elif k == 2:  # bottom left
                x1, y1, x2, y2 = max(cx - iw, 0), cy, cx, min(2 * h, cy + ih)
                crop = (iw - (x2 - x1), 0, iw, min(y2 - y1, ih))
            else:  # bottom right
                x1, y1, x2, y2 = cx, cy, min(cx + iw, 2 * w), min(2 * h, cy + ih)
                crop = (0, 0, min(iw, x2 - x1), min(y2 - y1, ih))
            cx1, cy1, cx2, cy2 = crop
            canvas[y1:y2, x1:x2] = img[cy1:cy2, cx1:cx2]
            b = s["gt_bboxes"] * np.array([sx, sy, sx, sy], np.float32) + np.array([x1 - cx1, y1 - cy1] * 2, np.float32)
            boxes.append(b.astype(np.float32))
            labels.append(s["gt_bboxes_labels"])
            ignores.append(s.get("gt_ignore_flags", np.zeros(len(b), bool)))
        boxes = np.concatenate(boxes).reshape(-1, 4)
        if self.bbox_clip_border:
            boxes[:, 0::2] = boxes[:, 0::2].clip(0, 2 * w)
            boxes[:, 1::2] = boxes[:, 1::2].clip(0, 2 * h)
        results.update(
            img=canvas,
            img_shape=canvas.shape[:2],
            gt_bboxes=boxes,
            gt_bboxes_labels=np.concatenate(labels).astype(np.int64),
            gt_ignore_flags=np.concatenate(ignores).astype(bool),
        )
        results.pop("mix_results", None)
        _keep_valid(results)
        return results


@TRANSFORMS.register_module()
class MixUp(BaseTransform):
    """Blend with another sample (YOLOX): the other image is scaled to ``img_scale`` times a random ratio, maybe
    flipped, cropped/padded to this image's size, and averaged; boxes of both are kept."""

    def __init__(
        self,
        img_scale=(640, 640),
        ratio_range=(0.5, 1.5),
        flip_ratio: float = 0.5,
        pad_val: float = 114.0,
        max_iters: int = 15,
        bbox_clip_border: bool = True,
    ):
        self.img_scale = tuple(img_scale)
        self.ratio_range = ratio_range
        self.flip_ratio = flip_ratio
        self.pad_val = pad_val
        self.max_iters = max_iters
        self.bbox_clip_border = bbox_clip_border

    def get_indexes(self, dataset) -> list[int]:
        for _ in range(self.max_iters):
            idx = int(data_rng().integers(0, len(dataset)))
            if dataset.get_data_info(idx)["instances"]:
                return [idx]
        return [idx]

    def transform(self, results: dict) -> dict:
        mix = results.get("mix_results")
        if not mix:
            raise KeyError("MixUp needs results['mix_results']: wrap the dataset in MultiImageMixDataset")
        other = mix[0]
        _no_masks(results, "MixUp")
        _no_masks(other, "MixUp")
        if len(other["gt_bboxes"]) == 0:
            results.pop("mix_results", None)
            return results
        rng = data_rng()
        w, h = self.img_scale
        oimg = other["img"]
        canvas = np.full((h, w, oimg.shape[2]), self.pad_val, dtype=oimg.dtype)
        ratio = min(h / oimg.shape[0], w / oimg.shape[1])
        oimg = cv2.resize(oimg, (int(oimg.shape[1] * ratio), int(oimg.shape[0] * ratio)))
        canvas[: oimg.shape[0], : oimg.shape[1]] = oimg
        jitter = rng.uniform(*self.ratio_range)
        canvas = cv2.resize(canvas, (int(w * jitter), int(h * jitter)))
        flip = rng.uniform(0, 1) < self.flip_ratio
        if flip:
            canvas = cv2.flip(canvas, 1)
        tgt_h, tgt_w = results["img"].shape[:2]
        ch, cw = canvas.shape[:2]
        padded = np.full((max(ch, tgt_h), max(cw, tgt_w), canvas.shape[2]), self.pad_val, dtype=canvas.dtype)
        padded[:ch, :cw] = canvas
        y0 = int(rng.integers(0, padded.shape[0] - tgt_h + 1))
        x0 = int(rng.integers(0, padded.shape[1] - tgt_w + 1))
        patch = padded[y0 : y0 + tgt_h, x0 : x0 + tgt_w]
        boxes = other["gt_bboxes"] * ratio * jitter
        if flip:
            boxes[:, [0, 2]] = cw - boxes[:, [2, 0]]
        boxes = boxes - np.array([x0, y0, x0, y0], dtype=np.float32)
        if self.bbox_clip_border:
            boxes[:, 0::2] = boxes[:, 0::2].clip(0, tgt_w)
            boxes[:, 1::2] = boxes[:, 1::2].clip(0, tgt_h)
        keep = ((boxes[:, 2] - boxes[:, 0]) > 0) & ((boxes[:, 3] - boxes[:, 1]) > 0)
        mixed = 0.5 * results["img"].astype(np.float32) + 0.5 * patch.astype(np.float32)
        results["img"] = mixed.astype(results["img"].dtype)
        other_ign = other.get("gt_ignore_flags", np.zeros(len(boxes), bool))
        results["gt_bboxes"] = np.concatenate([results["gt_bboxes"], boxes[keep].astype(np.float32)])
        results["gt_bboxes_labels"] = np.concatenate([results["gt_bboxes_labels"], other["gt_bboxes_labels"][keep]])
        results["gt_ignore_flags"] = np.concatenate(
            [
                results.get("gt_ignore_flags", np.zeros(len(results["gt_bboxes_labels"]) - keep.sum(), bool)),
                other_ign[keep],
            ]
        )
        results.pop("mix_results", None)
        return results
