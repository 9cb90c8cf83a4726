"""HorizontalBoxes: an (N, 4) xyxy float tensor with the geometric operations transforms and heads need."""

from __future__ import annotations

import numpy as np
import torch


class HorizontalBoxes:
    """Axis-aligned boxes stored as ``tensor`` of shape (N, 4) in (x1, y1, x2, y2) order.

    ``in_mode`` converts at construction from ``'xywh'`` (COCO) or ``'cxcywh'``. In-place methods end in ``_``
    and return ``self`` so calls chain, as in MMDetection 3.x.
    """

    box_dim = 4

    def __init__(self, data, dtype=None, device=None, clone: bool = True, in_mode: str | None = None):
        if isinstance(data, HorizontalBoxes):
            data = data.tensor
        if isinstance(data, (np.ndarray, list, tuple)):
            data = torch.as_tensor(np.asarray(data, dtype=np.float32))
        elif not isinstance(data, torch.Tensor):
            raise TypeError(f"HorizontalBoxes data must be a tensor, array or list, got {type(data).__name__}")
        elif clone:
            data = data.clone()
        if dtype is not None or device is not None:
            data = data.to(dtype=dtype, device=device)
        if data.numel() == 0:
            data = data.reshape(0, 4)
        if data.ndim < 2 or data.shape[-1] != 4:
            raise ValueError(f"HorizontalBoxes needs shape (..., 4), got {tuple(data.shape)}")
        if not data.is_floating_point():
            data = data.float()
        if in_mode is not None:
            data = self._convert_in(data, in_mode)
        self.tensor = data

    @staticmethod
    def _convert_in(data: torch.Tensor, mode: str) -> torch.Tensor:
        if mode == "xyxy":
            return data
        if mode == "xywh":
            return torch.cat([data[..., :2], data[..., :2] + data[..., 2:]], dim=-1)
        if mode == "cxcywh":
            return torch.cat([data[..., :2] - data[..., 2:] / 2, data[..., :2] + data[..., 2:] / 2], dim=-1)
        raise ValueError(f"in_mode must be 'xyxy', 'xywh' or 'cxcywh', got {mode!r}")

    # --- container protocol -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.tensor.shape[0]

    def __getitem__(self, index) -> HorizontalBoxes:
        if isinstance(index, np.ndarray):
            index = torch.as_tensor(index, device=self.tensor.device)
        data = self.tensor[index]
        if data.ndim == 1:
            data = data.reshape(1, -1)
        return type(self)(data, clone=False)

    def __setitem__(self, index, value) -> None:
        self.tensor[index] = value.tensor if isinstance(value, HorizontalBoxes) else value

    def __repr__(self) -> str:
        return f"HorizontalBoxes({self.tensor!r})"

    @property
    def shape(self):
        return self.tensor.shape

    @property
    def device(self):
        return self.tensor.device

    @property
    def dtype(self):
        return self.tensor.dtype

    def size(self, dim=None):
        return self.tensor.size() if dim is None else self.tensor.size(dim)

    def numel(self) -> int:
        return self.tensor.numel()

    def to(self, *args, **kwargs) -> HorizontalBoxes:
        return type(self)(self.tensor.to(*args, **kwargs), clone=False)

    def cpu(self) -> HorizontalBoxes:
        return type(self)(self.tensor.cpu(), clone=False)

    def cuda(self, *args, **kwargs) -> HorizontalBoxes:
        return type(self)(self.tensor.cuda(*args, **kwargs), clone=False)

    def clone(self) -> HorizontalBoxes:
        return type(self)(self.tensor)

    def detach(self) -> HorizontalBoxes:
        return type(self)(self.tensor.detach(), clone=False)

    def numpy(self) -> np.ndarray:
        return self.tensor.detach().cpu().numpy()

    def new_tensor(self, data):
        return self.tensor.new_tensor(data)

    @classmethod
    def cat(cls, box_list, dim: int = 0) -> HorizontalBoxes:
        if not box_list:
            raise ValueError("HorizontalBoxes.cat needs at least one HorizontalBoxes")
        return cls(torch.cat([b.tensor for b in box_list], dim=dim), clone=False)

    # --- geometry ---------------------------------------------------------------------------------------------
    @property
    def widths(self) -> torch.Tensor:
        return self.tensor[..., 2] - self.tensor[..., 0]

    @property
    def heights(self) -> torch.Tensor:
        return self.tensor[..., 3] - self.tensor[..., 1]

    @property
    def areas(self) -> torch.Tensor:
        return self.widths * self.heights

    @property
    def centers(self) -> torch.Tensor:
        return (self.tensor[..., :2] + self.tensor[..., 2:]) / 2

    def flip_(self, img_shape, direction: str = "horizontal") -> HorizontalBoxes:
        from .bbox import bbox_flip

        self.tensor = bbox_flip(self.tensor, img_shape, direction)
        return self

    def translate_(self, distances) -> HorizontalBoxes:
        dx, dy = distances
        self.tensor = self.tensor + self.tensor.new_tensor([dx, dy, dx, dy])
        return self

    def clip_(self, img_shape) -> HorizontalBoxes:
        h, w = img_shape[:2]
        t = self.tensor.clone()
        t[..., 0::2] = t[..., 0::2].clamp(0, w)
        t[..., 1::2] = t[..., 1::2].clamp(0, h)
        self.tensor = t
        return self

    def rescale_(self, scale_factor) -> HorizontalBoxes:
        """Scale coordinates by ``scale_factor`` = (w_scale, h_scale)."""
        sx, sy = scale_factor
        self.tensor = self.tensor * self.tensor.new_tensor([sx, sy, sx, sy])
        return self

    def resize_(self, scale_factor) -> HorizontalBoxes:
        """Scale widths and heights about the box centres by (w_scale, h_scale)."""
        sx, sy = scale_factor
        ctr = self.centers
        wh = torch.stack([self.widths * sx, self.heights * sy], dim=-1)
        self.tensor = torch.cat([ctr - wh / 2, ctr + wh / 2], dim=-1)
        return self

    def is_inside(self, img_shape, all_inside: bool = False, allowed_border: int = 0) -> torch.Tensor:
        h, w = img_shape[:2]
        t = self.tensor
        if all_inside:
            return (
                (t[:, 0] >= -allowed_border)
                & (t[:, 1] >= -allowed_border)
                & (t[:, 2] < w + allowed_border)
                & (t[:, 3] < h + allowed_border)
            )
        return (
            (t[..., 0] < w + allowed_border)
            & (t[..., 1] < h + allowed_border)
            & (t[..., 2] > -allowed_border)
            & (t[..., 3] > -allowed_border)
        )

    def find_inside_points(self, points: torch.Tensor, is_aligned: bool = False) -> torch.Tensor:
        """(P, N) bool: point p inside box n (or (N,) when ``is_aligned``)."""
        t = self.tensor
        if is_aligned:
            x, y = points[:, 0], points[:, 1]
            return (x >= t[:, 0]) & (x <= t[:, 2]) & (y >= t[:, 1]) & (y <= t[:, 3])
        x, y = points[:, 0:1], points[:, 1:2]
        return (x >= t[None, :, 0]) & (x <= t[None, :, 2]) & (y >= t[None, :, 1]) & (y <= t[None, :, 3])

    @staticmethod
    def overlaps(boxes1, boxes2, mode: str = "iou", is_aligned: bool = False, eps: float = 1e-6) -> torch.Tensor:
        from .bbox import get_box_tensor

        b1, b2 = get_box_tensor(boxes1), get_box_tensor(boxes2)
        return bbox_iou(b1, b2, mode=mode, is_aligned=is_aligned, eps=eps)

    @staticmethod
    def from_instance_masks(masks) -> HorizontalBoxes:
        return HorizontalBoxes(masks.get_bboxes(dst_type=None) if len(masks) else np.zeros((0, 4), np.float32))


def bbox_iou(b1: torch.Tensor, b2: torch.Tensor, mode: str = "iou", is_aligned: bool = False, eps: float = 1e-6):
    """IoU / IoF / GIoU of xyxy boxes (pure torch, differentiable); (N, M), or (N,) when aligned."""
    if mode not in ("iou", "iof", "giou"):
        raise ValueError(f"mode must be 'iou', 'iof' or 'giou', got {mode!r}")
    area1 = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1])
    area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])
    if not is_aligned:
        b1, area1 = b1[..., :, None, :], area1[..., :, None]
        b2, area2 = b2[..., None, :, :], area2[..., None, :]
    lt = torch.maximum(b1[..., :2], b2[..., :2])
    rb = torch.minimum(b1[..., 2:], b2[..., 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area1 if mode == "iof" else area1 + area2 - inter
    ious = inter / union.clamp(min=eps)
    if mode != "giou":
        return ious
    elt = torch.minimum(b1[..., :2], b2[..., :2])
    erb = torch.maximum(b1[..., 2:], b2[..., 2:])
    ewh = (erb - elt).clamp(min=0)
    enclose = (ewh[..., 0] * ewh[..., 1]).clamp(min=eps)
    return ious - (enclose - union) / enclose
