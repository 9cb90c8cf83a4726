"""Base class of RoI feature extractors: one RoI layer per feature level."""

from __future__ import annotations

import torch
import torch.nn as nn
from torch import Tensor
from vk_core.model import BaseModule


def _pair(v) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    v = tuple(v)
    if len(v) != 2:
        raise ValueError(f"roi_layer.output_size must be an int or a pair, got {v!r}")
    return (int(v[0]), int(v[1]))


class BaseRoIExtractor(BaseModule):
    """Build ``roi_layer`` once per stride in ``featmap_strides`` with ``spatial_scale = 1 / stride``.

    ``roi_layer['type']`` names a class in :mod:`vk_ops` (``'RoIAlign'``, ``'RoIPool'``) or is a class itself.
    """

    def __init__(self, roi_layer: dict, out_channels: int, featmap_strides: list[int], init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not featmap_strides:
            raise ValueError("RoI extractor: featmap_strides must list at least one stride")
        if "type" not in roi_layer:
            raise KeyError(f"RoI extractor: roi_layer needs a 'type' key, got {dict(roi_layer)!r}")
        self.roi_layers = self.build_roi_layers(roi_layer, featmap_strides)
        self.out_channels = out_channels
        self.featmap_strides = list(featmap_strides)
        self.out_size = _pair(roi_layer.get("output_size", 7))

    @property
    def num_inputs(self) -> int:
        return len(self.featmap_strides)

    def build_roi_layers(self, layer_cfg: dict, featmap_strides: list[int]) -> nn.ModuleList:
        cfg = dict(layer_cfg)
        layer_type = cfg.pop("type")
        if isinstance(layer_type, str):
            import vk_ops

            # vk_ops always provides the class: its ops fall back to the PyTorch references without kernels.
            if not hasattr(vk_ops, layer_type):
                raise KeyError(f"RoI extractor: roi_layer type {layer_type!r} is not an op class in vk_ops")
            layer_cls = getattr(vk_ops, layer_type)
        else:
            layer_cls = layer_type
        return nn.ModuleList([layer_cls(spatial_scale=1.0 / s, **cfg) for s in featmap_strides])

    def roi_rescale(self, rois: Tensor, scale_factor: float) -> Tensor:
        """Scale each RoI about its centre by ``scale_factor`` (the image-index column is kept)."""
        cx = (rois[:, 1] + rois[:, 3]) * 0.5
        cy = (rois[:, 2] + rois[:, 4]) * 0.5
        w = (rois[:, 3] - rois[:, 1]) * scale_factor
        h = (rois[:, 4] - rois[:, 2]) * scale_factor
        return torch.stack([rois[:, 0], cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=-1)

    def forward(self, feats: tuple[Tensor], rois: Tensor, roi_scale_factor: float | None = None) -> Tensor:
        raise NotImplementedError
