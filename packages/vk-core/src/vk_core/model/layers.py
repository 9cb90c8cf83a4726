"""Layer builders (conv, norm, activation, padding, upsample by config), ``ConvModule`` and small layers.

Layer names live in ``MODELS`` under the MMCV names (``Conv2d``, ``BN``, ``GN``, ``ReLU``, ``reflect``,
``deconv``, ...), so a task package extends them with ``@MODELS.register_module()`` in its own scope.
Norm layers get MMCV's attribute names (``bn``, ``gn``, ``ln``, ``in`` plus a postfix) so that state-dict keys
match checkpoints trained with MMCV-based code.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from vk_core.registry import MODELS

from .weight_init import constant_init, kaiming_init, xavier_init

# ---------------------------------------------------------------------------------------------- registrations
for _name, _cls in {
    "Conv1d": nn.Conv1d,
    "Conv2d": nn.Conv2d,
    "Conv3d": nn.Conv3d,
    "Conv": nn.Conv2d,
    "BN": nn.BatchNorm2d,
    "BN1d": nn.BatchNorm1d,
    "BN2d": nn.BatchNorm2d,
    "BN3d": nn.BatchNorm3d,
    "SyncBN": nn.SyncBatchNorm,
    "GN": nn.GroupNorm,
    "LN": nn.LayerNorm,
    "IN": nn.InstanceNorm2d,
    "IN1d": nn.InstanceNorm1d,
    "IN2d": nn.InstanceNorm2d,
    "IN3d": nn.InstanceNorm3d,
    "ReLU": nn.ReLU,
    "LeakyReLU": nn.LeakyReLU,
    "PReLU": nn.PReLU,
    "RReLU": nn.RReLU,
    "ReLU6": nn.ReLU6,
    "ELU": nn.ELU,
    "Sigmoid": nn.Sigmoid,
    "Tanh": nn.Tanh,
    "GELU": nn.GELU,
    "SiLU": nn.SiLU,
    "Mish": nn.Mish,
    "zero": nn.ZeroPad2d,
    "reflect": nn.ReflectionPad2d,
    "replicate": nn.ReplicationPad2d,
    "nearest": nn.Upsample,
    "bilinear": nn.Upsample,
    "deconv": nn.ConvTranspose2d,
    "deconv3d": nn.ConvTranspose3d,
}.items():
    MODELS.register_module(name=_name, module=_cls, force=True)


@MODELS.register_module()
class HSigmoid(nn.Module):
    """``clamp((x + bias) / divisor, min_value, max_value)``; the defaults equal ``nn.Hardsigmoid``."""

    def __init__(self, bias: float = 3.0, divisor: float = 6.0, min_value: float = 0.0, max_value: float = 1.0):
        super().__init__()
        if divisor == 0:
            raise ValueError("HSigmoid: divisor must be non-zero")
        self.bias, self.divisor, self.min_value, self.max_value = bias, divisor, min_value, max_value

    def forward(self, x):
        return ((x + self.bias) / self.divisor).clamp_(self.min_value, self.max_value)


@MODELS.register_module()
class HSwish(nn.Hardswish):
    """``x * relu6(x + 3) / 6``."""


@MODELS.register_module()
class Swish(nn.Module):
    """``x * sigmoid(x)``."""

    def forward(self, x):
        return x * torch.sigmoid(x)


@MODELS.register_module(name=["Clamp", "Clip"])
class Clamp(nn.Module):
    def __init__(self, min: float = -1.0, max: float = 1.0):
        super().__init__()
        self.min, self.max = min, max

    def forward(self, x):
        return torch.clamp(x, min=self.min, max=self.max)


@MODELS.register_module()
class Scale(nn.Module):
    """A learnable scalar multiplier (FCOS-style heads)."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale, dtype=torch.float))

    def forward(self, x):
        return x * self.scale


