"""ResNet family backbones (ResNet, ResNetV1d, ResNeXt) with MMDetection 3.x attribute names."""

from __future__ import annotations

import torch.nn as nn
import torch.utils.checkpoint as cp
from torch.nn.modules.batchnorm import _BatchNorm

from vk_det.models._compat import MODELS, BaseModule, build_conv_layer, build_norm_layer


def _conv3x3(conv_cfg, cin, cout, stride=1, dilation=1, groups=1):
    return build_conv_layer(
        conv_cfg, cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, groups=groups, bias=False
    )


class BasicBlock(BaseModule):
    expansion = 1

    def __init__(
        self,
        inplanes,
        planes,
        stride=1,
        dilation=1,
        downsample=None,
        style="pytorch",
        with_cp=False,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006
        dcn=None,
        plugins=None,
        init_cfg=None,
    ):
        super().__init__(init_cfg)
        if dcn is not None:
            raise ValueError("BasicBlock: dcn is only supported by Bottleneck blocks (depth >= 50)")
        if plugins is not None:
            raise ValueError("BasicBlock: plugins are not supported")
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, planes, postfix=1)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, planes, postfix=2)
        self.conv1 = _conv3x3(conv_cfg, inplanes, planes, stride, dilation)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = _conv3x3(conv_cfg, planes, planes)
        self.add_module(self.norm2_name, norm2)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride
        self.dilation = dilation
        self.with_cp = with_cp

    @property
    def norm1(self):
        return getattr(self, self.norm1_name)

    @property
    def norm2(self):
        return getattr(self, self.norm2_name)

    def forward(self, x):
        def _inner(x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.norm1(self.conv1(x)))
            out = self.norm2(self.conv2(out))
            return out + identity

        out = cp.checkpoint(_inner, x, use_reentrant=False) if self.with_cp and x.requires_grad else _inner(x)
        return self.relu(out)


class Bottleneck(BaseModule):
    expansion = 4

    def __init__(
        self,
        inplanes,
        planes,
        stride=1,
        dilation=1,
        downsample=None,
        style="pytorch",
        with_cp=False,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006
        dcn=None,
        plugins=None,
        groups=1,
        base_width=4,
        base_channels=64,
        init_cfg=None,
    ):
        super().__init__(init_cfg)
        if style not in ("pytorch", "caffe"):
            raise ValueError(f"Bottleneck: style must be 'pytorch' or 'caffe', got {style!r}")
        if plugins is not None:
            raise ValueError("Bottleneck: plugins are not supported")
        self.inplanes, self.planes = inplanes, planes
        self.stride, self.dilation, self.style = stride, dilation, style
        self.with_cp = with_cp
        self.dcn = dcn
        self.with_dcn = dcn is not None
        # Caffe-style ResNets stride in the 1x1 conv, PyTorch-style ones in the 3x3 conv.
        self.conv1_stride, self.conv2_stride = (1, stride) if style == "pytorch" else (stride, 1)
        width = planes if groups == 1 else (planes * base_width // base_channels) * groups
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, width, postfix=1)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, width, postfix=2)
        self.norm3_name, norm3 = build_norm_layer(norm_cfg, planes * self.expansion, postfix=3)
        self.conv1 = build_conv_layer(conv_cfg, inplanes, width, 1, stride=self.conv1_stride, bias=False)
        self.add_module(self.norm1_name, norm1)
        fallback_on_stride = False
        if self.with_dcn:
            fallback_on_stride = dict(dcn).pop("fallback_on_stride", False)
        conv2_cfg = conv_cfg if (not self.with_dcn or fallback_on_stride) else dcn
        if self.with_dcn and not fallback_on_stride:
            conv2_cfg = {k: v for k, v in dict(dcn).items() if k != "fallback_on_stride"}
        self.conv2 = build_conv_layer(
            conv2_cfg,
            width,
            width,
            3,
            stride=self.conv2_stride,
            padding=dilation,
            dilation=dilation,
            groups=groups,
            bias=False,
        )
        self.add_module(self.norm2_name, norm2)
        self.conv3 = build_conv_layer(conv_cfg, width, planes * self.expansion, 1, bias=False)
        self.add_module(self.norm3_name, norm3)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def norm1(self):
        return getattr(self, self.norm1_name)

    @property
    def norm2(self):
        return getattr(self, self.norm2_name)

    @property
    def norm3(self):
        return getattr(self, self.norm3_name)

    def forward(self, x):
        def _inner(x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.norm1(self.conv1(x)))
            out = self.relu(self.norm2(self.conv2(out)))
            out = self.norm3(self.conv3(out))
            return out + identity

        out = cp.checkpoint(_inner, x, use_reentrant=False) if self.with_cp and x.requires_grad else _inner(x)
        return self.relu(out)


