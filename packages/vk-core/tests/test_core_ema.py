"""Weight averaging: EMA, momentum-annealed EMA, SWA, buffers and intervals."""

import pytest
import torch
from torch import nn
from vk_core.model import ExponentialMovingAverage, MomentumAnnealingEMA, StochasticWeightAverage


def _model(value):
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(value)
    return model


def _set(model, value):
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(value)


def test_ema_update_rule():
    model = _model(1.0)
    ema = ExponentialMovingAverage(model, momentum=0.1)
    ema.update_parameters(model)  # first update copies
    _set(model, 3.0)
    ema.update_parameters(model)
    # (1 - m) * ema + m * x = 0.9 * 1 + 0.1 * 3
    for p in ema.module.parameters():
        assert torch.allclose(p, torch.full_like(p, 1.2))
        assert not p.requires_grad
    _set(model, 0.0)
    ema.update_parameters(model)
    assert torch.allclose(ema.module[0].weight, torch.full((2, 2), 1.08))
    assert int(ema.steps) == 3
    x = torch.ones(4, 2)
    ema.eval()
    assert ema(x).shape == (4, 2)


def test_ema_buffers_copied_or_averaged():
    model = _model(1.0)
    ema = ExponentialMovingAverage(model, momentum=0.5)
    ema.update_parameters(model)
    model[1].running_mean.fill_(4.0)
    ema.update_parameters(model)
    assert torch.equal(ema.module[1].running_mean, torch.full((2,), 4.0))  # copied
    averaged = ExponentialMovingAverage(model, momentum=0.5, update_buffers=True)
    averaged.update_parameters(model)
    model[1].running_mean.fill_(0.0)
    averaged.update_parameters(model)
    assert torch.equal(averaged.module[1].running_mean, torch.full((2,), 2.0))  # averaged


def test_interval_and_momentum_annealing():
    model = _model(0.0)
    ema = ExponentialMovingAverage(model, momentum=0.5, interval=2)
    ema.update_parameters(model)
    _set(model, 1.0)
    ema.update_parameters(model)  # step 1: skipped by the interval
    assert ema.module[0].weight.eq(0).all()
    ema.update_parameters(model)  # step 2: averaged
    assert torch.allclose(ema.module[0].weight, torch.full((2, 2), 0.5))

    model = _model(0.0)
    anneal = MomentumAnnealingEMA(model, momentum=0.01, gamma=10)
    anneal.update_parameters(model)
    _set(model, 1.0)
    anneal.update_parameters(model)  # steps=1: momentum max(0.01, 10 / 11)
    assert torch.allclose(anneal.module[0].weight, torch.full((2, 2), 10 / 11))
    assert anneal._momentum(10_000) == 0.01


def test_swa_is_running_mean():
    model = _model(0.0)
    swa = StochasticWeightAverage(model)
    for value in (1.0, 2.0, 3.0, 6.0):
        _set(model, value)
        swa.update_parameters(model)
    assert torch.allclose(swa.module[0].weight, torch.full((2, 2), 3.0))


def test_bad_arguments():
    with pytest.raises(ValueError, match="momentum"):
        ExponentialMovingAverage(_model(0.0), momentum=1.5)
    with pytest.warns(UserWarning, match="did you mean"):
        ExponentialMovingAverage(_model(0.0), momentum=0.9)
    with pytest.raises(ValueError, match="interval"):
        ExponentialMovingAverage(_model(0.0), interval=0)
    with pytest.raises(TypeError, match="nn.Module"):
        ExponentialMovingAverage({"w": torch.ones(1)})