@MODELS.register_module(name="pixel_shuffle")
class PixelShufflePack(nn.Module):
    """Upsample by a convolution to ``out_channels * scale_factor**2`` channels and a pixel shuffle."""

    def __init__(self, in_channels: int, out_channels: int, scale_factor: int, upsample_kernel: int):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.scale_factor, self.upsample_kernel = scale_factor, upsample_kernel
        self.upsample_conv = nn.Conv2d(
            in_channels, out_channels * scale_factor * scale_factor, upsample_kernel, padding=(upsample_kernel - 1) // 2
        )
        self.init_weights()

    def init_weights(self):
        xavier_init(self.upsample_conv, distribution="uniform")

    def forward(self, x):
        return F.pixel_shuffle(self.upsample_conv(x), self.scale_factor)


# ---------------------------------------------------------------------------------------------- builders
def _split_cfg(cfg, what: str, default_type: str | None = None) -> tuple[object, dict]:
    if cfg is None and default_type is not None:
        return default_type, {}
    if not isinstance(cfg, Mapping):
        raise TypeError(f"{what} cfg must be a dict with a 'type' key, got {type(cfg).__name__}: {cfg!r}")
    if "type" not in cfg:
        raise KeyError(f"{what} cfg must contain the key 'type', got keys {sorted(cfg)}")
    cfg = dict(cfg)
    return cfg.pop("type"), cfg


def _resolve(layer_type, what: str):
    if inspect.isclass(layer_type) or callable(layer_type) and not isinstance(layer_type, str):
        return layer_type
    if not isinstance(layer_type, str):
        raise TypeError(f"{what} type must be a registered name or a class, got {layer_type!r}")
    with MODELS.switch_scope_and_registry(None) as registry:
        layer_cls = registry.get(layer_type)
        if layer_cls is None:
            raise KeyError(f"unknown {what} type: " + registry.missing_key_message(layer_type))
    return layer_cls


def build_conv_layer(cfg: dict | None, *args, **kwargs) -> nn.Module:
    """Build a convolution; ``cfg=None`` means ``Conv2d``. ``args``/``kwargs`` go to the layer class."""
    layer_type, rest = _split_cfg(cfg, "conv layer", default_type="Conv2d")
    return _resolve(layer_type, "conv layer")(*args, **kwargs, **rest)


def infer_abbr(class_type: type) -> str:
    """The attribute-name stem of a norm layer class: ``_abbr_`` if set, else bn/in/gn/ln as MMCV infers."""
    if not inspect.isclass(class_type):
        raise TypeError(f"infer_abbr expects a class, got {type(class_type).__name__}")
    if hasattr(class_type, "_abbr_"):
        return class_type._abbr_
    if issubclass(class_type, _InstanceNorm):  # before _BatchNorm: both derive from _NormBase
        return "in"
    if issubclass(class_type, _BatchNorm):
        return "bn"
    if issubclass(class_type, nn.GroupNorm):
        return "gn"
    if issubclass(class_type, nn.LayerNorm):
        return "ln"
    name = class_type.__name__.lower()
    for word, abbr in (("batch", "bn"), ("group", "gn"), ("layer", "ln"), ("instance", "in")):
        if word in name:
            return abbr
    return "norm_layer"


def build_norm_layer(cfg: dict, num_features: int, postfix: int | str = "") -> tuple[str, nn.Module]:
    """Build a norm layer; returns ``(name, layer)`` with name = abbreviation + postfix (``bn1``, ``gn``).

    ``requires_grad=False`` in ``cfg`` freezes its parameters; ``eps`` defaults to 1e-5; ``GN`` needs
    ``num_groups`` and takes ``num_features`` as ``num_channels``.
    """
    layer_type, rest = _split_cfg(cfg, "norm layer")
    norm_cls = _resolve(layer_type, "norm layer")
    if not isinstance(postfix, (int, str)):
        raise TypeError(f"build_norm_layer: postfix must be an int or str, got {postfix!r}")
    name = infer_abbr(norm_cls) + str(postfix)
    requires_grad = rest.pop("requires_grad", True)
    rest.setdefault("eps", 1e-5)
    if inspect.isclass(norm_cls) and issubclass(norm_cls, nn.GroupNorm):
        if "num_groups" not in rest:
            raise KeyError(f"norm layer {layer_type!r}: GroupNorm needs 'num_groups' in its cfg, got {cfg!r}")
        if num_features % rest["num_groups"]:
            raise ValueError(
                f"norm layer {layer_type!r}: {num_features} channels are not divisible into "
                f"num_groups={rest['num_groups']}"
            )
        layer = norm_cls(num_channels=num_features, **rest)
    else:
        layer = norm_cls(num_features, **rest)
    for param in layer.parameters():
        param.requires_grad = requires_grad
    return name, layer