class ResLayer(nn.Sequential):
    """One ResNet stage: ``num_blocks`` blocks, the first one (or last, for hourglass-style) downsampling."""

    def __init__(
        self,
        block,
        inplanes,
        planes,
        num_blocks,
        stride=1,
        avg_down=False,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006
        downsample_first=True,
        **kwargs,
    ):
        downsample = None
        if stride != 1 or inplanes != planes * block.expansion:
            layers = []
            conv_stride = stride
            if avg_down:
                # ResNet-D: average-pool then 1x1 conv, so the shortcut sees every input pixel.
                conv_stride = 1
                layers.append(nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False))
            layers.append(
                build_conv_layer(conv_cfg, inplanes, planes * block.expansion, 1, stride=conv_stride, bias=False)
            )
            layers.append(build_norm_layer(norm_cfg, planes * block.expansion)[1])
            downsample = nn.Sequential(*layers)
        blocks = []
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, **kwargs)
        if downsample_first:
            blocks.append(block(inplanes, planes, stride=stride, downsample=downsample, **common))
            inplanes = planes * block.expansion
            blocks += [block(inplanes, planes, stride=1, **common) for _ in range(1, num_blocks)]
        else:
            blocks += [block(inplanes, inplanes, stride=1, **common) for _ in range(num_blocks - 1)]
            blocks.append(block(inplanes, planes, stride=stride, downsample=downsample, **common))
        super().__init__(*blocks)


