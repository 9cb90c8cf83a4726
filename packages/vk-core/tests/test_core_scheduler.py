"""Parameter schedulers: torch.optim.lr_scheduler equivalence, chaining, conversion, state, momentum, errors."""

import io
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.optim import lr_scheduler as tls
from vk_core.optim import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingParamScheduler,
    CosineRestartLR,
    ExponentialLR,
    LinearLR,
    LinearMomentum,
    MultiStepLR,
    MultiStepMomentum,
    OneCycleLR,
    OptimWrapper,
    PolyLR,
    QuadraticWarmupLR,
    ReduceOnPlateauLR,
    StepLR,
    StepMomentum,
)
from vk_core.registry import PARAM_SCHEDULERS

STEPS = 100


def _opt(lr=0.1, n_groups=2, **kw):
    params = [nn.Parameter(torch.zeros(1)) for _ in range(n_groups)]
    return torch.optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)], lr=lr, **kw)


def _run_ours(make, steps=STEPS, key="lr"):
    opt = _opt()
    sched = make(opt)
    seq = [[g[key] for g in opt.param_groups]]
    for _ in range(steps - 1):
        opt.step()
        sched.step()
        seq.append([g[key] for g in opt.param_groups])
    return seq


def _run_torch(make, steps=STEPS):
    opt = _opt()
    sched = make(opt)
    seq = [[g["lr"] for g in opt.param_groups]]
    for _ in range(steps - 1):
        opt.step()
        sched.step()
        seq.append([g["lr"] for g in opt.param_groups])
    return seq


def _close(a, b, tol=1e-12):
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        for u, v in zip(x, y):
            assert abs(u - v) <= tol, f"step {i}: {u} != {v}"


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda o: StepLR(o, step_size=7, gamma=0.5), lambda o: tls.StepLR(o, 7, 0.5)),
        (
            lambda o: MultiStepLR(o, milestones=[10, 30, 30, 80], gamma=0.3),
            lambda o: tls.MultiStepLR(o, [10, 30, 30, 80], 0.3),
        ),
        (lambda o: ExponentialLR(o, gamma=0.97), lambda o: tls.ExponentialLR(o, 0.97)),
        (lambda o: ConstantLR(o, factor=0.25, end=21), lambda o: tls.ConstantLR(o, factor=0.25, total_iters=20)),
        (lambda o: LinearLR(o, start_factor=0.05, end=31), lambda o: tls.LinearLR(o, 0.05, 1.0, total_iters=30)),
        (lambda o: LinearLR(o, start_factor=0.5, end_factor=0.1, end=41), lambda o: tls.LinearLR(o, 0.5, 0.1, 40)),
        (lambda o: CosineAnnealingLR(o, T_max=30, eta_min=1e-3), lambda o: tls.CosineAnnealingLR(o, 30, 1e-3)),
        (lambda o: PolyLR(o, power=2.0, end=61), lambda o: tls.PolynomialLR(o, total_iters=60, power=2.0)),
        (
            lambda o: OneCycleLR(o, eta_max=[0.3, 0.6], total_steps=STEPS),
            lambda o: tls.OneCycleLR(o, [0.3, 0.6], total_steps=STEPS, cycle_momentum=False),
        ),
        (
            lambda o: OneCycleLR(o, eta_max=0.3, total_steps=STEPS, anneal_strategy="linear", three_phase=True),
            lambda o: tls.OneCycleLR(
                o, 0.3, total_steps=STEPS, anneal_strategy="linear", three_phase=True, cycle_momentum=False
            ),
        ),
        (
            lambda o: CosineRestartLR(o, periods=[10] * 10, restart_weights=[1] * 10, eta_min=0.01),
            lambda o: tls.CosineAnnealingWarmRestarts(o, T_0=10, eta_min=0.01),
        ),
    ],
    ids=[
        "step",
        "multistep",
        "exp",
        "constant",
        "linear",
        "linear-down",
        "cosine",
        "poly",
        "onecycle",
        "onecycle-3phase",
        "cosine-restart",
    ],
)
def test_matches_torch_over_100_steps(ours, theirs):
    _close(_run_ours(ours), _run_torch(theirs))


def test_reduce_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8] * 8
    opt_a, opt_b = _opt(), _opt()
    ours = ReduceOnPlateauLR(opt_a, monitor="loss", patience=2, factor=0.5, cooldown=1, min_value=0.01)
    theirs = tls.ReduceLROnPlateau(opt_b, mode="min", patience=2, factor=0.5, cooldown=1, min_lr=0.01)
    for value in metrics:
        ours.step()  # plain steps only count (the hook calls them every epoch)
        ours.step({"loss": value})
        theirs.step(value)
        _close([[g["lr"] for g in opt_a.param_groups]], [[g["lr"] for g in opt_b.param_groups]])
    assert opt_a.param_groups[0]["lr"] == 0.01  # reached the floor
    with pytest.raises(KeyError, match="'acc'.*set monitor"):
        ReduceOnPlateauLR(_opt(), monitor="acc").step({"loss": 1.0})


