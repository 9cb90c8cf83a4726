"""ChannelMapper: one conv per input level to a common channel count, plus optional stride-2 extra levels."""

from __future__ import annotations

import torch.nn as nn

from vk_det.models._compat import MODELS, BaseModule, ConvModule


@MODELS.register_module()
class ChannelMapper(BaseModule):
    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size=3,
        conv_cfg=None,
        norm_cfg=None,
        act_cfg=dict(type="ReLU"),  # noqa: B006
        bias="auto",
        num_outs=None,
        init_cfg=dict(type="Xavier", layer="Conv2d", distribution="uniform"),  # noqa: B006
    ):
        super().__init__(init_cfg)
        if not isinstance(in_channels, list | tuple) or not in_channels:
            raise TypeError(f"ChannelMapper: in_channels must be a non-empty list, got {in_channels!r}")
        num_outs = len(in_channels) if num_outs is None else num_outs
        if num_outs < len(in_channels):
            raise ValueError(f"ChannelMapper: num_outs ({num_outs}) must be >= len(in_channels) ({len(in_channels)})")
        self.in_channels = list(in_channels)
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, bias=bias)
        self.convs = nn.ModuleList(
            ConvModule(c, out_channels, kernel_size, padding=(kernel_size - 1) // 2, **common) for c in in_channels
        )
        self.extra_convs = None
        if num_outs > len(in_channels):
            self.extra_convs = nn.ModuleList(
                ConvModule(in_channels[-1] if i == 0 else out_channels, out_channels, 3, stride=2, padding=1, **common)
                for i in range(num_outs - len(in_channels))
            )

    def forward(self, inputs):
        if len(inputs) != len(self.convs):
            raise ValueError(f"ChannelMapper: expected {len(self.convs)} input levels, got {len(inputs)}")
        outs = [conv(x) for conv, x in zip(self.convs, inputs)]
        if self.extra_convs is not None:
            for i, conv in enumerate(self.extra_convs):
                outs.append(conv(inputs[-1] if i == 0 else outs[-1]))
        return tuple(outs)
