"""Backbones: output shapes, freezing, styles, variants, and the torchvision MobileNetV2 checkpoint."""

from pathlib import Path

import pytest
import torch
import torch.nn as nn
from vk_det.models.backbones import MobileNetV2, ResNet, ResNetV1d, ResNeXt
from vk_det.models.backbones.mobilenet_v2 import convert_torchvision_mobilenet_v2

WEIGHTS = Path(__file__).resolve().parents[3] / ".." / "shared" / "weights" / "mobilenet_v2-b0353104.pth"


@pytest.mark.parametrize("depth,channels", [(18, [8, 16, 32, 64]), (34, [8, 16, 32, 64]), (50, [32, 64, 128, 256])])
def test_resnet_output_channels_and_strides(depth, channels):
    # base_channels=8 keeps the nets tiny; the stage layout does not depend on the width.
    model = ResNet(depth, base_channels=8).eval()
    outs = model(torch.randn(1, 3, 64, 96))
    assert [o.shape[1] for o in outs] == channels
    assert [tuple(o.shape[2:]) for o in outs] == [(16, 24), (8, 12), (4, 6), (2, 3)]


def test_resnet_deep_variants_block_counts():
    assert [len(getattr(ResNet(101, base_channels=4), f"layer{i}")) for i in range(1, 5)] == [3, 4, 23, 3]
    assert [len(getattr(ResNet(152, base_channels=4), f"layer{i}")) for i in range(1, 5)] == [3, 8, 36, 3]


def test_resnet_out_indices_and_num_stages():
    model = ResNet(18, base_channels=8, num_stages=3, out_indices=(1, 2)).eval()
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [16, 32]
    assert not hasattr(model, "layer4")


def test_resnet_frozen_stages_and_norm_eval():
    model = ResNet(18, frozen_stages=1, norm_eval=True)
    model.train()
    assert not any(p.requires_grad for p in model.conv1.parameters())
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    model = ResNet(18, frozen_stages=-1, norm_eval=False).train()
    assert all(m.training for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_resnet_style_moves_the_stride():
    pytorch = ResNet(50, base_channels=8, style="pytorch")
    caffe = ResNet(50, base_channels=8, style="caffe")
    assert pytorch.layer2[0].conv1.stride == (1, 1) and pytorch.layer2[0].conv2.stride == (2, 2)
    assert caffe.layer2[0].conv1.stride == (2, 2) and caffe.layer2[0].conv2.stride == (1, 1)


def test_resnet_zero_init_residual():
    model = ResNet(50, base_channels=8)
    model.init_weights()
    assert torch.all(model.layer1[0].bn3.weight == 0)
    assert torch.all(model.bn1.weight == 1)


def test_resnetv1d_and_resnext_structure():
    v1d = ResNetV1d(depth=50, base_channels=16)
    keys = v1d.state_dict().keys()
    assert "stem.0.weight" in keys and "conv1.weight" not in keys
    assert isinstance(v1d.layer2[0].downsample[0], nn.AvgPool2d)
    assert v1d.stem[0].weight.shape == (8, 3, 3, 3)
    x = ResNeXt(depth=50, groups=32, base_width=4)
    assert x.layer1[0].conv2.groups == 32
    # 64 planes * 4 / 64 * 32 groups = 128 channels in the grouped conv.
    assert x.layer1[0].conv2.weight.shape == (128, 4, 3, 3)
    assert [o.shape[1] for o in x.eval()(torch.randn(1, 3, 32, 32))] == [256, 512, 1024, 2048]


def test_resnet_bad_arguments_are_named():
    with pytest.raises(KeyError, match="invalid depth 42"):
        ResNet(42)
    with pytest.raises(ValueError, match="style must be 'pytorch' or 'caffe'"):
        ResNet(18, style="tf")
    with pytest.raises(ValueError, match="out_indices"):
        ResNet(18, num_stages=2, out_indices=(0, 3))
    with pytest.raises(ValueError, match="dcn is only supported by Bottleneck"):
        ResNet(18, dcn=dict(type="DCNv2"), stage_with_dcn=(False, True, True, True))


def test_mobilenet_v2_shapes():
    model = MobileNetV2().eval()
    outs = model(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(24, 16, 16), (32, 8, 8), (96, 4, 4), (1280, 2, 2)]
    with pytest.raises(ValueError, match="out_indices must be in range"):
        MobileNetV2(out_indices=(8,))


@pytest.mark.skipif(not WEIGHTS.exists(), reason=f"{WEIGHTS} is not available")
def test_mobilenet_v2_loads_torchvision_checkpoint_with_every_key():
    ckpt = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
    model = MobileNetV2(init_cfg=dict(type="Pretrained", checkpoint=str(WEIGHTS)))
    model.init_weights()
    converted, unused = convert_torchvision_mobilenet_v2(ckpt)
    assert sorted(unused) == ["classifier.1.bias", "classifier.1.weight"]
    assert set(converted) == set(model.state_dict())
    assert torch.equal(model.conv1.conv.weight, ckpt["features.0.0.weight"])
    assert torch.equal(model.layer2[1].conv[2].bn.running_var, ckpt["features.3.conv.3.running_var"])
    assert torch.equal(model.conv2.bn.bias, ckpt["features.18.1.bias"])
    del ckpt["features.5.conv.1.0.weight"]
    with pytest.raises(KeyError, match=r"lacks 1 backbone keys, e.g. \['layer3.1.conv.1.conv.weight'\]"):
        MobileNetV2().load_pretrained(ckpt)