def test_warmup_then_multistep_hand_computed():
    opt = _opt(lr=1.0, n_groups=1)
    scheds = [LinearLR(opt, start_factor=0.1, begin=0, end=5), MultiStepLR(opt, milestones=[10, 15], gamma=0.1)]
    got = [opt.param_groups[0]["lr"]]
    for _ in range(19):
        for s in scheds:
            s.step()
        got.append(opt.param_groups[0]["lr"])
    for t, lr in enumerate(got):
        warm = 0.1 + 0.9 * t / 4 if t < 5 else 1.0
        decay = 0.1 ** sum(t >= m for m in (10, 15))
        assert lr == pytest.approx(warm * decay, abs=1e-12), t


def test_warmup_then_cosine_windows_chain():
    opt = _opt(lr=1.0, n_groups=1)
    scheds = [LinearLR(opt, start_factor=0.2, begin=0, end=5), CosineAnnealingLR(opt, begin=5, end=25, eta_min=0.0)]
    got = [opt.param_groups[0]["lr"]]
    for _ in range(29):
        for s in scheds:
            s.step()
        got.append(opt.param_groups[0]["lr"])
    for t, lr in enumerate(got):
        if t < 5:
            want = 0.2 + 0.8 * t / 4
        elif t < 25:
            want = (1 + math.cos(math.pi * (t - 5) / 20)) / 2
        else:
            want = got[24]  # after the last window the value stays
        assert lr == pytest.approx(want, abs=1e-12), t
    assert scheds[1].T_max == 20  # T_max defaults to end - begin


def test_quadratic_warmup_and_param_scheduler_on_weight_decay():
    opt = _opt(lr=1.0, n_groups=1)
    sched = QuadraticWarmupLR(opt, end=4)
    got = [opt.param_groups[0]["lr"]]
    for _ in range(5):
        sched.step()
        got.append(opt.param_groups[0]["lr"])
    assert got == pytest.approx([1 / 16, 4 / 16, 9 / 16, 1.0, 1.0, 1.0])
    opt = _opt(n_groups=1, weight_decay=0.5)
    sched = CosineAnnealingParamScheduler(opt, param_name="weight_decay", T_max=10, eta_min_ratio=0.1)
    for _ in range(10):
        sched.step()
    assert opt.param_groups[0]["weight_decay"] == pytest.approx(0.05)


def test_momentum_schedulers_sgd_and_adam_betas():
    opt = _opt(n_groups=1, momentum=0.9)
    sched = MultiStepMomentum(opt, milestones=[2], gamma=0.5)
    for _ in range(3):
        sched.step()
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.45)
    adam = torch.optim.Adam([nn.Parameter(torch.zeros(1))], betas=(0.8, 0.99))
    sched = StepMomentum(OptimWrapper(adam), step_size=1, gamma=0.5)
    sched.step()
    assert adam.param_groups[0]["betas"] == pytest.approx((0.4, 0.99))
    sched = LinearMomentum(adam, start_factor=0.5, end=3)
    assert adam.param_groups[0]["betas"][0] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="neither 'momentum' nor 'betas'"):
        StepMomentum(torch.optim.Adagrad([nn.Parameter(torch.zeros(1))]), step_size=1)


def test_state_round_trip_mid_way_matches_uninterrupted():
    def make(o):
        return [
            LinearLR(o, start_factor=0.1, end=10),
            CosineAnnealingLR(o, begin=10, end=100, eta_min=1e-4),
            MultiStepLR(o, milestones=[50, 70]),
        ]

    ref_opt = _opt(n_groups=1)
    ref = make(ref_opt)
    ref_seq = []
    for _ in range(80):
        ref_opt.step()
        for s in ref:
            s.step()
        ref_seq.append(ref_opt.param_groups[0]["lr"])

    opt = _opt(n_groups=1)
    scheds = make(opt)
    for _ in range(37):
        opt.step()
        for s in scheds:
            s.step()
    buf = io.BytesIO()
    torch.save({"optimizer": opt.state_dict(), "schedulers": [s.state_dict() for s in scheds]}, buf)
    buf.seek(0)
    ckpt = torch.load(buf, weights_only=True)  # primitives only

    opt2 = _opt(n_groups=1)
    scheds2 = make(opt2)  # a fresh run builds its schedulers first, then resumes
    opt2.load_state_dict(ckpt["optimizer"])
    for s, state in zip(scheds2, ckpt["schedulers"]):
        s.load_state_dict(state)
    seq = ref_seq[:37]
    for _ in range(37, 80):
        opt2.step()
        for s in scheds2:
            s.step()
        seq.append(opt2.param_groups[0]["lr"])
    _close([[v] for v in seq], [[v] for v in ref_seq])


