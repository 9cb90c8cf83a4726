"""Weight initialization: helper functions, initializer rules (layer / override / containers), Pretrained."""

import math

import pytest
import torch
from torch import nn
from vk_core.model import (
    BaseModule,
    ModuleDict,
    ModuleList,
    Sequential,
    bias_init_with_prob,
    caffe2_xavier_init,
    constant_init,
    initialize,
    kaiming_init,
    normal_init,
    trunc_normal_init,
    uniform_init,
    xavier_init,
)


def _full(t, v):
    return torch.equal(t, torch.full_like(t, v))


def test_bias_init_with_prob_matches_logit():
    assert bias_init_with_prob(0.01) == pytest.approx(-math.log(99))
    assert torch.sigmoid(torch.tensor(bias_init_with_prob(0.3))).item() == pytest.approx(0.3)
    with pytest.raises(ValueError, match="prior_prob"):
        bias_init_with_prob(1.5)


def test_helper_functions():
    conv = nn.Conv2d(3, 4, 3)
    constant_init(conv, 2, bias=1)
    assert _full(conv.weight, 2) and _full(conv.bias, 1)
    torch.manual_seed(0)
    uniform_init(conv, a=0.5, b=0.6, bias=3)
    assert conv.weight.min() >= 0.5 and conv.weight.max() <= 0.6 and _full(conv.bias, 3)
    trunc_normal_init(conv, std=10, a=-1, b=1)
    assert conv.weight.abs().max() <= 1
    normal_init(conv, mean=5, std=1e-6)
    assert torch.allclose(conv.weight, torch.full_like(conv.weight, 5), atol=1e-4)
    lin = nn.Linear(1000, 1000)
    kaiming_init(lin, mode="fan_in")
    assert lin.weight.std().item() == pytest.approx(math.sqrt(2 / 1000), rel=0.02)
    xavier_init(lin, distribution="uniform")
    assert lin.weight.abs().max() <= math.sqrt(6 / 2000) + 1e-7
    caffe2_xavier_init(lin)  # kaiming_uniform(a=1, fan_in): bound sqrt(3 / fan_in)
    assert lin.weight.abs().max() <= math.sqrt(3 / 1000) + 1e-7
    with pytest.raises(ValueError, match="distribution"):
        xavier_init(lin, distribution="gauss")
    constant_init(nn.ReLU(), 1)  # modules without weight are left alone


def test_constant_layer_example():
    # upstream example: Linear weight 1, bias 2
    model = nn.Linear(2, 3)
    initialize(model, dict(type="Constant", layer="Linear", val=1, bias=2))
    assert _full(model.weight, 1) and _full(model.bias, 2)


def test_layer_list_and_cfg_list():
    model = nn.Sequential(nn.Conv1d(3, 1, 3), nn.ReLU(), nn.Linear(1, 2))
    initialize(model, dict(type="Constant", layer=["Conv1d", "Linear"], val=1, bias=2))
    assert _full(model[0].weight, 1) and _full(model[2].weight, 1)
    initialize(
        model,
        [dict(type="Constant", layer="Conv1d", val=1), dict(type="Constant", layer="Linear", val=2)],
    )
    assert _full(model[0].weight, 1) and _full(model[2].weight, 2) and _full(model[0].bias, 0)


def test_layer_matches_direct_base_class_name():
    class MyConv(nn.Conv2d):
        pass

    model = nn.Sequential(MyConv(1, 1, 1))
    initialize(model, dict(type="Constant", layer="Conv2d", val=4))
    assert _full(model[0].weight, 4)


class FooNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.feat = nn.Conv2d(1, 1, 1)
        self.reg = nn.Conv2d(1, 1, 1)
        self.cls = nn.Sequential(nn.Conv1d(1, 1, 1))


def test_override_beats_outer_and_reuses_outer_args():
    model = FooNet()
    initialize(
        model,
        dict(type="Constant", val=1, bias=2, layer="Conv2d", override=dict(type="Constant", name="reg", val=3, bias=4)),
    )
    assert _full(model.feat.weight, 1) and _full(model.feat.bias, 2)
    assert _full(model.reg.weight, 3) and _full(model.reg.bias, 4)
    # name only: the outer type and arguments apply to the named child (whatever its class)
    model = FooNet()
    initialize(model, dict(type="Constant", val=5, layer="Conv2d", override=dict(name="cls")))
    assert _full(model.cls[0].weight, 5) and _full(model.reg.weight, 5)


def test_override_without_layer_initializes_only_target():
    model = FooNet()
    before = model.feat.weight.clone()
    initialize(model, dict(type="Constant", val=7, override=dict(name="reg")))
    assert _full(model.reg.weight, 7) and torch.equal(model.feat.weight, before)


def test_no_layer_no_override_initializes_nothing():
    model = FooNet()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    initialize(model, dict(type="Constant", val=9))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_invalid_override_errors():
    with pytest.raises(ValueError, match="must name the submodule"):
        initialize(FooNet(), dict(type="Constant", val=1, layer="Conv2d", override=dict(type="Constant", val=3)))
    with pytest.raises(ValueError, match="no 'type'"):
        initialize(FooNet(), dict(type="Constant", val=1, layer="Conv2d", override=dict(name="reg", val=3)))
    with pytest.raises(RuntimeError, match="no such submodule"):
        initialize(FooNet(), dict(type="Constant", val=1, override=dict(name="nope")))
    with pytest.raises(TypeError, match="init_cfg"):
        initialize(FooNet(), "Constant")
    with pytest.raises(KeyError, match="Konstant"):
        initialize(FooNet(), dict(type="Konstant", val=1, layer="Conv2d"))


