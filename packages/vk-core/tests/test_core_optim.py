"""Optimizer wrappers, accumulation, clipping, AMP, OptimWrapperDict, paramwise constructor, builder."""

import pytest
import torch
from torch import nn
from vk_core.logging import MessageHub
from vk_core.optim import (
    AmpOptimWrapper,
    DefaultOptimWrapperConstructor,
    OptimWrapper,
    OptimWrapperDict,
    build_optim_wrapper,
)
from vk_core.registry import OPTIMIZERS


def test_update_params_changes_weights():
    model = nn.Linear(1, 1)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = model.weight.detach().clone()
    x = torch.tensor([[2.0]])
    wrapper.update_params(model(x).sum())
    # d(w*x+b)/dw = x, so one SGD step moves w by -lr * x
    assert torch.allclose(model.weight, before - 0.1 * 2.0)
    assert model.weight.grad is None  # zero_grad ran after the step
    assert wrapper.inner_count == 1


def _data(n=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 4, generator=g), torch.randn(n, 1, generator=g)


def test_accumulation_10_batches_by_3_steps_four_times_with_full_batch_gradients():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    ref = nn.Linear(4, 1)
    ref.load_state_dict(model.state_dict())
    x, y = _data()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = []
    opt.register_step_post_hook(lambda *_: steps.append([p.grad.clone() for p in model.parameters()]))
    wrapper = OptimWrapper(opt, accumulative_counts=3)
    wrapper.initialize_count_status(model, 0, 10)
    for i in range(10):
        loss = ((model(x[i : i + 1]) - y[i : i + 1]) ** 2).sum()
        wrapper.update_params(loss)
    assert len(steps) == 4
    # reference: windows [0,3), [3,6), [6,9) averaged over 3 and the last partial window [9,10) over 1
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for k, (lo, hi) in enumerate([(0, 3), (3, 6), (6, 9), (9, 10)]):
        ref_opt.zero_grad()
        ((ref(x[lo:hi]) - y[lo:hi]) ** 2).sum(dim=1).mean().backward()
        for got, want in zip(steps[k], [p.grad for p in ref.parameters()]):
            assert torch.allclose(got, want, atol=1e-6)
        ref_opt.step()
    for p, q in zip(model.parameters(), ref.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_accumulation_without_count_status_and_should_sync():
    model = nn.Linear(1, 1)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), accumulative_counts=2)
    assert wrapper.scale_loss(torch.tensor(4.0)).item() == 2.0
    assert not wrapper.should_sync()  # the first of two backward calls does not sync
    wrapper._inner_count = 1
    assert wrapper.should_sync()


class NoSyncModel(nn.Linear):
    def __init__(self):
        super().__init__(1, 1)
        self.no_sync_calls = 0

    def no_sync(self):
        import contextlib

        self.no_sync_calls += 1
        return contextlib.nullcontext()


def test_optim_context_skips_sync_on_accumulation_steps():
    model = NoSyncModel()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), accumulative_counts=3)
    wrapper.initialize_count_status(model, 0, 6)
    for _ in range(6):
        with wrapper.optim_context(model):
            loss = model(torch.ones(1, 1)).sum()
        wrapper.update_params(loss)
    assert model.no_sync_calls == 4  # iterations 1, 2, 4, 5 of each window of 3 do not sync


def test_clip_grad_norm_and_value_logged():
    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1.0), clip_grad=dict(max_norm=1.0))
    x = torch.tensor([[3.0, 4.0]])  # grad = x, norm 5
    wrapper.update_params(model(x).sum())
    assert torch.allclose(model.weight, -torch.tensor([[0.6, 0.8]]), atol=1e-6)
    assert MessageHub.get_current_instance().get_scalar("train/grad_norm").current() == pytest.approx(5.0)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1.0), clip_grad=dict(type="value", clip_value=0.5))
    before = model.weight.detach().clone()
    wrapper.update_params(model(x).sum())
    assert torch.allclose(model.weight, before - 0.5)
    with pytest.raises(ValueError, match="max_norm"):
        OptimWrapper(torch.optim.SGD(model.parameters(), lr=1.0), clip_grad=dict(norm_type=2))
    with pytest.raises(ValueError, match="'norm' or 'value'"):
        OptimWrapper(torch.optim.SGD(model.parameters(), lr=1.0), clip_grad=dict(type="l1", max_norm=1))


def test_get_lr_momentum_state_dict_and_repr():
    model = nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1))
    opt = torch.optim.SGD(
        [{"params": model[0].parameters()}, {"params": model[1].parameters(), "lr": 0.5}], lr=0.1, momentum=0.9
    )
    wrapper = OptimWrapper(opt)
    assert wrapper.get_lr() == {"base_lr": [0.1], "lr": [0.1, 0.5]}
    assert wrapper.get_momentum() == {"momentum": [0.9, 0.9]}
    adam = OptimWrapper(torch.optim.Adam(model.parameters(), betas=(0.8, 0.99)))
    assert adam.get_momentum() == {"momentum": [0.8]}
    assert repr(wrapper).startswith("Type: OptimWrapper\naccumulative_counts: 1\noptimizer: \nSGD (")
    state = wrapper.state_dict()
    wrapper2 = OptimWrapper(
        torch.optim.SGD([{"params": model[0].parameters()}, {"params": model[1].parameters()}], lr=0.3, momentum=0.9)
    )
    wrapper2.load_state_dict(state)
    assert wrapper2.get_lr()["lr"] == [0.1, 0.5]
    with pytest.raises(ValueError, match="accumulative_counts"):
        OptimWrapper(opt, accumulative_counts=0)
    with pytest.raises(TypeError, match="torch.optim.Optimizer"):
        OptimWrapper(model)


