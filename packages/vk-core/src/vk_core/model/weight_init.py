"""Weight initialisation: helper functions, initializer classes and ``initialize(module, init_cfg)``.

Initializers are registered in ``WEIGHT_INITIALIZERS`` under their short names (``Constant``, ``Xavier``,
``Normal``, ``TruncNormal``, ``Uniform``, ``Kaiming``, ``Caffe2Xavier``, ``Pretrained``), so an ``init_cfg``
reads ``dict(type='Kaiming', layer='Conv2d')`` exactly as in MMEngine.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping

import torch
from torch import nn

from vk_core.registry import WEIGHT_INITIALIZERS

_DISTRIBUTIONS = ("uniform", "normal")


def _check_distribution(distribution: str, where: str) -> None:
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"{where}: distribution must be 'uniform' or 'normal', got {distribution!r}")


def _has(module: nn.Module, name: str) -> bool:
    return getattr(module, name, None) is not None


def _fill_bias(module: nn.Module, bias: float) -> None:
    if _has(module, "bias"):
        nn.init.constant_(module.bias, bias)


def constant_init(module: nn.Module, val: float, bias: float = 0) -> None:
    if _has(module, "weight"):
        nn.init.constant_(module.weight, val)
    _fill_bias(module, bias)


def xavier_init(module: nn.Module, gain: float = 1, bias: float = 0, distribution: str = "normal") -> None:
    _check_distribution(distribution, "xavier_init")
    if _has(module, "weight"):
        if distribution == "uniform":
            nn.init.xavier_uniform_(module.weight, gain=gain)
        else:
            nn.init.xavier_normal_(module.weight, gain=gain)
    _fill_bias(module, bias)


def normal_init(module: nn.Module, mean: float = 0, std: float = 1, bias: float = 0) -> None:
    if _has(module, "weight"):
        nn.init.normal_(module.weight, mean, std)
    _fill_bias(module, bias)


def trunc_normal_init(
    module: nn.Module, mean: float = 0, std: float = 1, a: float = -2, b: float = 2, bias: float = 0
) -> None:
    if _has(module, "weight"):
        nn.init.trunc_normal_(module.weight, mean, std, a, b)
    _fill_bias(module, bias)


def uniform_init(module: nn.Module, a: float = 0, b: float = 1, bias: float = 0) -> None:
    if _has(module, "weight"):
        nn.init.uniform_(module.weight, a, b)
    _fill_bias(module, bias)


def kaiming_init(
    module: nn.Module,
    a: float = 0,
    mode: str = "fan_out",
    nonlinearity: str = "relu",
    bias: float = 0,
    distribution: str = "normal",
) -> None:
    _check_distribution(distribution, "kaiming_init")
    if _has(module, "weight"):
        if distribution == "uniform":
            nn.init.kaiming_uniform_(module.weight, a=a, mode=mode, nonlinearity=nonlinearity)
        else:
            nn.init.kaiming_normal_(module.weight, a=a, mode=mode, nonlinearity=nonlinearity)
    _fill_bias(module, bias)


def caffe2_xavier_init(module: nn.Module, bias: float = 0) -> None:
    # Caffe2's "XavierFill" is PyTorch's kaiming_uniform with a=1 over fan_in.
    kaiming_init(module, a=1, mode="fan_in", nonlinearity="leaky_relu", bias=bias, distribution="uniform")


def bias_init_with_prob(prior_prob: float) -> float:
    """The bias whose sigmoid is ``prior_prob`` (the focal-loss prior of RetinaNet)."""
    if not 0 < float(prior_prob) < 1:
        raise ValueError(f"bias_init_with_prob: prior_prob must be in (0, 1), got {prior_prob!r}")
    return float(-math.log((1 - prior_prob) / prior_prob))


def update_init_info(module: nn.Module, init_info: str) -> None:
    """Record ``init_info`` for every parameter of ``module`` whose values changed since the last record.

    Only meaningful while a top-level ``BaseModule.init_weights`` runs (it creates ``_params_init_info``).
    """
    info = getattr(module, "_params_init_info", None)
    if info is None:
        return
    for param in module.parameters():
        entry = info.get(param)
        if entry is None:  # a parameter created inside init_weights; record it as new
            info[param] = {"init_info": init_info, "tmp_mean_value": param.data.mean().cpu()}
            continue
        mean_value = param.data.mean().cpu()
        if not torch.equal(entry["tmp_mean_value"], mean_value):
            entry["init_info"] = init_info
            entry["tmp_mean_value"] = mean_value


def _bases_names(module: nn.Module) -> list[str]:
    return [base.__name__ for base in type(module).__bases__]


class BaseInit:
    """Common arguments: ``bias`` (or ``bias_prob``, a prior turned into a bias) and ``layer`` (class names).

    Called on a module, an initializer walks every submodule and initializes those whose class name, or the
    name of a direct base class, is in ``layer``; with ``wholemodule`` set (``override`` targets) it initializes
    every submodule that has a weight or bias.
    """

    def __init__(self, *, bias: float = 0, bias_prob: float | None = None, layer: str | list[str] | None = None):
        self.wholemodule = False
        if not isinstance(bias, (int, float)) or isinstance(bias, bool):
            raise TypeError(f"{type(self).__name__}: bias must be a number, got {type(bias).__name__} {bias!r}")
        if bias_prob is not None and not isinstance(bias_prob, float):
            raise TypeError(f"{type(self).__name__}: bias_prob must be a float, got {bias_prob!r}")
        if layer is None:
            layer = []
        elif isinstance(layer, str):
            layer = [layer]
        elif not (isinstance(layer, (list, tuple)) and all(isinstance(x, str) for x in layer)):
            raise TypeError(f"{type(self).__name__}: layer must be a class name or a list of them, got {layer!r}")
        self.bias = bias_init_with_prob(bias_prob) if bias_prob is not None else bias
        self.layer = list(layer)

    def _selected(self, module: nn.Module) -> bool:
        if self.wholemodule:
            return True
        names = {type(module).__name__, *_bases_names(module)}
        return not names.isdisjoint(self.layer)

    def _init_one(self, module: nn.Module) -> None:
        raise NotImplementedError

    def _get_init_info(self) -> str:
        return f"{type(self).__name__}: bias={self.bias}"

    def __call__(self, module: nn.Module) -> None:
        def visit(m: nn.Module) -> None:
            if self._selected(m):
                self._init_one(m)

        module.apply(visit)
        update_init_info(module, self._get_init_info())


@WEIGHT_INITIALIZERS.register_module(name="Constant")
class ConstantInit(BaseInit):
    def __init__(self, val: float, **kwargs):
        super().__init__(**kwargs)
        self.val = val

    def _init_one(self, module):
        constant_init(module, self.val, self.bias)

    def _get_init_info(self):
        return f"{type(self).__name__}: val={self.val}, bias={self.bias}"


@WEIGHT_INITIALIZERS.register_module(name="Xavier")
class XavierInit(BaseInit):
    def __init__(self, gain: float = 1, distribution: str = "normal", **kwargs):
        super().__init__(**kwargs)
        _check_distribution(distribution, "XavierInit")
        self.gain = gain
        self.distribution = distribution

    def _init_one(self, module):
        xavier_init(module, self.gain, self.bias, self.distribution)

    def _get_init_info(self):
        return f"{type(self).__name__}: gain={self.gain}, distribution={self.distribution}, bias={self.bias}"


@WEIGHT_INITIALIZERS.register_module(name="Normal")
class NormalInit(BaseInit):
    def __init__(self, mean: float = 0, std: float = 1, **kwargs):
        super().__init__(**kwargs)
        self.mean = mean
        self.std = std

    def _init_one(self, module):
        normal_init(module, self.mean, self.std, self.bias)

    def _get_init_info(self):
        return f"{type(self).__name__}: mean={self.mean}, std={self.std}, bias={self.bias}"


@WEIGHT_INITIALIZERS.register_module(name="TruncNormal")
class TruncNormalInit(BaseInit):
    def __init__(self, mean: float = 0, std: float = 1, a: float = -2, b: float = 2, **kwargs):
        super().__init__(**kwargs)
        self.mean, self.std, self.a, self.b = mean, std, a, b

    def _init_one(self, module):
        trunc_normal_init(module, self.mean, self.std, self.a, self.b, self.bias)

    def _get_init_info(self):
        return f"{type(self).__name__}: a={self.a}, b={self.b}, mean={self.mean}, std={self.std}, bias={self.bias}"


@WEIGHT_INITIALIZERS.register_module(name="Uniform")
class UniformInit(BaseInit):
    def __init__(self, a: float = 0, b: float = 1, **kwargs):
        super().__init__(**kwargs)
        self.a, self.b = a, b

    def _init_one(self, module):
        uniform_init(module, self.a, self.b, self.bias)

    def _get_init_info(self):
        return f"{type(self).__name__}: a={self.a}, b={self.b}, bias={self.bias}"


@WEIGHT_INITIALIZERS.register_module(name="Kaiming")
class KaimingInit(BaseInit):
    def __init__(
        self, a: float = 0, mode: str = "fan_out", nonlinearity: str = "relu", distribution: str = "normal", **kwargs
    ):
        super().__init__(**kwargs)
        _check_distribution(distribution, type(self).__name__)
        if mode not in ("fan_in", "fan_out"):
            raise ValueError(f"{type(self).__name__}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
        self.a, self.mode, self.nonlinearity, self.distribution = a, mode, nonlinearity, distribution

    def _init_one(self, module):
        kaiming_init(module, self.a, self.mode, self.nonlinearity, self.bias, self.distribution)

    def _get_init_info(self):
        return (
            f"{type(self).__name__}: a={self.a}, mode={self.mode}, nonlinearity={self.nonlinearity}, "
            f"distribution={self.distribution}, bias={self.bias}"
        )


@WEIGHT_INITIALIZERS.register_module(name="Caffe2Xavier")
class Caffe2XavierInit(KaimingInit):
    def __init__(self, **kwargs):
        super().__init__(a=1, mode="fan_in", nonlinearity="leaky_relu", distribution="uniform", **kwargs)


@WEIGHT_INITIALIZERS.register_module(name="Pretrained")
class PretrainedInit:
    """Load weights from ``checkpoint``; with ``prefix`` only the keys under it (prefix stripped).

    Loading is non-strict, as upstream: missing and unexpected keys are logged, not raised.
    """

    def __init__(self, checkpoint: str, prefix: str | None = None, map_location: str | None = "cpu"):
        if not isinstance(checkpoint, str) or not checkpoint:
            raise TypeError(f"PretrainedInit: checkpoint must be a path or URL string, got {checkpoint!r}")
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.map_location = map_location
        self.wholemodule = False

    def __call__(self, module: nn.Module) -> None:
        from vk_core.model.utils import load_state_dict_from_source

        load_state_dict_from_source(module, self.checkpoint, prefix=self.prefix, map_location=self.map_location)
        update_init_info(module, self._get_init_info())

    def _get_init_info(self) -> str:
        where = f" (prefix {self.prefix!r})" if self.prefix else ""
        return f"{type(self).__name__}: load from {self.checkpoint}{where}"


def _build_initializer(cfg: Mapping, wholemodule: bool):
    from vk_core.registry import build_from_cfg

    init = build_from_cfg(cfg, WEIGHT_INITIALIZERS)
    init.wholemodule = wholemodule
    return init


def _initialize_override(module: nn.Module, override, outer_cfg: dict) -> None:
    if isinstance(override, Mapping):
        override = [override]
    if not isinstance(override, (list, tuple)):
        raise TypeError(f"init_cfg 'override' must be a dict or a list of dicts, got {type(override).__name__}")
    for item in override:
        if not isinstance(item, Mapping):
            raise TypeError(f"init_cfg 'override' entries must be dicts, got {item!r}")
        item = dict(copy.deepcopy(item))
        name = item.pop("name", None)
        if name is None:
            raise ValueError(
                f"init_cfg 'override' must name the submodule it re-initializes, e.g. "
                f"override=dict(name='reg', type='Normal', std=0.01); got override={dict(item)!r}"
            )
        if not item:
            item = dict(outer_cfg)  # only a name: reuse the outer initializer and its arguments
        elif "type" not in item:
            raise ValueError(
                f"init_cfg 'override' for {name!r} sets arguments {sorted(item)} but no 'type'; add type=... "
                f"or give only name={name!r} to reuse the outer initializer"
            )
        target = getattr(module, name, None)
        if not isinstance(target, nn.Module):
            children = [n for n, _ in module.named_children()]
            raise RuntimeError(
                f"init_cfg 'override' names {name!r}, but {type(module).__name__} has no such submodule "
                f"(children: {children})"
            )
        _build_initializer(item, wholemodule=True)(target)


def initialize(module: nn.Module, init_cfg) -> None:
    """Initialize ``module`` from one init config or a list of them.

    Each config selects layers by class name with ``layer`` and/or named children with ``override``; a config
    with neither initializes nothing (as upstream). ``override`` targets win because they run last.
    """
    if isinstance(init_cfg, Mapping):
        init_cfg = [init_cfg]
    if not isinstance(init_cfg, (list, tuple)):
        raise TypeError(f"init_cfg must be a dict or a list of dicts, got {type(init_cfg).__name__}: {init_cfg!r}")
    for index, cfg in enumerate(init_cfg):
        if not isinstance(cfg, Mapping):
            raise TypeError(f"init_cfg[{index}] must be a dict, got {type(cfg).__name__}: {cfg!r}")
        cfg = dict(copy.deepcopy(cfg))
        override = cfg.pop("override", None)
        _build_initializer(cfg, wholemodule=False)(module)
        if override is not None:
            cfg.pop("layer", None)
            _initialize_override(module, override, cfg)
