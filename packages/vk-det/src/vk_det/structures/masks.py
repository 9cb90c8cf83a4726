"""Instance masks that follow the image through geometric transforms: BitmapMasks and PolygonMasks.

Both keep ``height``/``width`` of the image they belong to. Sizes follow vk's convention: ``out_shape`` is
(h, w), ``scale`` given to ``rescale`` is (w, h) or a float, crop boxes are xyxy in pixels.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ._maskapi import mask_api

_INTERP = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos": cv2.INTER_LANCZOS4,
}


def rescale_size(old_size, scale, return_scale: bool = False):
    """New (w, h) keeping the aspect ratio: ``scale`` is a factor or a (long, short) edge bound pair."""
    w, h = old_size
    if isinstance(scale, (int, float)):
        if scale <= 0:
            raise ValueError(f"scale factor must be positive, got {scale}")
        factor = float(scale)
    elif isinstance(scale, (tuple, list)) and len(scale) == 2:
        long_edge, short_edge = max(scale), min(scale)
        factor = min(long_edge / max(h, w), short_edge / min(h, w))
    else:
        raise TypeError(f"scale must be a number or a (w, h) pair, got {scale!r}")
    new_size = (int(w * factor + 0.5), int(h * factor + 0.5))
    return (new_size, factor) if return_scale else new_size


def _check_interp(name: str) -> int:
    if name not in _INTERP:
        raise ValueError(f"interpolation must be one of {sorted(_INTERP)}, got {name!r}")
    return _INTERP[name]


class BitmapMasks:
    """Binary masks as a uint8 array (N, H, W)."""

    def __init__(self, masks, height: int, width: int):
        self.height, self.width = int(height), int(width)
        if isinstance(masks, torch.Tensor):
            masks = masks.detach().cpu().numpy()
        if isinstance(masks, list):
            masks = np.stack(masks).reshape(-1, self.height, self.width) if masks else None
        if masks is None or len(masks) == 0:
            self.masks = np.empty((0, self.height, self.width), dtype=np.uint8)
        else:
            masks = np.asarray(masks)
            if masks.ndim != 3 or masks.shape[1:] != (self.height, self.width):
                raise ValueError(
                    f"BitmapMasks expects shape (N, {self.height}, {self.width}), got {tuple(masks.shape)}"
                )
            self.masks = masks.astype(np.uint8, copy=False)

    def __len__(self) -> int:
        return len(self.masks)

    def __getitem__(self, index) -> BitmapMasks:
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        masks = self.masks[index].reshape(-1, self.height, self.width)
        return BitmapMasks(masks, self.height, self.width)

    def __iter__(self):
        return iter(self.masks)

    def __repr__(self) -> str:
        return f"BitmapMasks(num_masks={len(self)}, height={self.height}, width={self.width})"

    @classmethod
    def cat(cls, masks: list[BitmapMasks]) -> BitmapMasks:
        if not masks:
            raise ValueError("BitmapMasks.cat needs at least one BitmapMasks")
        h, w = masks[0].height, masks[0].width
        return cls(np.concatenate([m.masks for m in masks]), h, w)

    # --- geometry -----------------------------------------------------------------------------------------
    def _map(self, fn, out_h: int, out_w: int) -> BitmapMasks:
        """Apply a per-channel image op; cv2 handles up to 512 channels at once, so chunk by that."""
        if len(self) == 0:
            return BitmapMasks(None, out_h, out_w)
        result = np.empty((len(self), out_h, out_w), dtype=np.uint8)
        hwc = self.masks.transpose(1, 2, 0)
        for start in range(0, hwc.shape[2], 512):
            out = fn(np.ascontiguousarray(hwc[:, :, start : start + 512]))
            result[start : start + 512] = out.reshape(out_h, out_w, -1).transpose(2, 0, 1)
        return BitmapMasks(result, out_h, out_w)

    def rescale(self, scale, interpolation: str = "nearest") -> BitmapMasks:
        new_w, new_h = rescale_size((self.width, self.height), scale)
        return self.resize((new_h, new_w), interpolation)

    def resize(self, out_shape, interpolation: str = "nearest") -> BitmapMasks:
        out_h, out_w = int(out_shape[0]), int(out_shape[1])
        interp = _check_interp(interpolation)
        if interpolation == "nearest" and len(self):
            # Columns: one cv2 call on the stacked (N*H, W) image resizes every mask's rows, no transposes.
            # Rows: gathered with the row map cv2 itself computes (resizing a column of row indices), so the
            # result equals per-mask cv2 exactly.
            n, h, w = len(self), self.height, self.width
            masks = np.ascontiguousarray(self.masks)
            if out_w != w:
                masks = cv2.resize(masks.reshape(n * h, w), (out_w, n * h), interpolation=cv2.INTER_NEAREST)
                masks = masks.reshape(n, h, out_w)
            if out_h != h:
                index = np.arange(h, dtype=np.int32).reshape(h, 1)
                rows = cv2.resize(index, (1, out_h), interpolation=cv2.INTER_NEAREST).reshape(-1)
                masks = masks[:, rows]
            return BitmapMasks(masks, out_h, out_w)
        return self._map(lambda m: cv2.resize(m, (out_w, out_h), interpolation=interp), out_h, out_w)

    def flip(self, flip_direction: str = "horizontal") -> BitmapMasks:
        if flip_direction not in ("horizontal", "vertical", "diagonal"):
            raise ValueError(f"flip_direction must be horizontal, vertical or diagonal, got {flip_direction!r}")
        if len(self) == 0:
            return BitmapMasks(None, self.height, self.width)
        masks = np.ascontiguousarray(self.masks)
        n = len(masks)
        if flip_direction in ("horizontal", "diagonal"):
            # Flipping each row of the stacked (N*H, W) image flips every mask horizontally.
            masks = cv2.flip(masks.reshape(n * self.height, self.width), 1).reshape(n, self.height, self.width)
        if flip_direction in ("vertical", "diagonal"):
            masks = np.ascontiguousarray(masks[:, ::-1])  # whole rows move: a fast row-wise copy
        return BitmapMasks(masks, self.height, self.width)

    def pad(self, out_shape, pad_val: int = 0) -> BitmapMasks:
        out_h, out_w = int(out_shape[0]), int(out_shape[1])
        if out_h < self.height or out_w < self.width:
            raise ValueError(f"pad out_shape {out_shape} is smaller than the masks ({self.height}, {self.width})")
        padded = np.full((len(self), out_h, out_w), pad_val, dtype=np.uint8)
        padded[:, : self.height, : self.width] = self.masks
        return BitmapMasks(padded, out_h, out_w)

    def crop(self, bbox) -> BitmapMasks:
        bbox = np.asarray(bbox)
        if bbox.shape != (4,):
            raise ValueError(f"crop bbox must be (x1, y1, x2, y2), got shape {bbox.shape}")
        x1, x2 = np.clip(bbox[0::2], 0, self.width).astype(int)
        y1, y2 = np.clip(bbox[1::2], 0, self.height).astype(int)
        w, h = max(x2 - x1, 1), max(y2 - y1, 1)
        if len(self) == 0:
            return BitmapMasks(None, h, w)
        return BitmapMasks(self.masks[:, y1 : y1 + h, x1 : x1 + w], h, w)

    def expand(self, expanded_h: int, expanded_w: int, top: int, left: int) -> BitmapMasks:
        out = np.zeros((len(self), expanded_h, expanded_w), dtype=np.uint8)
        out[:, top : top + self.height, left : left + self.width] = self.masks
        return BitmapMasks(out, expanded_h, expanded_w)

    def translate(self, out_shape, offset: float, direction: str = "horizontal", border_value=0) -> BitmapMasks:
        out_h, out_w = out_shape
        out = np.full((len(self), out_h, out_w), border_value, dtype=np.uint8)
        off = int(offset)
        src = self.masks[:, :out_h, :out_w]
        if direction == "horizontal":
            if off >= 0:
                out[:, : src.shape[1], off : src.shape[2]] = src[:, :, : max(src.shape[2] - off, 0)]
            else:
                out[:, : src.shape[1], : src.shape[2] + off] = src[:, :, -off:]
        elif direction == "vertical":
            if off >= 0:
                out[:, off : src.shape[1], : src.shape[2]] = src[:, : max(src.shape[1] - off, 0)]
            else:
                out[:, : src.shape[1] + off, : src.shape[2]] = src[:, -off:]
        else:
            raise ValueError(f"direction must be horizontal or vertical, got {direction!r}")
        return BitmapMasks(out, out_h, out_w)

    def crop_and_resize(
        self, bboxes, out_shape, inds, device="cpu", interpolation: str = "bilinear", binarize: bool = True
    ) -> BitmapMasks:
        """Crop mask ``inds[i]`` to ``bboxes[i]`` and resize to ``out_shape``: the Mask R-CNN mask targets."""
        out_h, out_w = out_shape
        if len(self) == 0 or len(bboxes) == 0:
            return BitmapMasks(None, out_h, out_w)
        if isinstance(bboxes, np.ndarray):
            bboxes = torch.from_numpy(bboxes)
        if isinstance(inds, np.ndarray):
            inds = torch.from_numpy(inds)
        bboxes = bboxes.to(device=device, dtype=torch.float32)
        inds = inds.to(device=device, dtype=bboxes.dtype)
        rois = torch.cat([torch.arange(len(bboxes), device=device, dtype=bboxes.dtype)[:, None], bboxes], dim=1)
        gt = torch.from_numpy(self.masks).to(device=device).index_select(0, inds.long()).to(rois.dtype)
        targets = _roi_align(gt[:, None], rois, (out_h, out_w)).squeeze(1)
        resized = (targets >= 0.5) if binarize else targets
        return BitmapMasks(resized.cpu().numpy(), out_h, out_w)

    # --- conversions --------------------------------------------------------------------------------------
    @property
    def areas(self) -> np.ndarray:
        return self.masks.sum((1, 2))

    def to_ndarray(self) -> np.ndarray:
        return self.masks

    def to_tensor(self, dtype=torch.uint8, device="cpu") -> torch.Tensor:
        return torch.tensor(self.masks, dtype=dtype, device=device)

    def get_bboxes(self, dst_type=None) -> np.ndarray:
        """Tight xyxy boxes (x2/y2 exclusive) around each mask; zeros for empty masks."""
        boxes = np.zeros((len(self), 4), dtype=np.float32)
        if len(self) == 0:
            return boxes
        cols = self.masks.any(axis=1)
        rows = self.masks.any(axis=2)
        has = cols.any(axis=1)
        x1 = cols.argmax(axis=1)
        x2 = self.width - cols[:, ::-1].argmax(axis=1)
        y1 = rows.argmax(axis=1)
        y2 = self.height - rows[:, ::-1].argmax(axis=1)
        boxes[has] = np.stack([x1, y1, x2, y2], axis=1)[has]
        return boxes

    @classmethod
    def random(cls, num_masks: int = 3, height: int = 32, width: int = 32, dtype=np.uint8, rng=None) -> BitmapMasks:
        rng = np.random.default_rng(rng)
        return cls((rng.random((num_masks, height, width)) > 0.7).astype(dtype), height, width)


def _roi_align(feat: torch.Tensor, rois: torch.Tensor, out_size) -> torch.Tensor:
    try:
        from vk_ops import roi_align
    except ImportError:
        roi_align = None
    if roi_align is not None:
        return roi_align(feat, rois, out_size, 1.0, 0, "avg", True)
    # Fallback while vk-ops lacks roi_align: bilinear sampling at pixel centres of each crop.
    n = feat.shape[0]
    out_h, out_w = out_size
    x1, y1, x2, y2 = rois[:, 1:].unbind(1)
    ys = (torch.arange(out_h, dtype=feat.dtype) + 0.5) / out_h
    xs = (torch.arange(out_w, dtype=feat.dtype) + 0.5) / out_w
    H, W = feat.shape[-2:]
    gy = (y1[:, None] + ys[None] * (y2 - y1)[:, None]) / H * 2 - 1
    gx = (x1[:, None] + xs[None] * (x2 - x1)[:, None]) / W * 2 - 1
    grid = torch.stack([gx[:, None, :].expand(n, out_h, out_w), gy[:, :, None].expand(n, out_h, out_w)], dim=-1)
    return torch.nn.functional.grid_sample(feat, grid, align_corners=False)


class PolygonMasks:
    """Masks as polygons: ``masks[i]`` is a list of flat float arrays ``[x0, y0, x1, y1, ...]`` (one per part)."""

    def __init__(self, masks, height: int, width: int):
        if not isinstance(masks, list):
            raise TypeError(f"PolygonMasks expects a list of lists of polygons, got {type(masks).__name__}")
        checked = []
        for i, parts in enumerate(masks):
            if not isinstance(parts, list):
                raise TypeError(f"PolygonMasks: instance {i} must be a list of polygons, got {type(parts).__name__}")
            polys = []
            for j, p in enumerate(parts):
                p = np.asarray(p, dtype=np.float64).reshape(-1)
                if p.size % 2 or p.size < 6:
                    raise ValueError(
                        f"PolygonMasks: instance {i} polygon {j} needs an even number >= 6 of coordinates "
                        f"(at least 3 points), got {p.size}"
                    )
                polys.append(p)
            checked.append(polys)
        self.masks = checked
        self.height, self.width = int(height), int(width)

    def __len__(self) -> int:
        return len(self.masks)

    def __getitem__(self, index) -> PolygonMasks:
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        if isinstance(index, np.ndarray):
            if index.dtype == bool:
                index = np.where(index)[0]
            masks = [self.masks[int(i)] for i in index]
        elif isinstance(index, (list, tuple)):
            masks = [self.masks[int(i)] for i in index]
        elif isinstance(index, slice):
            masks = self.masks[index]
        else:
            masks = [self.masks[index]]
        return PolygonMasks(masks, self.height, self.width)

    def __iter__(self):
        return iter(self.masks)

    def __repr__(self) -> str:
        return f"PolygonMasks(num_masks={len(self)}, height={self.height}, width={self.width})"

    @classmethod
    def cat(cls, masks: list[PolygonMasks]) -> PolygonMasks:
        if not masks:
            raise ValueError("PolygonMasks.cat needs at least one PolygonMasks")
        return cls([p for m in masks for p in m.masks], masks[0].height, masks[0].width)

    def _apply(self, fn, out_h: int, out_w: int) -> PolygonMasks:
        return PolygonMasks([[fn(p.copy()) for p in parts] for parts in self.masks], out_h, out_w)

    def rescale(self, scale, interpolation=None) -> PolygonMasks:
        new_w, new_h = rescale_size((self.width, self.height), scale)
        return self.resize((new_h, new_w))

    def resize(self, out_shape, interpolation=None) -> PolygonMasks:
        out_h, out_w = int(out_shape[0]), int(out_shape[1])
        sx, sy = out_w / self.width, out_h / self.height

        def scale(p):
            p[0::2] *= sx
            p[1::2] *= sy
            return p

        return self._apply(scale, out_h, out_w)

    def flip(self, flip_direction: str = "horizontal") -> PolygonMasks:
        if flip_direction not in ("horizontal", "vertical", "diagonal"):
            raise ValueError(f"flip_direction must be horizontal, vertical or diagonal, got {flip_direction!r}")
        w, h = self.width, self.height

        def flip(p):
            if flip_direction in ("horizontal", "diagonal"):
                p[0::2] = w - p[0::2]
            if flip_direction in ("vertical", "diagonal"):
                p[1::2] = h - p[1::2]
            return p

        return self._apply(flip, h, w)

    def crop(self, bbox) -> PolygonMasks:
        bbox = np.asarray(bbox)
        if bbox.shape != (4,):
            raise ValueError(f"crop bbox must be (x1, y1, x2, y2), got shape {bbox.shape}")
        x1, x2 = np.clip(bbox[0::2], 0, self.width)
        y1, y2 = np.clip(bbox[1::2], 0, self.height)
        w, h = max(x2 - x1, 1), max(y2 - y1, 1)

        # Shift and clamp to the crop; an exact polygon clip is not needed for rasterised targets.
        def crop(p):
            p[0::2] = np.clip(p[0::2] - x1, 0, w)
            p[1::2] = np.clip(p[1::2] - y1, 0, h)
            return p

        return self._apply(crop, int(h), int(w))

    def pad(self, out_shape, pad_val=0) -> PolygonMasks:
        # Padding at the bottom/right leaves coordinates unchanged.
        return PolygonMasks(self.masks, out_shape[0], out_shape[1])

    def expand(self, expanded_h: int, expanded_w: int, top: int, left: int) -> PolygonMasks:
        def shift(p):
            p[0::2] += left
            p[1::2] += top
            return p

        return self._apply(shift, expanded_h, expanded_w)

    def translate(self, out_shape, offset, direction="horizontal", border_value=None) -> PolygonMasks:
        out_h, out_w = out_shape
        axis = 0 if direction == "horizontal" else 1
        limit = out_w if axis == 0 else out_h

        def move(p):
            p[axis::2] = np.clip(p[axis::2] + offset, 0, limit)
            return p

        return self._apply(move, out_h, out_w)

    def crop_and_resize(
        self, bboxes, out_shape, inds, device="cpu", interpolation: str = "bilinear", binarize: bool = True
    ) -> BitmapMasks:
        out_h, out_w = out_shape
        if len(self) == 0 or len(bboxes) == 0:
            return BitmapMasks(None, out_h, out_w)
        if isinstance(bboxes, torch.Tensor):
            bboxes = bboxes.detach().cpu().numpy()
        if isinstance(inds, torch.Tensor):
            inds = inds.detach().cpu().numpy()
        out = []
        for box, ind in zip(bboxes, inds):
            x1, y1, x2, y2 = box[:4]
            w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
            sx, sy = out_w / w, out_h / h
            polys = []
            for p in self.masks[int(ind)]:
                q = p.copy()
                q[0::2] = (q[0::2] - x1) * sx
                q[1::2] = (q[1::2] - y1) * sy
                polys.append(q)
            out.append(polygons_to_bitmap(polys, out_h, out_w))
        return BitmapMasks(np.stack(out), out_h, out_w)

    def to_bitmap(self) -> BitmapMasks:
        return BitmapMasks(self.to_ndarray(), self.height, self.width)

    @property
    def areas(self) -> np.ndarray:
        """Polygon areas by the shoelace formula (overlapping parts counted twice, as MMDetection)."""
        areas = []
        for parts in self.masks:
            total = 0.0
            for p in parts:
                x, y = p[0::2], p[1::2]
                total += 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
            areas.append(total)
        return np.asarray(areas, dtype=np.float64)

    def to_ndarray(self) -> np.ndarray:
        if len(self) == 0:
            return np.empty((0, self.height, self.width), dtype=np.uint8)
        return np.stack([polygons_to_bitmap(parts, self.height, self.width) for parts in self.masks])

    def to_tensor(self, dtype=torch.uint8, device="cpu") -> torch.Tensor:
        return torch.tensor(self.to_ndarray(), dtype=dtype, device=device)

    def get_bboxes(self, dst_type=None) -> np.ndarray:
        boxes = np.zeros((len(self), 4), dtype=np.float32)
        for i, parts in enumerate(self.masks):
            pts = np.concatenate(parts).reshape(-1, 2)
            boxes[i] = [pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()]
        return boxes


def polygons_to_bitmap(polygons, height: int, width: int) -> np.ndarray:
    """Rasterise one instance's polygons with COCO's rules (the same pixels COCO evaluation uses)."""
    api = mask_api()
    rles = api.frPyObjects([np.asarray(p, dtype=np.float64).tolist() for p in polygons], height, width)
    return api.decode(api.merge(rles)).astype(np.uint8)