def test_amp_bfloat16_on_cpu_trains_and_round_trips():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
    x = torch.randn(64, 8)
    y = x.sum(dim=1, keepdim=True)
    wrapper = AmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.05), dtype="bfloat16")
    losses = []
    for _ in range(30):
        with wrapper.optim_context(model):
            out = model(x)
            assert out.dtype == torch.bfloat16  # autocast is active
            loss = ((out.float() - y) ** 2).mean()
        wrapper.update_params(loss)
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    state = wrapper.state_dict()
    assert "loss_scaler" in state
    other = AmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.05), dtype="bfloat16")
    other.load_state_dict(state)


def test_amp_float16_scaler_options_and_errors():
    model = nn.Linear(2, 1)
    static = AmpOptimWrapper(loss_scale=64.0, dtype="float16", optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert static.loss_scaler.is_enabled() and static.loss_scaler.get_scale() == 64.0
    assert static.state_dict()["loss_scaler"]["scale"] == 64.0
    custom = AmpOptimWrapper(
        loss_scale=dict(init_scale=8.0, growth_interval=3),
        dtype="float16",
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
    )
    assert custom.loss_scaler.get_scale() == 8.0
    with pytest.raises(ValueError, match="dtype"):
        AmpOptimWrapper(dtype="int8", optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="loss_scale"):
        AmpOptimWrapper(loss_scale="auto", optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


def test_optim_wrapper_dict():
    m1, m2 = nn.Linear(1, 1), nn.Linear(1, 1)
    w1 = OptimWrapper(torch.optim.SGD(m1.parameters(), lr=0.1))
    w2 = OptimWrapper(torch.optim.Adam(m2.parameters(), lr=0.01))
    wd = OptimWrapperDict(model1=w1, model2=w2)
    assert list(wd.keys()) == ["model1", "model2"] and wd["model1"] is w1 and len(wd) == 2
    with pytest.raises(NotImplementedError, match="ambiguous"):
        wd.update_params(torch.tensor(1.0))
    with pytest.raises(NotImplementedError):
        wd.step()
    assert wd.get_lr() == {"model1.lr": [0.1], "model2.lr": [0.01]}
    assert wd.get_momentum() == {"model1.momentum": [0], "model2.momentum": [0.9]}
    m1(torch.ones(1, 1)).sum().backward()
    wd.zero_grad()
    assert m1.weight.grad is None
    state = wd.state_dict()
    assert set(state) == {"model1", "model2"}
    wd.load_state_dict(state)
    with pytest.raises(KeyError, match="unknown"):
        wd.load_state_dict({"model3": {}})
    with pytest.raises(TypeError):
        OptimWrapperDict(a=torch.optim.SGD(m1.parameters(), lr=0.1))


# ---------------------------------------------------------------------------------------------- paramwise
class DeformConv2dPack(nn.Conv2d):
    """A stand-in deformable conv: the class name marks it, conv_offset predicts offsets."""

    def __init__(self, c):
        super().__init__(c, c, 3, padding=1)
        self.conv_offset = nn.Conv2d(c, 18, 3, padding=1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.conv = nn.Conv2d(3, 4, 3)
        self.backbone.bn = nn.BatchNorm2d(4)
        self.backbone.dw = nn.Conv2d(4, 4, 3, groups=4)
        self.dcn = DeformConv2dPack(4)
        self.head = nn.Linear(4, 2)


def _groups_by_name(model, groups):
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(p)]: {k: v for k, v in g.items() if k != "params"} for g in groups for p in g["params"]}


def test_paramwise_rules_group_by_group():
    model = Net()
    cfg = dict(
        bias_lr_mult=2.0,
        bias_decay_mult=0.5,
        norm_decay_mult=0.0,
        dwconv_decay_mult=0.1,
        dcn_offset_lr_mult=0.01,
    )
    ctor = DefaultOptimWrapperConstructor(dict(optimizer=dict(type="SGD", lr=0.1, weight_decay=1e-2)), cfg)
    got = _groups_by_name(model, ctor.param_groups(model))
    expected = {
        "backbone.conv.weight": {},
        "backbone.conv.bias": {"lr": 0.2, "weight_decay": 5e-3},
        "backbone.bn.weight": {"weight_decay": 0.0},
        "backbone.bn.bias": {"weight_decay": 0.0},  # norm: no bias_lr_mult, norm decay first
        "backbone.dw.weight": {"weight_decay": 1e-3},
        "backbone.dw.bias": {"lr": 0.2, "weight_decay": 5e-3},  # bias decay beats dwconv decay
        "dcn.weight": {},
        "dcn.bias": {"lr": 0.2, "weight_decay": 5e-3},
        "dcn.conv_offset.weight": {"lr": 0.001},
        "dcn.conv_offset.bias": {"lr": 0.001},  # offset lr overrides bias_lr_mult; no bias decay in DCN
        "head.weight": {},
        "head.bias": {"lr": 0.2, "weight_decay": 5e-3},
    }
    assert got.keys() == expected.keys()
    for name, options in expected.items():
        assert got[name] == pytest.approx(options), name


def test_custom_keys_longest_match_and_upstream_example():
    model = Net()
    cfg = dict(
        custom_keys={
            "backbone": dict(lr_mult=0.1, decay_mult=0.9),
            "backbone.bn": dict(lr_mult=0.0),
            "head": dict(lr_mult=10, momentum=0.5),
        },
        bias_lr_mult=2.0,
    )
    ctor = DefaultOptimWrapperConstructor(dict(optimizer=dict(type="SGD", lr=0.01, weight_decay=0.95)), cfg)
    got = _groups_by_name(model, ctor.param_groups(model))
    assert got["backbone.conv.weight"] == pytest.approx({"lr": 0.001, "weight_decay": 0.855})
    assert got["backbone.conv.bias"] == pytest.approx({"lr": 0.001, "weight_decay": 0.855})  # custom beats bias rule
    assert got["backbone.bn.weight"] == pytest.approx({"lr": 0.0, "weight_decay": 0.95})
    assert got["head.weight"] == pytest.approx({"lr": 0.1, "weight_decay": 0.95, "momentum": 0.5})
    assert got["dcn.bias"] == pytest.approx({"lr": 0.02})


def test_groups_are_merged_and_optimizer_builds():
    model = Net()
    wrapper = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=1e-4), paramwise_cfg=dict(norm_decay_mult=0)
        ),
    )
    groups = wrapper.optimizer.param_groups
    assert len(groups) == 2  # plain parameters and norm parameters
    assert [g["weight_decay"] for g in groups] == [1e-4, 0]
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    # norm_decay_mult on a model without norm layers builds fine (upstream example)
    build_optim_wrapper(
        nn.Conv1d(1, 1, 1),
        dict(optimizer=dict(type="SGD", lr=0.1, weight_decay=1e-4), paramwise_cfg=dict(norm_decay_mult=0.0)),
    )


