"""Weight averaging: exponential moving average (plain and momentum-annealed) and stochastic weight averaging."""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from vk_core.registry import MODELS


class BaseAveragedModel(nn.Module):
    """A frozen copy of ``model`` whose parameters are averaged in place by ``update_parameters(model)``.

    The first update copies the source; later updates (every ``interval`` calls) apply ``avg_func``. With
    ``update_buffers`` buffers are averaged too, otherwise they are copied from the source each update.
    """

    def __init__(self, model: nn.Module, interval: int = 1, device=None, update_buffers: bool = False):
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"{type(self).__name__}: model must be an nn.Module, got {type(model).__name__}")
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f"{type(self).__name__}: interval must be a positive int, got {interval!r}")
        self.module = copy.deepcopy(model).requires_grad_(False)
        self.interval = interval
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("steps", torch.tensor(0, dtype=torch.long, device=device))
        self.update_buffers = update_buffers

    @property
    def avg_parameters(self) -> dict[str, torch.Tensor]:
        # Looked up on demand: a device move replaces the storage a cached state_dict would point to.
        return self._averaged_tensors(self.module)

    def _averaged_tensors(self, model: nn.Module) -> dict[str, torch.Tensor]:
        return model.state_dict() if self.update_buffers else dict(model.named_parameters())

    def avg_func(self, averaged_param: torch.Tensor, source_param: torch.Tensor, steps: int) -> None:
        raise NotImplementedError

    def _average_all(self, averaged: list[torch.Tensor], sources: list[torch.Tensor], steps: int) -> None:
        for avg, src in zip(averaged, sources):
            self.avg_func(avg, src, steps)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        sources = self._averaged_tensors(model)
        steps = int(self.steps)
        avg_parameters = self.avg_parameters
        if steps == 0:
            for name, avg in avg_parameters.items():
                avg.copy_(sources[name].to(avg.device))
        elif steps % self.interval == 0:
            averaged, srcs = [], []
            for name, avg in avg_parameters.items():
                if avg.dtype.is_floating_point:
                    averaged.append(avg.data)
                    srcs.append(sources[name].data.to(avg.device))
                else:  # integer buffers such as num_batches_tracked are copied
                    avg.copy_(sources[name])
            if averaged:
                self._average_all(averaged, srcs, steps)
        if not self.update_buffers:
            for b_avg, b_src in zip(self.module.buffers(), model.buffers()):
                b_avg.copy_(b_src.to(b_avg.device))
        self.steps += 1


@MODELS.register_module()
class ExponentialMovingAverage(BaseAveragedModel):
    """``averaged = (1 - momentum) * averaged + momentum * source`` (MMEngine's convention: momentum is small)."""

    def __init__(
        self, model: nn.Module, momentum: float = 0.0002, interval: int = 1, device=None, update_buffers: bool = False
    ):
        super().__init__(model, interval, device, update_buffers)
        if not 0.0 < momentum < 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in (0, 1), got {momentum}")
        if momentum > 0.5:
            warnings.warn(
                f"{type(self).__name__}: momentum={momentum} weights the new value by {momentum}; the convention "
                f"here is averaged = (1 - momentum) * averaged + momentum * source, so did you mean {1 - momentum}?",
                stacklevel=2,
            )
        self.momentum = momentum

    def _momentum(self, steps: int) -> float:
        return self.momentum

    def avg_func(self, averaged_param, source_param, steps):
        averaged_param.lerp_(source_param, self._momentum(steps))

    def _average_all(self, averaged, sources, steps):
        # One fused call over all tensors instead of one kernel launch per parameter.
        torch._foreach_lerp_(averaged, sources, self._momentum(steps))


@MODELS.register_module()
class MomentumAnnealingEMA(ExponentialMovingAverage):
    """EMA whose momentum starts high and anneals: ``max(momentum, gamma / (gamma + steps))``."""

    def __init__(
        self,
        model: nn.Module,
        momentum: float = 0.0002,
        gamma: int = 100,
        interval: int = 1,
        device=None,
        update_buffers: bool = False,
    ):
        super().__init__(model, momentum, interval, device, update_buffers)
        if gamma <= 0:
            raise ValueError(f"MomentumAnnealingEMA: gamma must be positive, got {gamma}")
        self.gamma = gamma

    def _momentum(self, steps: int) -> float:
        return max(self.momentum, self.gamma / (self.gamma + steps))


@MODELS.register_module()
class StochasticWeightAverage(BaseAveragedModel):
    """Running mean of the weights seen at each averaging step (SWA)."""

    def avg_func(self, averaged_param, source_param, steps):
        averaged_param.add_(source_param - averaged_param, alpha=1 / float(steps // self.interval + 1))