class Child(BaseModule):
    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.conv = nn.Conv2d(1, 1, 1)


class Parent(BaseModule):
    def __init__(self, init_cfg=None, child_cfg=None):
        super().__init__(init_cfg)
        self.child = Child(child_cfg)
        self.head = nn.Conv2d(1, 1, 1)


def test_child_init_cfg_beats_container():
    model = Parent(dict(type="Constant", layer="Conv2d", val=1), dict(type="Constant", layer="Conv2d", val=2))
    model.init_weights()
    assert _full(model.child.conv.weight, 2) and _full(model.head.weight, 1)
    assert model.is_init and model.child.is_init
    # the record names the initializer that produced each value, and the transient state is gone
    assert "val=2" in model.init_info["child.conv.weight"] and "val=1" in model.init_info["head.weight"]
    assert not hasattr(model, "_params_init_info") and not hasattr(model.child, "_params_init_info")


def test_child_without_cfg_keeps_container_init_and_default_is_reported():
    model = Parent(dict(type="Constant", layer="Conv2d", val=3))
    model.init_weights()
    assert _full(model.child.conv.weight, 3)
    untouched = Parent()
    untouched.init_weights()
    assert "unchanged" in untouched.init_info["head.weight"]


def test_containers_children_priority():
    seq = Sequential(
        Child(dict(type="Constant", layer="Conv2d", val=2)),
        nn.Conv2d(1, 1, 1),
        init_cfg=dict(type="Constant", layer="Conv2d", val=1),
    )
    seq.init_weights()
    assert _full(seq[0].conv.weight, 2) and _full(seq[1].weight, 1)
    mlist = ModuleList(
        [Child(dict(type="Constant", layer="Conv2d", val=5)), Child()],
        init_cfg=dict(type="Constant", layer="Conv2d", val=6),
    )
    mlist.init_weights()
    assert _full(mlist[0].conv.weight, 5) and _full(mlist[1].conv.weight, 6)
    mdict = ModuleDict(
        {"a": Child(dict(type="Constant", layer="Conv2d", val=7)), "b": nn.Conv2d(1, 1, 1)},
        init_cfg=dict(type="Constant", layer="Conv2d", val=8),
    )
    mdict.init_weights()
    assert _full(mdict["a"].conv.weight, 7) and _full(mdict["b"].weight, 8)


def test_bias_prob_and_type_checks():
    model = nn.Linear(2, 2)
    initialize(model, dict(type="Normal", layer="Linear", std=0.01, bias_prob=0.01))
    assert torch.allclose(model.bias, torch.full_like(model.bias, -math.log(99)))
    with pytest.raises(TypeError, match="bias"):
        initialize(model, dict(type="Constant", layer="Linear", val=1, bias="0"))


def test_pretrained_with_prefix(tmp_path):
    src = Parent()
    constant_init(src.child.conv, 11, bias=12)
    path = tmp_path / "ckpt.pth"
    state = {f"backbone.{k}": v for k, v in src.child.state_dict().items()}
    state["head.weight"] = torch.zeros(1, 1, 1, 1)
    torch.save({"state_dict": state}, path)
    model = Child(init_cfg=dict(type="Pretrained", checkpoint=str(path), prefix="backbone."))
    model.init_weights()
    assert _full(model.conv.weight, 11) and _full(model.conv.bias, 12)
    assert "load from" in model.init_info["conv.weight"]
    # Pretrained runs after the other configs of the same module, so it wins
    model = Child(
        init_cfg=[
            dict(type="Pretrained", checkpoint=str(path), prefix="backbone"),
            dict(type="Constant", layer="Conv2d", val=0),
        ]
    )
    model.init_weights()
    assert _full(model.conv.weight, 11)
    with pytest.raises(ValueError, match="prefix 'neck.'"):
        Child(init_cfg=dict(type="Pretrained", checkpoint=str(path), prefix="neck.")).init_weights()


class RetinaLikeHead(BaseModule):
    def __init__(self):
        super().__init__(
            init_cfg=dict(
                type="Normal",
                layer="Conv2d",
                std=0.01,
                override=dict(type="Normal", name="retina_cls", std=0.01, bias_prob=0.01),
            )
        )
        self.cls_convs = nn.Sequential(nn.Conv2d(4, 4, 3), nn.ReLU())
        self.retina_cls = nn.Conv2d(4, 9, 3)
        self.retina_reg = nn.Conv2d(4, 36, 3)


def test_retinanet_style_head_init():
    torch.manual_seed(0)
    head = RetinaLikeHead()
    head.init_weights()
    prior_bias = -math.log((1 - 0.01) / 0.01)
    assert torch.allclose(head.retina_cls.bias, torch.full((9,), prior_bias))
    assert _full(head.retina_reg.bias, 0) and _full(head.cls_convs[0].bias, 0)
    assert head.retina_reg.weight.std().item() == pytest.approx(0.01, rel=0.1)
    assert "bias=-4.59" in head.init_info["retina_cls.bias"]