def build_activation_layer(cfg: dict) -> nn.Module:
    layer_type, rest = _split_cfg(cfg, "activation layer")
    return _resolve(layer_type, "activation layer")(**rest)


def build_padding_layer(cfg: dict, *args, **kwargs) -> nn.Module:
    """Build a padding layer: ``zero``, ``reflect`` or ``replicate`` (2-D)."""
    layer_type, rest = _split_cfg(cfg, "padding layer")
    return _resolve(layer_type, "padding layer")(*args, **kwargs, **rest)


def build_upsample_layer(cfg: dict, *args, **kwargs) -> nn.Module:
    """Build an upsample layer: ``nearest``/``bilinear`` (``nn.Upsample``), ``deconv``, ``pixel_shuffle``."""
    layer_type, rest = _split_cfg(cfg, "upsample layer")
    layer_cls = _resolve(layer_type, "upsample layer")
    if layer_cls is nn.Upsample and isinstance(layer_type, str):
        rest["mode"] = layer_type
    return layer_cls(*args, **kwargs, **rest)


# ---------------------------------------------------------------------------------------------- ConvModule
_NO_INPLACE = ("Tanh", "PReLU", "Sigmoid", "HSigmoid", "Swish", "GELU", "Clamp", "Clip", "Mish")


@MODELS.register_module()
class ConvModule(nn.Module):
    """Convolution, normalization and activation in ``order`` (default conv -> norm -> act).

    Attributes follow MMCV (``conv``, the norm under its abbreviation such as ``bn``/``gn``, ``activate``,
    ``padding_layer``) so state dicts interchange. ``bias='auto'`` gives the conv a bias only without norm.
    ``padding_mode`` 'zeros'/'circular' are the conv's own; others ('reflect', 'replicate') add an explicit
    padding layer.
    """

    _abbr_ = "conv_block"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias="auto",
        conv_cfg: dict | None = None,
        norm_cfg: dict | None = None,
        act_cfg: dict | None = dict(type="ReLU"),  # noqa: B006 - never mutated
        inplace: bool = True,
        with_spectral_norm: bool = False,
        padding_mode: str = "zeros",
        order: tuple = ("conv", "norm", "act"),
    ):
        super().__init__()
        for key, value in (("conv_cfg", conv_cfg), ("norm_cfg", norm_cfg), ("act_cfg", act_cfg)):
            if value is not None and not isinstance(value, Mapping):
                raise TypeError(f"ConvModule: {key} must be a dict or None, got {value!r}")
        if not (isinstance(order, (tuple, list)) and len(order) == 3 and set(order) == {"conv", "norm", "act"}):
            raise ValueError(f"ConvModule: order must be a permutation of ('conv', 'norm', 'act'), got {order!r}")
        if bias != "auto" and not isinstance(bias, bool):
            raise ValueError(f"ConvModule: bias must be 'auto' or a bool, got {bias!r}")
        self.conv_cfg, self.norm_cfg, self.act_cfg = conv_cfg, norm_cfg, act_cfg
        self.inplace = inplace
        self.with_spectral_norm = with_spectral_norm
        self.with_explicit_padding = padding_mode not in ("zeros", "circular")
        self.order = tuple(order)
        self.with_norm = norm_cfg is not None
        self.with_activation = act_cfg is not None
        if bias == "auto":
            bias = not self.with_norm
        self.with_bias = bias

        if self.with_explicit_padding:
            self.padding_layer = build_padding_layer(dict(type=padding_mode), padding)
        conv_padding = 0 if self.with_explicit_padding else padding
        conv_kwargs = {} if self.with_explicit_padding or padding_mode == "zeros" else {"padding_mode": padding_mode}
        self.conv = build_conv_layer(
            conv_cfg,
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=conv_padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
            **conv_kwargs,
        )
        self.in_channels = self.conv.in_channels
        self.out_channels = self.conv.out_channels
        self.kernel_size = self.conv.kernel_size
        self.stride = self.conv.stride
        self.padding = padding
        self.dilation = self.conv.dilation
        self.transposed = getattr(self.conv, "transposed", False)
        self.output_padding = getattr(self.conv, "output_padding", 0)
        self.groups = self.conv.groups
        if with_spectral_norm:
            self.conv = nn.utils.spectral_norm(self.conv)

        if self.with_norm:
            norm_channels = out_channels if self.order.index("norm") > self.order.index("conv") else in_channels
            self.norm_name, norm = build_norm_layer(norm_cfg, norm_channels)
            self.add_module(self.norm_name, norm)
            if self.with_bias and isinstance(norm, (_BatchNorm, _InstanceNorm)):
                warnings.warn("ConvModule: a conv bias before batch/instance norm is redundant", stacklevel=2)
        else:
            self.norm_name = None

        if self.with_activation:
            act_cfg_ = dict(act_cfg)
            if act_cfg_["type"] not in _NO_INPLACE and isinstance(act_cfg_["type"], str):
                act_cfg_.setdefault("inplace", inplace)
            self.activate = build_activation_layer(act_cfg_)

        self.init_weights()

    @property
    def norm(self):
        return getattr(self, self.norm_name) if self.norm_name else None

    def init_weights(self) -> None:
        # A conv with its own init_weights (e.g. a deformable conv) keeps it; others get Kaiming matched to
        # the activation, as MMCV does.
        if not hasattr(self.conv, "init_weights"):
            if self.with_activation and self.act_cfg["type"] == "LeakyReLU":
                nonlinearity, a = "leaky_relu", self.act_cfg.get("negative_slope", 0.01)
            else:
                nonlinearity, a = "relu", 0
            kaiming_init(self.conv, a=a, nonlinearity=nonlinearity)
        if self.with_norm:
            constant_init(self.norm, 1, bias=0)

    def forward(self, x: torch.Tensor, activate: bool = True, norm: bool = True) -> torch.Tensor:
        for layer in self.order:
            if layer == "conv":
                if self.with_explicit_padding:
                    x = self.padding_layer(x)
                x = self.conv(x)
            elif layer == "norm" and norm and self.with_norm:
                x = self.norm(x)
            elif layer == "act" and activate and self.with_activation:
                x = self.activate(x)
        return x


