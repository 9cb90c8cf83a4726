"""MobileNetV2 backbone with MMDetection attribute names; loads torchvision-layout checkpoints too."""

from __future__ import annotations

import re

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from torch.nn.modules.batchnorm import _BatchNorm

from vk_det.models._compat import MODELS, BaseModule, ConvModule


def make_divisible(value, divisor, min_value=None, min_ratio=0.9):
    """Round ``value`` to a multiple of ``divisor`` without going below ``min_ratio * value``."""
    min_value = min_value or divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < min_ratio * value:
        new_value += divisor
    return new_value


class InvertedResidual(BaseModule):
    """1x1 expansion (skipped when ``expand_ratio`` is 1) -> 3x3 depthwise -> 1x1 linear projection."""

    def __init__(
        self,
        in_channels,
        out_channels,
        stride,
        expand_ratio,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006
        act_cfg=dict(type="ReLU6"),  # noqa: B006
        with_cp=False,
        init_cfg=None,
    ):
        super().__init__(init_cfg)
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride}")
        self.with_cp = with_cp
        self.use_res_connect = stride == 1 and in_channels == out_channels
        hidden = int(round(in_channels * expand_ratio))
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        layers = []
        if expand_ratio != 1:
            layers.append(ConvModule(in_channels, hidden, 1, act_cfg=act_cfg, **common))
        layers += [
            ConvModule(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, act_cfg=act_cfg, **common),
            ConvModule(hidden, out_channels, 1, act_cfg=None, **common),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        def _inner(x):
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

        return cp.checkpoint(_inner, x, use_reentrant=False) if self.with_cp and x.requires_grad else _inner(x)


@MODELS.register_module()
class MobileNetV2(BaseModule):
    """MobileNetV2 (Sandler et al. 2018).

    ``out_indices`` pick among the 7 inverted-residual stages (0-6) and the final 1x1 conv (7).
    ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` accepts both MMDetection-layout checkpoints and
    torchvision's ``mobilenet_v2-*.pth`` layout (``features.N...``), converted key by key; every backbone
    parameter and buffer must be found in the checkpoint or loading fails naming the missing keys.
    """

    # expand ratio, channels, blocks, stride of the first block
    arch_settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2]]
    arch_settings.append([6, 320, 1, 1])

    def __init__(
        self,
        widen_factor=1.0,
        out_indices=(1, 2, 4, 7),
        frozen_stages=-1,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006
        act_cfg=dict(type="ReLU6"),  # noqa: B006
        norm_eval=False,
        with_cp=False,
        pretrained=None,
        init_cfg=None,
    ):
        super().__init__(init_cfg)
        if pretrained is not None:
            if init_cfg is not None:
                raise ValueError("MobileNetV2: init_cfg and pretrained cannot be set at the same time")
            self.init_cfg = dict(type="Pretrained", checkpoint=pretrained)
        elif init_cfg is None:
            self.init_cfg = [
                dict(type="Kaiming", layer="Conv2d"),
                dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm", "BatchNorm2d"]),
            ]
        for index in out_indices:
            if index not in range(8):
                raise ValueError(f"MobileNetV2: out_indices must be in range(0, 8), got {out_indices}")
        if frozen_stages not in range(-1, 8):
            raise ValueError(f"MobileNetV2: frozen_stages must be in range(-1, 8), got {frozen_stages}")
        self.widen_factor = widen_factor
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.in_channels = make_divisible(32 * widen_factor, 8)
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv1 = ConvModule(3, self.in_channels, 3, stride=2, padding=1, **common)
        self.layers = []
        self._block_ranges = []
        for i, (expand, channels, num_blocks, stride) in enumerate(self.arch_settings):
            out_channels = make_divisible(channels * widen_factor, 8)
            blocks = []
            for b in range(num_blocks):
                blocks.append(
                    InvertedResidual(
                        self.in_channels,
                        out_channels,
                        stride if b == 0 else 1,
                        expand,
                        with_cp=with_cp,
                        **common,
                    )
                )
                self.in_channels = out_channels
            name = f"layer{i + 1}"
            self.add_module(name, nn.Sequential(*blocks))
            self.layers.append(name)
        self.out_channel = int(1280 * widen_factor) if widen_factor > 1.0 else 1280
        self.conv2 = ConvModule(self.in_channels, self.out_channel, 1, **common)
        self.layers.append("conv2")

    def forward(self, x):
        x = self.conv1(x)
        outs = []
        for i, name in enumerate(self.layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            for p in self.conv1.parameters():
                p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            layer = getattr(self, f"layer{i}")
            layer.eval()
            for p in layer.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def init_weights(self):
        cfgs = self.init_cfg if isinstance(self.init_cfg, list | tuple) else [self.init_cfg]
        pretrained = [c for c in cfgs if isinstance(c, dict) and c.get("type") == "Pretrained"]
        if not pretrained:
            super().init_weights()
            return
        # Loaded here rather than by the generic Pretrained initialiser, which cannot map torchvision names.
        self.load_pretrained(pretrained[0]["checkpoint"], prefix=pretrained[0].get("prefix"))
        self._is_init = True

    def load_pretrained(self, checkpoint, prefix=None):
        """Load an MMDetection- or torchvision-layout checkpoint; every backbone key must be present.

        Returns the checkpoint keys left unused (e.g. torchvision's ``classifier.*``).
        """
        state = (
            torch.load(checkpoint, map_location="cpu", weights_only=True) if isinstance(checkpoint, str) else checkpoint
        )
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        if prefix:
            state = {k[len(prefix) + 1 :]: v for k, v in state.items() if k.startswith(prefix + ".")}
        if any(k.startswith("features.") for k in state):
            state, unused = convert_torchvision_mobilenet_v2(state, self.arch_settings)
        else:
            own = set(self.state_dict())
            unused = sorted(k for k in state if k not in own)
            state = {k: v for k, v in state.items() if k in own}
        missing = sorted(set(self.state_dict()) - set(state))
        if missing:
            raise KeyError(
                f"MobileNetV2: checkpoint {checkpoint if isinstance(checkpoint, str) else '<dict>'} lacks "
                f"{len(missing)} backbone keys, e.g. {missing[:5]}"
            )
        self.load_state_dict(state, strict=True)
        return unused


def convert_torchvision_mobilenet_v2(state, arch_settings=MobileNetV2.arch_settings):
    """Rename torchvision ``mobilenet_v2`` keys to MMDetection's; returns (converted, unused keys)."""
    # torchvision numbers blocks 1..17 across stages; map each to (stage, block, expand?).
    block_to_stage = []
    for i, (expand, _, num_blocks, _) in enumerate(arch_settings):
        block_to_stage += [(i + 1, b, expand != 1) for b in range(num_blocks)]
    last = len(block_to_stage) + 1
    out, unused = {}, []
    suffix_expand = {"conv.0.0": "conv.0.conv", "conv.0.1": "conv.0.bn", "conv.1.0": "conv.1.conv"}
    suffix_expand.update({"conv.1.1": "conv.1.bn", "conv.2": "conv.2.conv", "conv.3": "conv.2.bn"})
    suffix_plain = {"conv.0.0": "conv.0.conv", "conv.0.1": "conv.0.bn", "conv.1": "conv.1.conv", "conv.2": "conv.1.bn"}
    pattern = re.compile(r"features\.(\d+)\.(.+)\.(weight|bias|running_mean|running_var|num_batches_tracked)$")
    for key, value in state.items():
        m = pattern.match(key)
        if m is None:
            unused.append(key)
            continue
        index, middle, leaf = int(m.group(1)), m.group(2), m.group(3)
        if index in (0, last):
            head = "conv1" if index == 0 else "conv2"
            name = {"0": "conv", "1": "bn"}.get(middle)
            new = f"{head}.{name}.{leaf}" if name else None
        elif 1 <= index < last:
            stage, block, expand = block_to_stage[index - 1]
            table = suffix_expand if expand else suffix_plain
            new = f"layer{stage}.{block}.{table[middle]}.{leaf}" if middle in table else None
        else:
            new = None
        if new is None:
            unused.append(key)
        else:
            out[new] = value
    return out, unused
