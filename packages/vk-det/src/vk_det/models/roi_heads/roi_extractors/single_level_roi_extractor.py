"""SingleRoIExtractor: each RoI is pooled from the one FPN level that matches its scale."""

from __future__ import annotations

import torch
from torch import Tensor

from vk_det.registry import MODELS

from .base_roi_extractor import BaseRoIExtractor


@MODELS.register_module()
class SingleRoIExtractor(BaseRoIExtractor):
    """Pool RoI features from a single level chosen by scale (FPN paper, eq. 1).

    An RoI of scale ``s = sqrt(w * h)`` goes to level ``floor(log2(s / finest_scale + 1e-6))`` clipped to the
    available levels: below 112 px -> level 0, 112-224 -> 1, 224-448 -> 2, larger -> 3 with the default 56.
    """

    def __init__(
        self,
        roi_layer: dict,
        out_channels: int,
        featmap_strides: list[int],
        finest_scale: int = 56,
        init_cfg=None,
    ) -> None:
        super().__init__(
            roi_layer=roi_layer, out_channels=out_channels, featmap_strides=featmap_strides, init_cfg=init_cfg
        )
        self.finest_scale = finest_scale

    def map_roi_levels(self, rois: Tensor, num_levels: int) -> Tensor:
        scale = torch.sqrt((rois[:, 3] - rois[:, 1]) * (rois[:, 4] - rois[:, 2]))
        target_lvls = torch.floor(torch.log2(scale / self.finest_scale + 1e-6))
        return target_lvls.clamp(min=0, max=num_levels - 1).long()

    def forward(self, feats: tuple[Tensor], rois: Tensor, roi_scale_factor: float | None = None) -> Tensor:
        if rois.dim() != 2 or rois.size(1) != 5:
            raise ValueError(f"SingleRoIExtractor: rois must have shape (n, 5), got {tuple(rois.shape)}")
        feats = feats[: self.num_inputs]
        num_levels = len(feats)
        roi_feats = feats[0].new_zeros(rois.size(0), self.out_channels, *self.out_size)
        if num_levels == 1:
            if rois.size(0) == 0:
                return roi_feats
            return self.roi_layers[0](feats[0], rois)
        target_lvls = self.map_roi_levels(rois, num_levels)
        if roi_scale_factor is not None:
            rois = self.roi_rescale(rois, roi_scale_factor)
        for i in range(num_levels):
            inds = (target_lvls == i).nonzero(as_tuple=False).squeeze(1)
            if inds.numel() > 0:
                roi_feats[inds] = self.roi_layers[i](feats[i], rois[inds]).to(roi_feats.dtype)
            else:
                # Keep every level in the autograd graph so DDP does not see unused parameters.
                roi_feats = roi_feats + feats[i].sum() * 0.0
        return roi_feats
