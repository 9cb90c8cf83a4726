"""ConvFCBBoxHead and its usual presets (Shared2FCBBoxHead, Shared4Conv1FCBBoxHead)."""

from __future__ import annotations

import torch.nn as nn
from torch import Tensor
from vk_core.model import ConvModule

from vk_det.registry import MODELS

from .bbox_head import BBoxHead


@MODELS.register_module()
class ConvFCBBoxHead(BBoxHead):
    r"""Shared convs/fcs, then separate cls and reg branches of convs/fcs.

    .. code-block:: none

                                    /-> cls convs -> cls fcs -> cls
        shared convs -> shared fcs
                                    \-> reg convs -> reg fcs -> reg
    """

    def __init__(
        self,
        num_shared_convs: int = 0,
        num_shared_fcs: int = 0,
        num_cls_convs: int = 0,
        num_cls_fcs: int = 0,
        num_reg_convs: int = 0,
        num_reg_fcs: int = 0,
        conv_out_channels: int = 256,
        fc_out_channels: int = 1024,
        conv_cfg: dict | None = None,
        norm_cfg: dict | None = None,
        init_cfg=None,
        **kwargs,
    ) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        counts = dict(
            num_shared_convs=num_shared_convs,
            num_shared_fcs=num_shared_fcs,
            num_cls_convs=num_cls_convs,
            num_cls_fcs=num_cls_fcs,
            num_reg_convs=num_reg_convs,
            num_reg_fcs=num_reg_fcs,
        )
        for key, value in counts.items():
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"ConvFCBBoxHead: {key} must be a non-negative int, got {value!r}")
        if num_shared_convs + num_shared_fcs + num_cls_convs + num_cls_fcs + num_reg_convs + num_reg_fcs == 0:
            raise ValueError("ConvFCBBoxHead: at least one conv or fc layer is needed")
        if (num_cls_convs > 0 or num_reg_convs > 0) and num_shared_fcs != 0:
            raise ValueError("ConvFCBBoxHead: cls/reg convs cannot follow shared fcs (num_shared_fcs must be 0)")
        if not self.with_cls and (num_cls_convs or num_cls_fcs):
            raise ValueError("ConvFCBBoxHead: with_cls=False but cls convs/fcs were requested")
        if not self.with_reg and (num_reg_convs or num_reg_fcs):
            raise ValueError("ConvFCBBoxHead: with_reg=False but reg convs/fcs were requested")
        self.num_shared_convs = num_shared_convs
        self.num_shared_fcs = num_shared_fcs
        self.num_cls_convs = num_cls_convs
        self.num_cls_fcs = num_cls_fcs
        self.num_reg_convs = num_reg_convs
        self.num_reg_fcs = num_reg_fcs
        self.conv_out_channels = conv_out_channels
        self.fc_out_channels = fc_out_channels
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg

        self.shared_convs, self.shared_fcs, last_layer_dim = self._add_conv_fc_branch(
            num_shared_convs, num_shared_fcs, self.in_channels, True
        )
        self.shared_out_channels = last_layer_dim
        self.cls_convs, self.cls_fcs, self.cls_last_dim = self._add_conv_fc_branch(
            num_cls_convs, num_cls_fcs, self.shared_out_channels
        )
        self.reg_convs, self.reg_fcs, self.reg_last_dim = self._add_conv_fc_branch(
            num_reg_convs, num_reg_fcs, self.shared_out_channels
        )
        if self.num_shared_fcs == 0 and not self.with_avg_pool:
            if self.num_cls_fcs == 0:
                self.cls_last_dim *= self.roi_feat_area
            if self.num_reg_fcs == 0:
                self.reg_last_dim *= self.roi_feat_area
        self.relu = nn.ReLU(inplace=True)
        # The base class built predictors for the raw RoI feature size; rebuild them on the branch outputs.
        if self.with_cls:
            self.fc_cls = self._make_predictor(self.cls_predictor_cfg, self.cls_last_dim, self.num_classes + 1)
        if self.with_reg:
            out_dim_reg = self.box_dim if self.reg_class_agnostic else self.box_dim * self.num_classes
            self.fc_reg = self._make_predictor(self.reg_predictor_cfg, self.reg_last_dim, out_dim_reg)
        if init_cfg is None:
            self.init_cfg += [
                dict(
                    type="Xavier",
                    distribution="uniform",
                    override=[dict(name="shared_fcs"), dict(name="cls_fcs"), dict(name="reg_fcs")],
                )
            ]

    @staticmethod
    def _make_predictor(cfg, in_features, out_features):
        from .bbox_head import _build_linear

        return _build_linear(cfg, in_features, out_features)

    def _add_conv_fc_branch(
        self, num_branch_convs: int, num_branch_fcs: int, in_channels: int, is_shared: bool = False
    ):
        last_layer_dim = in_channels
        branch_convs = nn.ModuleList()
        for i in range(num_branch_convs):
            conv_in = last_layer_dim if i == 0 else self.conv_out_channels
            branch_convs.append(
                ConvModule(
                    conv_in, self.conv_out_channels, 3, padding=1, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg
                )
            )
        if num_branch_convs > 0:
            last_layer_dim = self.conv_out_channels
        branch_fcs = nn.ModuleList()
        if num_branch_fcs > 0:
            # Shared fcs (or branch fcs right after the RoI features) see the flattened feature map.
            if (is_shared or self.num_shared_fcs == 0) and not self.with_avg_pool:
                last_layer_dim *= self.roi_feat_area
            for i in range(num_branch_fcs):
                fc_in = last_layer_dim if i == 0 else self.fc_out_channels
                branch_fcs.append(nn.Linear(fc_in, self.fc_out_channels))
            last_layer_dim = self.fc_out_channels
        return branch_convs, branch_fcs, last_layer_dim

    def forward(self, x: Tensor) -> tuple[Tensor | None, Tensor | None]:
        for conv in self.shared_convs:
            x = conv(x)
        if self.num_shared_fcs > 0:
            if self.with_avg_pool:
                x = self.avg_pool(x)
            x = x.flatten(1)
            for fc in self.shared_fcs:
                x = self.relu(fc(x))
        x_cls = x
        x_reg = x
        for conv in self.cls_convs:
            x_cls = conv(x_cls)
        if x_cls.dim() > 2:
            if self.with_avg_pool:
                x_cls = self.avg_pool(x_cls)
            x_cls = x_cls.flatten(1)
        for fc in self.cls_fcs:
            x_cls = self.relu(fc(x_cls))
        for conv in self.reg_convs:
            x_reg = conv(x_reg)
        if x_reg.dim() > 2:
            if self.with_avg_pool:
                x_reg = self.avg_pool(x_reg)
            x_reg = x_reg.flatten(1)
        for fc in self.reg_fcs:
            x_reg = self.relu(fc(x_reg))
        cls_score = self.fc_cls(x_cls) if self.with_cls else None
        bbox_pred = self.fc_reg(x_reg) if self.with_reg else None
        return cls_score, bbox_pred


@MODELS.register_module()
class Shared2FCBBoxHead(ConvFCBBoxHead):
    """Two shared fully connected layers, then the cls and reg predictors (the Faster R-CNN head)."""

    def __init__(self, fc_out_channels: int = 1024, **kwargs) -> None:
        super().__init__(num_shared_convs=0, num_shared_fcs=2, fc_out_channels=fc_out_channels, **kwargs)


@MODELS.register_module()
class Shared4Conv1FCBBoxHead(ConvFCBBoxHead):
    """Four shared 3x3 convs and one shared fc (typically with GroupNorm)."""

    def __init__(self, fc_out_channels: int = 1024, **kwargs) -> None:
        super().__init__(num_shared_convs=4, num_shared_fcs=1, fc_out_channels=fc_out_channels, **kwargs)
