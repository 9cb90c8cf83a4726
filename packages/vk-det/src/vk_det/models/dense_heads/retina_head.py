"""RetinaHead (Lin et al. 2017): four 3x3 conv towers for classification and regression over anchors."""

from __future__ import annotations

import torch.nn as nn

from vk_det.models._compat import MODELS, ConvModule
from vk_det.models.dense_heads.anchor_head import AnchorHead, bias_init_with_prob


@MODELS.register_module()
class RetinaHead(AnchorHead):
    def __init__(
        self,
        num_classes,
        in_channels,
        stacked_convs=4,
        conv_cfg=None,
        norm_cfg=None,
        anchor_generator=dict(  # noqa: B006
            type="AnchorGenerator",
            octave_base_scale=4,
            scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0],
            strides=[8, 16, 32, 64, 128],
        ),  # fmt: skip
        init_cfg=dict(  # noqa: B006
            type="Normal",
            layer="Conv2d",
            std=0.01,
            override=dict(type="Normal", name="retina_cls", std=0.01, bias_prob=0.01),
        ),  # fmt: skip
        **kwargs,
    ):
        if stacked_convs < 0:
            raise ValueError(f"RetinaHead: stacked_convs must be >= 0, got {stacked_convs}")
        self.stacked_convs = stacked_convs
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        super().__init__(num_classes, in_channels, anchor_generator=anchor_generator, init_cfg=init_cfg, **kwargs)

    def _init_layers(self):
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs = nn.ModuleList()
        self.reg_convs = nn.ModuleList()
        in_channels = self.in_channels
        for _ in range(self.stacked_convs):
            for tower in (self.cls_convs, self.reg_convs):
                tower.append(
                    ConvModule(
                        in_channels,
                        self.feat_channels,
                        3,
                        stride=1,
                        padding=1,
                        conv_cfg=self.conv_cfg,
                        norm_cfg=self.norm_cfg,
                    )  # fmt: skip
                )
            in_channels = self.feat_channels
        self.retina_cls = nn.Conv2d(in_channels, self.num_base_priors * self.cls_out_channels, 3, padding=1)
        self.retina_reg = nn.Conv2d(in_channels, self.num_base_priors * self.bbox_coder.encode_size, 3, padding=1)

    def init_weights(self):
        super().init_weights()
        # Focal-loss prior (bias_prob=0.01) set explicitly so it holds whatever initialiser ran the config.
        if not _pretrained(self.init_cfg):
            nn.init.normal_(self.retina_cls.weight, std=0.01)
            nn.init.constant_(self.retina_cls.bias, bias_init_with_prob(0.01))

    def forward_single(self, x):
        cls_feat = x
        reg_feat = x
        for conv in self.cls_convs:
            cls_feat = conv(cls_feat)
        for conv in self.reg_convs:
            reg_feat = conv(reg_feat)
        return self.retina_cls(cls_feat), self.retina_reg(reg_feat)


def _pretrained(init_cfg):
    cfgs = init_cfg if isinstance(init_cfg, list | tuple) else [init_cfg]
    return any(isinstance(c, dict) and c.get("type") == "Pretrained" for c in cfgs)
