"""Feature Pyramid Network (Lin et al. 2017) with MMDetection's options and attribute names."""

from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F

from vk_det.models._compat import MODELS, BaseModule, ConvModule

_EXTRA_SOURCES = ("on_input", "on_lateral", "on_output")


@MODELS.register_module()
class FPN(BaseModule):
    """Top-down pyramid over backbone levels ``start_level..end_level`` plus optional extra levels.

    Args:
        in_channels: channels of each backbone output.
        out_channels: channels of every pyramid level.
        num_outs: number of pyramid levels returned.
        add_extra_convs: False (extra levels by stride-2 max pooling), True (= 'on_input'), or the source of the
            first extra stride-2 conv: 'on_input' (last used backbone level), 'on_lateral' (last lateral),
            'on_output' (last FPN output).
        relu_before_extra_convs: apply ReLU before every extra conv but the first.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        num_outs,
        start_level=0,
        end_level=-1,
        add_extra_convs=False,
        relu_before_extra_convs=False,
        no_norm_on_lateral=False,
        conv_cfg=None,
        norm_cfg=None,
        act_cfg=None,
        upsample_cfg=dict(mode="nearest"),  # noqa: B006
        init_cfg=dict(type="Xavier", layer="Conv2d", distribution="uniform"),  # noqa: B006
    ):
        super().__init__(init_cfg)
        if not isinstance(in_channels, list | tuple) or not in_channels:
            raise TypeError(f"FPN: in_channels must be a non-empty list of ints, got {in_channels!r}")
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.num_ins = len(in_channels)
        self.num_outs = num_outs
        self.relu_before_extra_convs = relu_before_extra_convs
        self.no_norm_on_lateral = no_norm_on_lateral
        self.upsample_cfg = dict(upsample_cfg)
        if end_level == -1 or end_level == self.num_ins - 1:
            self.backbone_end_level = self.num_ins
            if num_outs < self.num_ins - start_level:
                raise ValueError(
                    f"FPN: num_outs ({num_outs}) must be >= the number of used input levels "
                    f"({self.num_ins - start_level})"
                )
        else:
            if not (0 <= end_level < self.num_ins):
                raise ValueError(f"FPN: end_level {end_level} out of range for {self.num_ins} inputs")
            self.backbone_end_level = end_level + 1
            if num_outs != end_level - start_level + 1:
                raise ValueError(f"FPN: num_outs ({num_outs}) must equal end_level - start_level + 1")
        self.start_level = start_level
        self.end_level = end_level
        if add_extra_convs is True:
            add_extra_convs = "on_input"
        if add_extra_convs and add_extra_convs not in _EXTRA_SOURCES:
            raise ValueError(f"FPN: add_extra_convs must be a bool or one of {_EXTRA_SOURCES}, got {add_extra_convs!r}")
        self.add_extra_convs = add_extra_convs

        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for i in range(start_level, self.backbone_end_level):
            self.lateral_convs.append(
                ConvModule(
                    in_channels[i],
                    out_channels,
                    1,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg if not no_norm_on_lateral else None,
                    act_cfg=act_cfg,
                    inplace=False,
                )
            )
            self.fpn_convs.append(
                ConvModule(
                    out_channels,
                    out_channels,
                    3,
                    padding=1,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg,
                    inplace=False,
                )
            )
        extra_levels = num_outs - self.backbone_end_level + start_level
        if add_extra_convs and extra_levels >= 1:
            for i in range(extra_levels):
                cin = (
                    in_channels[self.backbone_end_level - 1]
                    if i == 0 and add_extra_convs == "on_input"
                    else out_channels
                )
                self.fpn_convs.append(
                    ConvModule(
                        cin,
                        out_channels,
                        3,
                        stride=2,
                        padding=1,
                        conv_cfg=conv_cfg,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg,
                        inplace=False,
                    )
                )

    def forward(self, inputs):
        if len(inputs) != self.num_ins:
            raise ValueError(f"FPN: expected {self.num_ins} input levels, got {len(inputs)}")
        laterals = [conv(inputs[i + self.start_level]) for i, conv in enumerate(self.lateral_convs)]
        used = len(laterals)
        for i in range(used - 1, 0, -1):
            if "scale_factor" in self.upsample_cfg:
                up = F.interpolate(laterals[i], **self.upsample_cfg)
            else:
                up = F.interpolate(laterals[i], size=laterals[i - 1].shape[2:], **self.upsample_cfg)
            laterals[i - 1] = laterals[i - 1] + up
        outs = [self.fpn_convs[i](laterals[i]) for i in range(used)]
        if self.num_outs > len(outs):
            if not self.add_extra_convs:
                for _ in range(self.num_outs - used):
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                source = {
                    "on_input": inputs[self.backbone_end_level - 1],
                    "on_lateral": laterals[-1],
                    "on_output": outs[-1],
                }[self.add_extra_convs]
                outs.append(self.fpn_convs[used](source))
                for i in range(used + 1, self.num_outs):
                    x = F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]
                    outs.append(self.fpn_convs[i](x))
        return tuple(outs)
