"""Parameter schedulers: change an optimizer hyper-parameter (lr, momentum, ...) step by step.

Each scheduler acts on the steps ``begin <= step < end`` (epochs with ``by_epoch=True``, else iterations), so
several schedulers chain over consecutive windows (e.g. a linear warm-up then a cosine decay). Inside its
window a scheduler counts its own steps from 0 (``last_step``); milestones, ``T_max`` and periods are relative
to ``begin``. Values are updated recursively from the current group value, exactly like
``torch.optim.lr_scheduler``, so a scheduler composes with another one acting on the same steps.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from vk_core.registry import PARAM_SCHEDULERS

INF = int(1e9)

_PRIMITIVES = (int, float, str, bool, type(None))


def _is_primitive(value) -> bool:
    if isinstance(value, _PRIMITIVES):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_primitive(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, _PRIMITIVES) and _is_primitive(v) for k, v in value.items())
    return False


def _check_optimizer(optimizer, who: str) -> None:
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not groups:
        raise TypeError(
            f"{who}: optimizer must be a torch.optim.Optimizer or an OptimWrapper with param_groups, got "
            f"{type(optimizer).__name__}"
        )


def _per_group(values, optimizer, who: str, name: str) -> list:
    """One value per parameter group from a scalar or a list (an OptimWrapper's base group reuses the last)."""
    groups = optimizer.param_groups
    if not isinstance(values, (list, tuple)):
        return [values] * len(groups)
    values = list(values)
    if len(values) == len(groups) - 1 and getattr(optimizer, "base_param_settings", None) is not None:
        values.append(values[-1])
    if len(values) != len(groups):
        raise ValueError(f"{who}: {name} has {len(values)} values for {len(groups)} parameter groups")
    return values


class _ParamScheduler:
    """Base class: subclasses implement ``_get_value()`` returning one value per parameter group."""

    need_val_args = False

    def __init__(
        self,
        optimizer,
        param_name: str,
        begin: int = 0,
        end: int = INF,
        last_step: int = -1,
        by_epoch: bool = True,
        verbose: bool = False,
    ):
        who = type(self).__name__
        _check_optimizer(optimizer, who)
        if param_name not in optimizer.param_groups[0]:
            raise KeyError(
                f"{who}: the optimizer's parameter groups have no {param_name!r} (keys: "
                f"{sorted(k for k in optimizer.param_groups[0] if k != 'params')})"
            )
        if not (isinstance(begin, numbers.Integral) and isinstance(end, numbers.Integral)):
            raise TypeError(f"{who}: begin and end must be ints, got begin={begin!r}, end={end!r}")
        begin, end = int(begin), int(end)
        if end <= begin:
            raise ValueError(
                f"{who}: end must be larger than begin, got begin={begin}, end={end}; the scheduler acts on "
                f"steps begin <= step < end"
            )
        if not isinstance(last_step, int) or last_step < -1:
            raise ValueError(f"{who}: last_step must be an int >= -1, got {last_step!r}")
        self.optimizer = optimizer
        self.param_name = param_name
        self.begin = begin
        self.end = end
        self.by_epoch = by_epoch
        self.verbose = verbose
        initial = f"initial_{param_name}"
        if last_step == -1:
            for group in optimizer.param_groups:
                group.setdefault(initial, group[param_name])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if initial not in group:
                    raise KeyError(
                        f"{who}: {initial!r} is missing in param_groups[{i}] when resuming (last_step={last_step})"
                    )
        self.base_values = [group[initial] for group in optimizer.param_groups]
        self.last_step = last_step
        self._global_step = -1
        self.step()

    @classmethod
    def build_iter_from_epoch(
        cls, *args, begin: int = 0, end: int = INF, by_epoch: bool = True, epoch_length=None, **kwargs
    ):
        """Build an iteration-based scheduler from epoch-based arguments (``convert_to_iter_based=True``)."""
        if not by_epoch:
            raise ValueError(f"{cls.__name__}: only by_epoch=True arguments can be converted to iterations")
        if not isinstance(epoch_length, int) or epoch_length <= 0:
            raise ValueError(f"{cls.__name__}: epoch_length must be a positive int, got {epoch_length!r}")
        kwargs = cls._epochs_to_iters(kwargs, epoch_length)
        begin = int(begin * epoch_length)
        if end != INF:
            end = int(end * epoch_length)
        return cls(*args, begin=begin, end=end, by_epoch=False, **kwargs)

    @staticmethod
    def _epochs_to_iters(kwargs: dict, epoch_length: int) -> dict:
        return kwargs

    def _get_value(self) -> list:
        raise NotImplementedError

    def step(self) -> None:
        self._global_step += 1
        if self.begin <= self._global_step < self.end:
            self.last_step += 1
            values = self._get_value()
            for i, (group, value) in enumerate(zip(self.optimizer.param_groups, values)):
                group[self.param_name] = value
                self.print_value(self.verbose, i, value)
        self._last_value = [group[self.param_name] for group in self.optimizer.param_groups]

    def get_last_value(self) -> list:
        return self._last_value

    def print_value(self, is_verbose: bool, group: int, value) -> None:
        if is_verbose:
            from vk_core.logging import print_log

            print_log(f"{type(self).__name__}: {self.param_name} of group {group} set to {value:.4e}", logger="current")

    def state_dict(self) -> dict:
        """Everything but the optimizer, as Python primitives (a checkpoint loads with ``weights_only=True``)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer" and _is_primitive(v)}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


# ---------------------------------------------------------------------------------------------- families
@PARAM_SCHEDULERS.register_module()
class ConstantParamScheduler(_ParamScheduler):
    """Multiply by ``factor`` from ``begin`` until ``end - 1``, then restore."""

    def __init__(
        self,
        optimizer,
        param_name: str,
        factor: float = 1.0 / 3,
        begin=0,
        end=INF,
        last_step=-1,
        by_epoch=True,
        verbose=False,
    ):
        if not 0 <= factor <= 1:
            raise ValueError(f"{type(self).__name__}: factor must be in [0, 1], got {factor}")
        self.factor = factor
        self.total_iters = end - begin - 1
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _get_value(self):
        groups = self.optimizer.param_groups
        if self.last_step == 0:
            return [g[self.param_name] * self.factor for g in groups]
        if self.last_step != self.total_iters:
            return [g[self.param_name] for g in groups]
        return [g[self.param_name] * (1.0 / self.factor) for g in groups]


@PARAM_SCHEDULERS.register_module()
class CosineAnnealingParamScheduler(_ParamScheduler):
    """Cosine from the base value down to ``eta_min`` (or ``base * eta_min_ratio``) over ``T_max`` steps."""

    def __init__(
        self,
        optimizer,
        param_name: str,
        T_max: int | None = None,
        eta_min: float | None = None,
        begin=0,
        end=INF,
        last_step=-1,
        by_epoch=True,
        verbose=False,
        eta_min_ratio: float | None = None,
    ):
        if eta_min is None and eta_min_ratio is None:
            eta_min = 0.0
        if eta_min is not None and eta_min_ratio is not None:
            raise ValueError(f"{type(self).__name__}: give eta_min or eta_min_ratio, not both")
        if T_max is None and end == INF:
            raise ValueError(f"{type(self).__name__}: give T_max or a finite end")
        self.T_max = T_max or (end - begin)
        if self.T_max <= 0:
            raise ValueError(f"{type(self).__name__}: T_max must be positive, got {self.T_max}")
        self.eta_min = eta_min
        self.eta_min_ratio = eta_min_ratio
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    @staticmethod
    def _epochs_to_iters(kwargs, epoch_length):
        if kwargs.get("T_max") is not None:
            kwargs = {**kwargs, "T_max": kwargs["T_max"] * epoch_length}
        return kwargs

    def _eta_mins(self):
        if self.eta_min_ratio is None:
            return [self.eta_min] * len(self.base_values)
        return [base * self.eta_min_ratio for base in self.base_values]

    def _get_value(self):
        groups = self.optimizer.param_groups
        t, period = self.last_step, self.T_max
        if t == 0:
            return [g[self.param_name] for g in groups]
        etas = self._eta_mins()
        if (t - 1 - period) % (2 * period) == 0:
            return [
                g[self.param_name] + (base - eta) * (1 - math.cos(math.pi / period)) / 2
                for base, eta, g in zip(self.base_values, etas, groups)
            ]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (g[self.param_name] - eta) + eta for eta, g in zip(etas, groups)]


@PARAM_SCHEDULERS.register_module()
class ExponentialParamScheduler(_ParamScheduler):
    """Multiply by ``gamma`` every step."""

    def __init__(
        self, optimizer, param_name: str, gamma: float, begin=0, end=INF, last_step=-1, by_epoch=True, verbose=False
    ):
        self.gamma = gamma
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _get_value(self):
        groups = self.optimizer.param_groups
        if self.last_step == 0:
            return [g[self.param_name] for g in groups]
        return [g[self.param_name] * self.gamma for g in groups]


@PARAM_SCHEDULERS.register_module()
class LinearParamScheduler(_ParamScheduler):
    """Scale linearly from ``start_factor`` to ``end_factor`` over the window (reached at step ``end - 1``)."""

    def __init__(
        self,
        optimizer,
        param_name: str,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        begin=0,
        end=INF,
        last_step=-1,
        by_epoch=True,
        verbose=False,
    ):
        for key, value in (("start_factor", start_factor), ("end_factor", end_factor)):
            if not 0 <= value <= 1:
                raise ValueError(f"{type(self).__name__}: {key} must be in [0, 1], got {value}")
        if start_factor == 0:
            raise ValueError(f"{type(self).__name__}: start_factor must be > 0 (the update is multiplicative)")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = end - begin - 1
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _get_value(self):
        groups = self.optimizer.param_groups
        if self.last_step == 0:
            return [g[self.param_name] * self.start_factor for g in groups]
        delta = self.end_factor - self.start_factor
        factor = 1.0 + delta / (self.total_iters * self.start_factor + (self.last_step - 1) * delta)
        return [g[self.param_name] * factor for g in groups]


@PARAM_SCHEDULERS.register_module()
class MultiStepParamScheduler(_ParamScheduler):
    """Multiply by ``gamma`` at each milestone (a repeated milestone multiplies once per repetition)."""

    def __init__(
        self,
        optimizer,
        param_name: str,
        milestones: Sequence[int],
        gamma: float = 0.1,
        begin=0,
        end=INF,
        last_step=-1,
        by_epoch=True,
        verbose=False,
    ):
        if not isinstance(milestones, (list, tuple)) or not all(isinstance(m, int) for m in milestones):
            raise TypeError(f"{type(self).__name__}: milestones must be a list of ints, got {milestones!r}")
        if list(milestones) != sorted(milestones):
            raise ValueError(f"{type(self).__name__}: milestones must be increasing, got {list(milestones)}")
        counts: dict[int, int] = {}
        for m in milestones:
            counts[m] = counts.get(m, 0) + 1
        self.milestones = counts
        self.gamma = gamma
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    @staticmethod
    def _epochs_to_iters(kwargs, epoch_length):
        return {**kwargs, "milestones": [m * epoch_length for m in kwargs["milestones"]]}

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        if "milestones" in state_dict:  # keys may come back as str from a JSON round trip
            state_dict["milestones"] = {int(k): v for k, v in state_dict["milestones"].items()}
        super().load_state_dict(state_dict)

    def _get_value(self):
        groups = self.optimizer.param_groups
        if self.last_step not in self.milestones:
            return [g[self.param_name] for g in groups]
        return [g[self.param_name] * self.gamma ** self.milestones[self.last_step] for g in groups]


@PARAM_SCHEDULERS.register_module()
class StepParamScheduler(_ParamScheduler):
    """Multiply by ``gamma`` every ``step_size`` steps."""

    def __init__(
        self,
        optimizer,
        param_name: str,
        step_size: int,
        gamma: float = 0.1,
        begin=0,
        end=INF,
        last_step=-1,
        by_epoch=True,
        verbose=False,
    ):
        if not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"{type(self).__name__}: step_size must be a positive int, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    @staticmethod
    def _epochs_to_iters(kwargs, epoch_length):
        return {**kwargs, "step_size": kwargs["step_size"] * epoch_length}

    def _get_value(self):
        groups = self.optimizer.param_groups
        if self.last_step == 0 or self.last_step % self.step_size != 0:
            return [g[self.param_name] for g in groups]
        return [g[self.param_name] * self.gamma for g in groups]


@PARAM_SCHEDULERS.register_module()
class PolyParamScheduler(_ParamScheduler):
    """Polynomial decay towards ``eta_min``: ``(base - eta_min) * (1 - t / T) ** power + eta_min``."""

    def __init__(
        self,
        optimizer,
        param_name: str,
        eta_min: float = 0,
        power: float = 1.0,
        begin=0,
        end=INF,
        last_step=-1,
        by_epoch=True,
        verbose=False,
    ):
        self.eta_min = eta_min
        self.power = power
        self.total_iters = end - begin - 1
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _get_value(self):
        groups = self.optimizer.param_groups
        if self.last_step == 0:
            return [g[self.param_name] for g in groups]
        factor = (1 - 1 / (self.total_iters - self.last_step + 1)) ** self.power
        return [(g[self.param_name] - self.eta_min) * factor + self.eta_min for g in groups]


@PARAM_SCHEDULERS.register_module()
class OneCycleParamScheduler(_ParamScheduler):
    """The 1cycle policy: warm up from ``eta_max / div_factor`` to ``eta_max``, then anneal to
    ``initial / final_div_factor`` (three phases with ``three_phase=True``). Not meant to be chained."""

    def __init__(
        self,
        optimizer,
        param_name: str,
        eta_max=0,
        total_steps: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        begin=0,
        end=INF,
        last_step=-1,
        by_epoch=True,
        verbose=False,
    ):
        who = type(self).__name__
        _check_optimizer(optimizer, who)
        if total_steps is None:
            if end == INF:
                raise ValueError(f"{who}: give total_steps or a finite end")
            total_steps = end - begin
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"{who}: total_steps must be a positive int, got {total_steps!r}")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"{who}: pct_start must be a float in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{who}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.total_steps = total_steps
        self.anneal_strategy = anneal_strategy
        n = param_name
        init, peak, low = f"initial_{n}", f"max_{n}", f"min_{n}"
        if three_phase:
            self._schedule_phases = [
                {"end_step": float(pct_start * total_steps) - 1, "start": init, "end": peak},
                {"end_step": float(2 * pct_start * total_steps) - 2, "start": peak, "end": init},
                {"end_step": total_steps - 1, "start": init, "end": low},
            ]
        else:
            self._schedule_phases = [
                {"end_step": float(pct_start * total_steps) - 1, "start": init, "end": peak},
                {"end_step": total_steps - 1, "start": peak, "end": low},
            ]
        groups = optimizer.param_groups
        maxima = _per_group(eta_max, optimizer, who, "eta_max")
        if last_step == -1:
            for peak_value, group in zip(maxima, groups):
                group[init] = peak_value / div_factor
                group[peak] = peak_value
                group[low] = group[init] / final_div_factor
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    @staticmethod
    def _epochs_to_iters(kwargs, epoch_length):
        if kwargs.get("total_steps") is not None:
            kwargs = {**kwargs, "total_steps": kwargs["total_steps"] * epoch_length}
        return kwargs

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _get_value(self):
        t = self.last_step
        if t > self.total_steps:
            raise ValueError(f"{type(self).__name__}: stepped {t} times, more than total_steps={self.total_steps}")
        values = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if t <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (t - start_step) / (end_step - start_step)
                    values.append(self._anneal(group[phase["start"]], group[phase["end"]], pct))
                    break
                start_step = end_step
        return values


@PARAM_SCHEDULERS.register_module()
class CosineRestartParamScheduler(_ParamScheduler):
    """Cosine annealing restarted at the end of each of ``periods``; restart ``i`` peaks at
    ``base * restart_weights[i]``. After the last period the value stays."""

    def __init__(
        self,
        optimizer,
        param_name: str,
        periods: Sequence[int],
        restart_weights: Sequence[float] = (1,),
        eta_min: float | None = None,
        eta_min_ratio: float | None = None,
        begin=0,
        end=INF,
        last_step=-1,
        by_epoch=True,
        verbose=False,
    ):
        who = type(self).__name__
        if (eta_min is None) == (eta_min_ratio is None):
            raise ValueError(f"{who}: give exactly one of eta_min and eta_min_ratio")
        periods = list(periods)
        restart_weights = list(restart_weights)
        if len(periods) != len(restart_weights):
            raise ValueError(
                f"{who}: periods ({len(periods)}) and restart_weights ({len(restart_weights)}) need the same length"
            )
        if not all(isinstance(p, int) and p > 0 for p in periods):
            raise ValueError(f"{who}: periods must be positive ints, got {periods}")
        self.periods = periods
        self.restart_weights = restart_weights
        self.eta_min = eta_min
        self.eta_min_ratio = eta_min_ratio
        self.cumulative_periods = [sum(periods[: i + 1]) for i in range(len(periods))]
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    @staticmethod
    def _epochs_to_iters(kwargs, epoch_length):
        return {**kwargs, "periods": [p * epoch_length for p in kwargs["periods"]]}

    def _get_value(self):
        groups = self.optimizer.param_groups
        idx = next((i for i, c in enumerate(self.cumulative_periods) if self.last_step < c), None)
        if idx is None:
            return [g[self.param_name] for g in groups]
        weight = self.restart_weights[idx]
        restart = 0 if idx == 0 else self.cumulative_periods[idx - 1]
        period = self.periods[idx]
        t = self.last_step - restart
        values = []
        for base, group in zip(self.base_values, groups):
            eta_max = base * weight
            eta_min = self.eta_min if self.eta_min_ratio is None else base * self.eta_min_ratio
            if t == 0:
                values.append(eta_max)
            else:
                ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
                values.append(ratio * (group[self.param_name] - eta_min) + eta_min)
        return values


@PARAM_SCHEDULERS.register_module()
class QuadraticWarmupParamScheduler(_ParamScheduler):
    """Quadratic warm-up from 0 to the base value over the (finite) window."""

    def __init__(self, optimizer, param_name: str, begin=0, end=INF, last_step=-1, by_epoch=True, verbose=False):
        if end >= INF:
            raise ValueError(f"{type(self).__name__}: set end to the step where the warm-up finishes")
        self.total_iters = end - begin
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _get_value(self):
        t, n = self.last_step, self.total_iters
        if t == 0:
            return [base * (2 * t + 1) / n**2 for base in self.base_values]
        return [
            g[self.param_name] + base * (2 * t + 1) / n**2
            for base, g in zip(self.base_values, self.optimizer.param_groups)
        ]


@PARAM_SCHEDULERS.register_module()
class ReduceOnPlateauParamScheduler(_ParamScheduler):
    """Multiply by ``factor`` when the metric ``monitor`` stops improving for ``patience`` validations.

    ``step(metrics)`` takes the validation metrics dict (the scheduler hook passes it after each validation);
    ``step()`` without metrics only counts steps.
    """

    need_val_args = True

    def __init__(
        self,
        optimizer,
        param_name: str,
        monitor: str = "loss",
        rule: str = "less",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_rule: str = "rel",
        cooldown: int = 0,
        min_value: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
        begin=0,
        end=INF,
        last_step=-1,
        by_epoch=True,
        verbose=False,
    ):
        who = type(self).__name__
        _check_optimizer(optimizer, who)
        if not 0 <= factor < 1:
            raise ValueError(f"{who}: factor must be in [0, 1), got {factor}")
        if rule not in ("less", "greater"):
            raise ValueError(f"{who}: rule must be 'less' or 'greater', got {rule!r}")
        if threshold_rule not in ("rel", "abs"):
            raise ValueError(f"{who}: threshold_rule must be 'rel' or 'abs', got {threshold_rule!r}")
        self.min_values = _per_group(min_value, optimizer, who, "min_value")
        self.monitor, self.rule, self.factor, self.patience = monitor, rule, factor, patience
        self.threshold, self.threshold_rule, self.cooldown, self.eps = threshold, threshold_rule, cooldown, eps
        self.cooldown_counter = 0
        self.num_bad_epochs = 0
        self.best = math.inf if rule == "less" else -math.inf
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _is_better(self, value: float, best: float) -> bool:
        if self.rule == "less":
            limit = best * (1 - self.threshold) if self.threshold_rule == "rel" else best - self.threshold
            return value < limit
        limit = best * (1 + self.threshold) if self.threshold_rule == "rel" else best + self.threshold
        return value > limit

    def step(self, metrics: dict | None = None) -> None:
        if metrics is None:  # a plain step (also the one from __init__) only advances the counter
            self._global_step += 1
            if not hasattr(self, "_last_value"):
                self._last_value = [g[self.param_name] for g in self.optimizer.param_groups]
            return
        if not isinstance(metrics, dict):
            raise TypeError(f"{type(self).__name__}.step: metrics must be a dict, got {type(metrics).__name__}")
        if self.begin <= self._global_step < self.end:
            self.last_step += 1
            if self.monitor not in metrics:
                raise KeyError(
                    f"{type(self).__name__}: monitored metric {self.monitor!r} is not among the metrics "
                    f"{sorted(metrics)}; set monitor= to one of them"
                )
            value = float(metrics[self.monitor])
            if self._is_better(value, self.best):
                self.best = value
                self.num_bad_epochs = 0
            else:
                self.num_bad_epochs += 1
            if self.cooldown_counter > 0:
                self.cooldown_counter -= 1
                self.num_bad_epochs = 0
            if self.num_bad_epochs > self.patience:
                for i, (group, value) in enumerate(zip(self.optimizer.param_groups, self._get_value())):
                    if group[self.param_name] - value > self.eps:
                        group[self.param_name] = value
                        self.print_value(self.verbose, i, value)
                self.cooldown_counter = self.cooldown
                self.num_bad_epochs = 0
        self._last_value = [g[self.param_name] for g in self.optimizer.param_groups]

    def _get_value(self):
        return [
            max(g[self.param_name] * self.factor, low) for g, low in zip(self.optimizer.param_groups, self.min_values)
        ]
