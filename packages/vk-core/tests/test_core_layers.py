"""Layer builders and ConvModule: names, order, padding, norms, errors."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from vk_core.model import (
    ConvModule,
    DepthwiseSeparableConvModule,
    HSigmoid,
    Scale,
    build_activation_layer,
    build_conv_layer,
    build_norm_layer,
    build_padding_layer,
    build_upsample_layer,
    infer_abbr,
)
from vk_core.registry import MODELS


@pytest.mark.parametrize(
    ("cfg", "name", "cls"),
    [
        (dict(type="BN"), "bn", nn.BatchNorm2d),
        (dict(type="BN1d"), "bn", nn.BatchNorm1d),
        (dict(type="BN3d"), "bn", nn.BatchNorm3d),
        (dict(type="SyncBN"), "bn", nn.SyncBatchNorm),
        (dict(type="GN", num_groups=2), "gn", nn.GroupNorm),
        (dict(type="LN"), "ln", nn.LayerNorm),
        (dict(type="IN"), "in", nn.InstanceNorm2d),
        (dict(type="IN1d"), "in", nn.InstanceNorm1d),
    ],
)
def test_build_norm_layer_names(cfg, name, cls):
    got_name, layer = build_norm_layer(cfg, 4, postfix=1)
    assert got_name == name + "1" and type(layer) is cls and layer.eps == 1e-5


def test_build_norm_layer_options_and_errors():
    _, bn = build_norm_layer(dict(type="BN", requires_grad=False, momentum=0.3), 4)
    assert not any(p.requires_grad for p in bn.parameters()) and bn.momentum == 0.3
    _, gn = build_norm_layer(dict(type="GN", num_groups=2), 4)
    assert gn.num_channels == 4 and gn.num_groups == 2
    with pytest.raises(KeyError, match="num_groups"):
        build_norm_layer(dict(type="GN"), 4)
    with pytest.raises(ValueError, match="divisible"):
        build_norm_layer(dict(type="GN", num_groups=3), 4)
    with pytest.raises(KeyError, match="'BatchNorm'"):
        build_norm_layer(dict(type="BatchNorm"), 4)
    with pytest.raises(TypeError, match="'type'"):
        build_norm_layer("BN", 4)

    class MyNorm(nn.Module):
        _abbr_ = "mynorm"

        def __init__(self, num_features, eps):
            super().__init__()

    assert build_norm_layer(dict(type=MyNorm), 3, "_x")[0] == "mynorm_x"
    assert infer_abbr(type("FancyGroupNormalizer", (nn.Module,), {})) == "gn"
    assert infer_abbr(type("Other", (nn.Module,), {})) == "norm_layer"


def test_other_builders():
    assert isinstance(build_conv_layer(None, 3, 4, 3), nn.Conv2d)
    assert isinstance(build_conv_layer(dict(type="Conv1d"), 3, 4, 3), nn.Conv1d)
    act = build_activation_layer(dict(type="LeakyReLU", negative_slope=0.2))
    assert act.negative_slope == 0.2
    x = torch.linspace(-5, 5, 11)
    assert torch.allclose(build_activation_layer(dict(type="HSigmoid"))(x), F.hardsigmoid(x))
    assert torch.allclose(build_activation_layer(dict(type="HSwish"))(x), F.hardswish(x))
    assert torch.allclose(build_activation_layer(dict(type="Swish"))(x), x * torch.sigmoid(x))
    assert torch.equal(build_activation_layer(dict(type="Clip", min=-1, max=2))(x), x.clamp(-1, 2))
    assert torch.equal(HSigmoid(bias=1.0, divisor=2.0)(torch.tensor([0.0, 5.0])), torch.tensor([0.5, 1.0]))
    pad = build_padding_layer(dict(type="reflect"), 2)
    assert pad(torch.zeros(1, 1, 3, 3)).shape == (1, 1, 7, 7)
    up = build_upsample_layer(dict(type="bilinear", scale_factor=2))
    assert isinstance(up, nn.Upsample) and up.mode == "bilinear"
    deconv = build_upsample_layer(dict(type="deconv"), in_channels=2, out_channels=3, kernel_size=2, stride=2)
    assert deconv(torch.zeros(1, 2, 4, 4)).shape == (1, 3, 8, 8)
    ps = build_upsample_layer(dict(type="pixel_shuffle", scale_factor=2, upsample_kernel=3), 2, 3)
    assert ps(torch.zeros(1, 2, 4, 4)).shape == (1, 3, 8, 8)
    assert Scale(2.0)(torch.ones(2)).tolist() == [2.0, 2.0]
    with pytest.raises(KeyError, match="unknown activation layer"):
        build_activation_layer(dict(type="Relu"))


def test_custom_layer_registration():
    @MODELS.register_module(name="TestOnlyUpsample", force=True)
    class TestOnlyUpsample(nn.Module):
        def __init__(self, scale_factor):
            super().__init__()
            self.scale_factor = scale_factor

    assert build_upsample_layer(dict(type="TestOnlyUpsample", scale_factor=3)).scale_factor == 3


def test_conv_module_structure_and_state_dict_keys():
    m = ConvModule(3, 8, 3, padding=1, norm_cfg=dict(type="BN"))
    assert m.norm_name == "bn" and m.conv.bias is None and isinstance(m.activate, nn.ReLU) and m.activate.inplace
    assert sorted(m.state_dict()) == [
        "bn.bias",
        "bn.num_batches_tracked",
        "bn.running_mean",
        "bn.running_var",
        "bn.weight",
        "conv.weight",
    ]
    assert torch.equal(m.bn.weight, torch.ones(8)) and torch.equal(m.bn.bias, torch.zeros(8))
    m2 = ConvModule(3, 8, 3, act_cfg=None)
    assert m2.conv.bias is not None and not hasattr(m2, "activate")
    m3 = ConvModule(3, 8, 3, act_cfg=dict(type="Sigmoid"))
    assert isinstance(m3.activate, nn.Sigmoid)
    assert not ConvModule(3, 8, 3, inplace=False).activate.inplace


def test_conv_module_forward_matches_manual():
    torch.manual_seed(0)
    m = ConvModule(3, 4, 3, padding=1, norm_cfg=dict(type="GN", num_groups=2), act_cfg=dict(type="LeakyReLU"))
    x = torch.randn(2, 3, 5, 5)
    ref = F.leaky_relu(F.group_norm(F.conv2d(x, m.conv.weight, padding=1), 2, m.gn.weight, m.gn.bias), 0.01)
    assert torch.allclose(m(x), ref, atol=1e-6)
    assert torch.allclose(m(x, activate=False, norm=False), F.conv2d(x, m.conv.weight, padding=1), atol=1e-6)


def test_conv_module_order_and_padding_modes():
    m = ConvModule(4, 6, 1, norm_cfg=dict(type="BN"), order=("norm", "conv", "act"))
    assert m.bn.num_features == 4  # norm before conv normalizes the input channels
    x = torch.randn(1, 2, 5, 5)
    r = ConvModule(2, 2, 3, padding=1, padding_mode="reflect", act_cfg=None)
    assert isinstance(r.padding_layer, nn.ReflectionPad2d) and r.conv.padding == (0, 0)
    ref = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), r.conv.weight, r.conv.bias)
    assert torch.allclose(r(x), ref, atol=1e-6)
    c = ConvModule(2, 2, 3, padding=1, padding_mode="circular", act_cfg=None)
    ref = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), c.conv.weight, c.conv.bias)
    assert torch.allclose(c(x), ref, atol=1e-6)
    s = ConvModule(2, 2, 3, with_spectral_norm=True)
    assert hasattr(s.conv, "weight_orig")
    with pytest.raises(ValueError, match="order"):
        ConvModule(2, 2, 3, order=("conv", "act"))
    with pytest.warns(UserWarning, match="redundant"):
        ConvModule(2, 2, 3, bias=True, norm_cfg=dict(type="BN"))


def test_depthwise_separable():
    m = DepthwiseSeparableConvModule(4, 8, 3, padding=1, norm_cfg=dict(type="BN"), pw_act_cfg=None)
    assert m.depthwise_conv.conv.groups == 4 and not hasattr(m.pointwise_conv, "activate")
    assert m(torch.randn(1, 4, 6, 6)).shape == (1, 8, 6, 6)
