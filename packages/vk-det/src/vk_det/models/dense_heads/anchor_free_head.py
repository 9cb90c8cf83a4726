"""AnchorFreeHead: conv towers predicting per point (one prior per location), the base of FCOSHead."""

from __future__ import annotations

import torch.nn as nn

from vk_det.models._compat import MODELS, TASK_UTILS, ConvModule
from vk_det.models.dense_heads.anchor_head import bias_init_with_prob
from vk_det.models.dense_heads.base_dense_head import BaseDenseHead
from vk_det.models.dense_heads.retina_head import _pretrained
from vk_det.models.task_modules.prior_generators import MlvlPointGenerator
from vk_det.models.utils import multi_apply

INF = 1e8


@MODELS.register_module()
class AnchorFreeHead(BaseDenseHead):
    def __init__(
        self,
        num_classes,
        in_channels,
        feat_channels=256,
        stacked_convs=4,
        strides=(4, 8, 16, 32, 64),
        dcn_on_last_conv=False,
        conv_bias="auto",
        loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),  # noqa: B006
        loss_bbox=dict(type="IoULoss", loss_weight=1.0),  # noqa: B006
        bbox_coder=dict(type="DistancePointBBoxCoder"),  # noqa: B006
        conv_cfg=None,
        norm_cfg=None,
        train_cfg=None,
        test_cfg=None,
        init_cfg=dict(  # noqa: B006
            type="Normal",
            layer="Conv2d",
            std=0.01,
            override=dict(type="Normal", name="conv_cls", std=0.01, bias_prob=0.01),
        ),  # fmt: skip
    ):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"{type(self).__name__}: num_classes must be a positive int, got {num_classes!r}")
        self.num_classes = num_classes
        self.use_sigmoid_cls = loss_cls.get("use_sigmoid", False)
        self.cls_out_channels = num_classes if self.use_sigmoid_cls else num_classes + 1
        self.in_channels = in_channels
        self.feat_channels = feat_channels
        self.stacked_convs = stacked_convs
        self.strides = strides
        self.dcn_on_last_conv = dcn_on_last_conv
        if conv_bias != "auto" and not isinstance(conv_bias, bool):
            raise ValueError(f"{type(self).__name__}: conv_bias must be 'auto' or a bool, got {conv_bias!r}")
        self.conv_bias = conv_bias
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.bbox_coder = TASK_UTILS.build(bbox_coder)
        self.prior_generator = MlvlPointGenerator(strides)
        self.num_base_priors = self.prior_generator.num_base_priors[0]
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self._init_layers()

    def _init_layers(self):
        self._init_cls_convs()
        self._init_reg_convs()
        self._init_predictor()

    def _tower(self):
        convs = nn.ModuleList()
        for i in range(self.stacked_convs):
            chn = self.in_channels if i == 0 else self.feat_channels
            conv_cfg = dict(type="DCNv2") if self.dcn_on_last_conv and i == self.stacked_convs - 1 else self.conv_cfg
            convs.append(
                ConvModule(
                    chn,
                    self.feat_channels,
                    3,
                    stride=1,
                    padding=1,
                    conv_cfg=conv_cfg,
                    norm_cfg=self.norm_cfg,
                    bias=self.conv_bias,
                )  # fmt: skip
            )
        return convs

    def _init_cls_convs(self):
        self.cls_convs = self._tower()

    def _init_reg_convs(self):
        self.reg_convs = self._tower()

    def _init_predictor(self):
        self.conv_cls = nn.Conv2d(self.feat_channels, self.cls_out_channels, 3, padding=1)
        self.conv_reg = nn.Conv2d(self.feat_channels, self.bbox_coder.encode_size, 3, padding=1)

    def init_weights(self):
        super().init_weights()
        if not _pretrained(self.init_cfg):
            nn.init.normal_(self.conv_cls.weight, std=0.01)
            nn.init.constant_(self.conv_cls.bias, bias_init_with_prob(0.01))

    def forward(self, x):
        return multi_apply(self.forward_single, x)[:2]

    def forward_single(self, x):
        cls_feat = x
        reg_feat = x
        for layer in self.cls_convs:
            cls_feat = layer(cls_feat)
        for layer in self.reg_convs:
            reg_feat = layer(reg_feat)
        return self.conv_cls(cls_feat), self.conv_reg(reg_feat), cls_feat, reg_feat

    def get_targets(self, points, batch_gt_instances):
        raise NotImplementedError

    def loss_by_feat(self, *args, **kwargs):
        raise NotImplementedError