@MODELS.register_module()
class DepthwiseSeparableConvModule(nn.Module):
    """A depthwise ``ConvModule`` followed by a pointwise one; ``'default'`` dw/pw cfgs inherit the shared ones."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        norm_cfg: dict | None = None,
        act_cfg: dict | None = dict(type="ReLU"),  # noqa: B006 - never mutated
        dw_norm_cfg="default",
        dw_act_cfg="default",
        pw_norm_cfg="default",
        pw_act_cfg="default",
        **kwargs,
    ):
        super().__init__()
        if "groups" in kwargs:
            raise ValueError("DepthwiseSeparableConvModule sets groups itself; remove 'groups'")
        dw_norm_cfg = norm_cfg if dw_norm_cfg == "default" else dw_norm_cfg
        dw_act_cfg = act_cfg if dw_act_cfg == "default" else dw_act_cfg
        pw_norm_cfg = norm_cfg if pw_norm_cfg == "default" else pw_norm_cfg
        pw_act_cfg = act_cfg if pw_act_cfg == "default" else pw_act_cfg
        self.depthwise_conv = ConvModule(
            in_channels,
            in_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=in_channels,
            norm_cfg=dw_norm_cfg,
            act_cfg=dw_act_cfg,
            **kwargs,
        )
        self.pointwise_conv = ConvModule(
            in_channels, out_channels, 1, norm_cfg=pw_norm_cfg, act_cfg=pw_act_cfg, **kwargs
        )

    def forward(self, x):
        return self.pointwise_conv(self.depthwise_conv(x))