@MODELS.register_module()
class ResNet(BaseModule):
    """ResNet backbone (MMDetection semantics).

    Args:
        depth: 18, 34, 50, 101 or 152.
        num_stages: stages used, 1-4.
        out_indices: stages whose outputs are returned (0-based).
        style: 'pytorch' (stride in the 3x3 conv) or 'caffe' (stride in the first 1x1 conv).
        deep_stem: three 3x3 convs instead of one 7x7 (ResNetV1c/d).
        avg_down: average-pool in the shortcut downsampling (ResNetV1d).
        frozen_stages: stages (and the stem, from 0) whose parameters are frozen and kept in eval mode; -1: none.
        norm_eval: keep every BatchNorm in eval mode while training (running stats frozen).
        dcn, stage_with_dcn: deformable conv config for the 3x3 conv of the chosen stages (needs vk-ops DCN).
    """

    arch_settings = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    def __init__(
        self,
        depth,
        in_channels=3,
        stem_channels=None,
        base_channels=64,
        num_stages=4,
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        out_indices=(0, 1, 2, 3),
        style="pytorch",
        deep_stem=False,
        avg_down=False,
        frozen_stages=-1,
        conv_cfg=None,
        norm_cfg=dict(type="BN", requires_grad=True),  # noqa: B006
        norm_eval=True,
        dcn=None,
        stage_with_dcn=(False, False, False, False),
        plugins=None,
        with_cp=False,
        zero_init_residual=True,
        pretrained=None,
        init_cfg=None,
    ):
        super().__init__(init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f"ResNet: invalid depth {depth!r}, expected one of {sorted(self.arch_settings)}")
        if not 1 <= num_stages <= 4:
            raise ValueError(f"ResNet: num_stages must be in 1..4, got {num_stages}")
        if len(strides) < num_stages or len(dilations) < num_stages:
            raise ValueError(f"ResNet: strides/dilations need {num_stages} entries, got {strides}/{dilations}")
        if max(out_indices) >= num_stages:
            raise ValueError(f"ResNet: out_indices {out_indices} must be < num_stages ({num_stages})")
        if style not in ("pytorch", "caffe"):
            raise ValueError(f"ResNet: style must be 'pytorch' or 'caffe', got {style!r}")
        if dcn is not None and len(stage_with_dcn) != num_stages:
            raise ValueError(f"ResNet: stage_with_dcn needs {num_stages} entries, got {stage_with_dcn}")
        if init_cfg is not None and pretrained is not None:
            raise ValueError("ResNet: init_cfg and pretrained cannot be set at the same time")
        self.zero_init_residual = zero_init_residual
        block_cls, stage_blocks = self.arch_settings[depth]
        if pretrained is not None:
            self.init_cfg = dict(type="Pretrained", checkpoint=pretrained)
        elif init_cfg is None:
            self.init_cfg = [
                dict(type="Kaiming", layer="Conv2d"),
                dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm", "BatchNorm2d"]),
            ]
        self.depth = depth
        self.stem_channels = stem_channels or base_channels
        self.base_channels = base_channels
        self.num_stages = num_stages
        self.strides, self.dilations = strides, dilations
        self.out_indices = out_indices
        self.style = style
        self.deep_stem, self.avg_down = deep_stem, avg_down
        self.frozen_stages = frozen_stages
        self.conv_cfg, self.norm_cfg = conv_cfg, norm_cfg
        self.with_cp, self.norm_eval = with_cp, norm_eval
        self.dcn, self.stage_with_dcn = dcn, stage_with_dcn
        self.block = block_cls
        self.stage_blocks = stage_blocks[:num_stages]
        self.inplanes = self.stem_channels
        self._make_stem_layer(in_channels, self.stem_channels)

        self.res_layers = []
        for i, num_blocks in enumerate(self.stage_blocks):
            planes = base_channels * 2**i
            res_layer = self.make_res_layer(
                block=self.block,
                inplanes=self.inplanes,
                planes=planes,
                num_blocks=num_blocks,
                stride=strides[i],
                dilation=dilations[i],
                style=style,
                avg_down=avg_down,
                with_cp=with_cp,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                dcn=dcn if (dcn is not None and stage_with_dcn[i]) else None,
                **self._block_extra_args(),
            )
            self.inplanes = planes * self.block.expansion
            layer_name = f"layer{i + 1}"
            self.add_module(layer_name, res_layer)
            self.res_layers.append(layer_name)
        self._freeze_stages()
        self.feat_dim = self.block.expansion * base_channels * 2 ** (len(self.stage_blocks) - 1)

    def _block_extra_args(self):
        return {}

    def make_res_layer(self, **kwargs):
        return ResLayer(**kwargs)

    @property
    def norm1(self):
        return getattr(self, self.norm1_name)

    def _make_stem_layer(self, in_channels, stem_channels):
        if self.deep_stem:
            half = stem_channels // 2
            self.stem = nn.Sequential(
                build_conv_layer(self.conv_cfg, in_channels, half, 3, stride=2, padding=1, bias=False),
                build_norm_layer(self.norm_cfg, half)[1],
                nn.ReLU(inplace=True),
                build_conv_layer(self.conv_cfg, half, half, 3, stride=1, padding=1, bias=False),
                build_norm_layer(self.norm_cfg, half)[1],
                nn.ReLU(inplace=True),
                build_conv_layer(self.conv_cfg, half, stem_channels, 3, stride=1, padding=1, bias=False),
                build_norm_layer(self.norm_cfg, stem_channels)[1],
                nn.ReLU(inplace=True),
            )
        else:
            self.conv1 = build_conv_layer(self.conv_cfg, in_channels, stem_channels, 7, stride=2, padding=3, bias=False)
            self.norm1_name, norm1 = build_norm_layer(self.norm_cfg, stem_channels, postfix=1)
            self.add_module(self.norm1_name, norm1)
            self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            stem = [self.stem] if self.deep_stem else [self.conv1, self.norm1]
            for m in stem:
                m.eval()
                for p in m.parameters():
                    p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            m = getattr(self, f"layer{i}")
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def init_weights(self):
        super().init_weights()
        # Zero the last norm of each residual branch so every block starts as an identity mapping.
        if self.zero_init_residual and not _is_pretrained(self.init_cfg):
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.zeros_(m.norm3.weight)
                elif isinstance(m, BasicBlock):
                    nn.init.zeros_(m.norm2.weight)

    def forward(self, x):
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        x = self.maxpool(x)
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


def _is_pretrained(init_cfg):
    cfgs = init_cfg if isinstance(init_cfg, list | tuple) else [init_cfg]
    return any(isinstance(c, dict) and c.get("type") == "Pretrained" for c in cfgs)


@MODELS.register_module()
class ResNetV1d(ResNet):
    """ResNet-D: deep 3x3 stem and average-pool downsampling in the shortcuts (Bag of Tricks, He et al. 2019)."""

    def __init__(self, **kwargs):
        super().__init__(deep_stem=True, avg_down=True, **kwargs)


@MODELS.register_module()
class ResNeXt(ResNet):
    """ResNeXt: Bottleneck blocks with grouped 3x3 convs (``groups`` x ``base_width`` channels)."""

    arch_settings = {
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    def __init__(self, groups=1, base_width=4, **kwargs):
        self.groups = groups
        self.base_width = base_width
        super().__init__(**kwargs)

    def _block_extra_args(self):
        return dict(groups=self.groups, base_width=self.base_width, base_channels=self.base_channels)