def test_wrapper_base_lr_follows_the_schedule():
    wrapper = OptimWrapper(_opt(lr=0.1))  # two groups: lr 0.1 and 0.2, defaults lr 0.1
    # a per-group list gets one value fewer than wrapper.param_groups: the base group reuses the last one
    sched = OneCycleLR(wrapper, eta_max=[1.0, 2.0], total_steps=10)
    assert wrapper.get_lr() == {"base_lr": [pytest.approx(0.08)], "lr": [pytest.approx(0.04), pytest.approx(0.08)]}
    sched.step()
    lr = wrapper.get_lr()
    assert lr["base_lr"][0] == pytest.approx(lr["lr"][1]) and lr["lr"][1] == pytest.approx(2 * lr["lr"][0])
    assert lr["lr"][0] > 0.04
    multi = MultiStepLR(OptimWrapper(_opt(lr=0.1)), milestones=[1])
    multi.step()
    assert multi.optimizer.get_lr() == {
        "base_lr": [pytest.approx(0.01)],
        "lr": [pytest.approx(0.01), pytest.approx(0.02)],
    }
    # the base values survive a checkpoint round trip
    buf = io.BytesIO()
    torch.save(multi.optimizer.state_dict(), buf)
    buf.seek(0)
    fresh = OptimWrapper(_opt(lr=0.1))
    fresh.load_state_dict(torch.load(buf, weights_only=True))
    assert fresh.get_lr() == multi.optimizer.get_lr()


def test_convert_to_iter_based_through_registry():
    opt = _opt(n_groups=1)
    sched = PARAM_SCHEDULERS.build(
        dict(type="MultiStepLR", milestones=[2, 3], begin=1, end=4, convert_to_iter_based=True),
        default_args=dict(optimizer=opt, epoch_length=10),
    )
    assert isinstance(sched, MultiStepLR) and not sched.by_epoch
    assert (sched.begin, sched.end, sorted(sched.milestones)) == (10, 40, [20, 30])
    cos = CosineAnnealingLR.build_iter_from_epoch(opt, T_max=3, begin=0, end=3, epoch_length=5)
    assert (cos.T_max, cos.end) == (15, 15)
    step = StepLR.build_iter_from_epoch(opt, step_size=2, epoch_length=4)
    assert step.step_size == 8 and step.end == 1_000_000_000
    with pytest.raises(ValueError, match="by_epoch=True"):
        StepLR.build_iter_from_epoch(opt, step_size=2, by_epoch=False, epoch_length=4)
    with pytest.raises(ValueError, match="epoch_length"):
        StepLR.build_iter_from_epoch(opt, step_size=2, epoch_length=0)


def test_registry_names_and_bad_input():
    for name in (
        "ConstantLR",
        "CosineAnnealingLR",
        "ExponentialLR",
        "LinearLR",
        "MultiStepLR",
        "OneCycleLR",
        "PolyLR",
        "StepLR",
        "ConstantMomentum",
        "CosineAnnealingMomentum",
        "ExponentialMomentum",
        "LinearMomentum",
        "MultiStepMomentum",
        "PolyMomentum",
        "StepMomentum",
        "ConstantParamScheduler",
        "CosineAnnealingParamScheduler",
        "ExponentialParamScheduler",
        "LinearParamScheduler",
        "MultiStepParamScheduler",
        "OneCycleParamScheduler",
        "PolyParamScheduler",
        "StepParamScheduler",
        "CosineRestartLR",
        "ReduceOnPlateauLR",
    ):
        assert PARAM_SCHEDULERS.get(name) is not None, name
    opt = _opt()
    with pytest.raises(ValueError, match="end must be larger than begin.*begin=5, end=5"):
        LinearLR(opt, begin=5, end=5)
    with pytest.raises(KeyError, match="'CosineLR'"):
        PARAM_SCHEDULERS.build(dict(type="CosineLR"), default_args=dict(optimizer=opt))
    with pytest.raises(ValueError, match="increasing"):
        MultiStepLR(opt, milestones=[3, 1])
    with pytest.raises(TypeError, match="param_groups"):
        StepLR(nn.Linear(1, 1), step_size=1)
    with pytest.raises(KeyError, match="'eps'"):
        StepMomentum.__mro__[2](opt, "eps", step_size=1)
    with pytest.raises(ValueError, match="total_steps"):
        OneCycleLR(opt, eta_max=0.1)


@settings(max_examples=30, deadline=None)
@given(
    milestones=st.lists(st.integers(1, 60), max_size=5).map(sorted),
    gamma=st.floats(0.05, 0.95),
    step_size=st.integers(1, 20),
)
def test_multistep_and_step_match_torch_property(milestones, gamma, step_size):
    _close(
        _run_ours(lambda o: MultiStepLR(o, milestones=milestones, gamma=gamma), steps=60),
        _run_torch(lambda o: tls.MultiStepLR(o, milestones, gamma), steps=60),
    )
    _close(
        _run_ours(lambda o: StepLR(o, step_size=step_size, gamma=gamma), steps=60),
        _run_torch(lambda o: tls.StepLR(o, step_size, gamma), steps=60),
    )