def test_paramwise_bad_input():
    model = Net()
    with pytest.warns(UserWarning, match=r"\['neck'\]"):
        build_optim_wrapper(
            model,
            dict(
                optimizer=dict(type="SGD", lr=0.1),
                paramwise_cfg=dict(custom_keys={"neck": dict(lr_mult=0.1), "head": {}}),
            ),
        )
    with pytest.raises(KeyError, match="did you mean 'norm_decay_mult'"):
        build_optim_wrapper(
            model, dict(optimizer=dict(type="SGD", lr=0.1, weight_decay=0.1), paramwise_cfg=dict(norm_decay_mul=0))
        )
    with pytest.raises(ValueError, match="weight_decay"):
        build_optim_wrapper(model, dict(optimizer=dict(type="SGD", lr=0.1), paramwise_cfg=dict(bias_decay_mult=0)))
    with pytest.raises(KeyError, match="unknown optimizer type.*'SDG'.*Did you mean: 'SGD'"):
        build_optim_wrapper(model, dict(optimizer=dict(type="SDG", lr=0.1)))
    with pytest.raises(KeyError, match="'optimizer'"):
        build_optim_wrapper(model, dict(type="OptimWrapper"))


def test_shared_parameters_need_bypass_duplicate():
    model = nn.Module()
    model.a = nn.Linear(2, 2)
    model.b = nn.Sequential(model.a)  # the same module reachable twice
    # named_parameters de-duplicates, but the module walk sees the shared layer twice
    cfg = dict(optimizer=dict(type="SGD", lr=0.1, weight_decay=0.1))
    with pytest.raises(ValueError, match="bypass_duplicate"):
        build_optim_wrapper(model, {**cfg, "paramwise_cfg": dict(bias_decay_mult=0.0)})
    wrapper = build_optim_wrapper(model, {**cfg, "paramwise_cfg": dict(bias_decay_mult=0.0, bypass_duplicate=True)})
    assert sum(len(g["params"]) for g in wrapper.optimizer.param_groups) == 2


def test_build_wrapper_types_and_torch_optimizers_registered():
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS"):
        assert OPTIMIZERS.get(name) is getattr(torch.optim, name)
    model = nn.Linear(2, 2)
    wrapper = build_optim_wrapper(
        model,
        dict(type="AmpOptimWrapper", dtype="bfloat16", accumulative_counts=2, optimizer=dict(type="AdamW", lr=1e-3)),
    )
    assert isinstance(wrapper, AmpOptimWrapper) and wrapper._accumulative_counts == 2
    assert isinstance(wrapper.optimizer, torch.optim.AdamW)
