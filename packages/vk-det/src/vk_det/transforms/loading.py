"""Loading transforms: annotations of a data item into arrays/masks, and images given as arrays."""

from __future__ import annotations

import numpy as np
from vk_core.transforms import BaseTransform

from ..registry import TRANSFORMS
from ..structures import BitmapMasks, PolygonMasks
from ..structures._maskapi import mask_api


@TRANSFORMS.register_module()
class LoadImageFromNDArray(BaseTransform):
    """Take ``results['img']`` (an HxWx3 BGR uint8 array, or HxW) as the image; for inference on arrays."""

    def __init__(self, to_float32: bool = False):
        self.to_float32 = to_float32

    def transform(self, results: dict) -> dict:
        img = results.get("img")
        if not isinstance(img, np.ndarray) or img.ndim not in (2, 3):
            raise ValueError(f"LoadImageFromNDArray expects results['img'] as an HxW(xC) array, got {type(img)}")
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        if self.to_float32:
            img = img.astype(np.float32)
        results["img"] = img
        results.setdefault("img_path", None)
        results["img_shape"] = img.shape[:2]
        results["ori_shape"] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadAnnotations(BaseTransform):
    """Turn ``results['instances']`` into ``gt_bboxes`` (N, 4) float32 xyxy, ``gt_bboxes_labels`` (N,) int64,
    ``gt_ignore_flags`` (N,) bool, ``gt_masks`` (BitmapMasks with ``poly2mask``, else PolygonMasks) and
    ``gt_seg_map`` (from ``seg_map_path``)."""

    def __init__(
        self,
        with_bbox: bool = True,
        with_label: bool = True,
        with_mask: bool = False,
        with_seg: bool = False,
        poly2mask: bool = True,
        box_type: str | None = "hbox",
        reduce_zero_label: bool = False,
        ignore_index: int = 255,
        backend_args: dict | None = None,
        imdecode_backend: str = "cv2",
    ):
        self.with_bbox = with_bbox
        self.with_label = with_label
        self.with_mask = with_mask
        self.with_seg = with_seg
        self.poly2mask = poly2mask
        self.box_type = box_type
        self.reduce_zero_label = reduce_zero_label
        self.ignore_index = ignore_index
        self.backend_args = backend_args

    def _instances(self, results: dict) -> list[dict]:
        if "instances" not in results:
            raise KeyError(f"LoadAnnotations needs results['instances'] (image {results.get('img_path')})")
        return results["instances"]

    def _mask_of(self, seg, h: int, w: int, where: str):
        api = mask_api()
        if isinstance(seg, list):
            polys = [np.asarray(p, dtype=np.float64) for p in seg if len(p) >= 6 and len(p) % 2 == 0]
            if not polys:
                polys = [np.zeros(6)]  # as upstream: an empty placeholder, later filtered by area
            if self.poly2mask:
                return api.merge(api.frPyObjects([p.tolist() for p in polys], h, w))
            return polys
        if isinstance(seg, dict) and "counts" in seg:
            rle = api.frPyObjects(seg, h, w) if isinstance(seg["counts"], list) else seg
            if isinstance(rle.get("counts"), str):
                rle = dict(size=rle["size"], counts=rle["counts"].encode())
            if self.poly2mask:
                return rle
            return [np.zeros(6)]
        raise ValueError(f"{where}: mask must be a polygon list or an RLE dict, got {type(seg).__name__}")

    def transform(self, results: dict) -> dict:
        instances = self._instances(results) if (self.with_bbox or self.with_label or self.with_mask) else []
        if self.with_bbox:
            boxes = np.array([inst["bbox"] for inst in instances], dtype=np.float32).reshape(-1, 4)
            results["gt_bboxes"] = boxes
            results["gt_ignore_flags"] = np.array([bool(inst.get("ignore_flag", 0)) for inst in instances], bool)
        if self.with_label:
            results["gt_bboxes_labels"] = np.array([inst["bbox_label"] for inst in instances], dtype=np.int64)
        if self.with_mask:
            h, w = results["ori_shape"] if "ori_shape" in results else (results["height"], results["width"])
            masks = []
            for i, inst in enumerate(instances):
                where = f"{results.get('img_path')}: instance {i}"
                if "mask" not in inst:
                    raise KeyError(f"{where} has no 'mask' (with_mask=True)")
                masks.append(self._mask_of(inst["mask"], h, w, where))
            if self.poly2mask:
                # One decode call for all instances; (H, W, N) Fortran order -> (N, H, W) C order.
                bitmaps = np.ascontiguousarray(mask_api().decode(masks).transpose(2, 0, 1)) if masks else None
                results["gt_masks"] = BitmapMasks(bitmaps, h, w)
            else:
                results["gt_masks"] = PolygonMasks(masks, h, w)
        if self.with_seg:
            import cv2

            path = results.get("seg_map_path")
            seg = cv2.imread(path, cv2.IMREAD_UNCHANGED) if path else None
            if seg is None:
                raise FileNotFoundError(f"cannot read the semantic map {path!r} of image {results.get('img_path')}")
            if self.reduce_zero_label:
                seg = seg.astype(np.int64)
                seg[seg == 0] = self.ignore_index + 1
                seg = seg - 1
                seg[seg == self.ignore_index] = self.ignore_index
                seg = seg.astype(np.uint8)
            results["gt_seg_map"] = seg
        return results

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(with_bbox={self.with_bbox}, with_label={self.with_label}, "
            f"with_mask={self.with_mask}, with_seg={self.with_seg}, poly2mask={self.poly2mask})"
        )
