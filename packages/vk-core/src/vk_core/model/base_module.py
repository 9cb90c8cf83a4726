"""``BaseModule``: an ``nn.Module`` initialized from ``init_cfg``, plus the container variants."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping

from torch import nn

from .weight_init import PretrainedInit, initialize, update_init_info


def _is_pretrained(cfg) -> bool:
    kind = cfg.get("type") if isinstance(cfg, Mapping) else None
    return kind in ("Pretrained", "vk_core.Pretrained") or kind is PretrainedInit


class BaseModule(nn.Module):
    """A module whose weights are set by ``init_weights()`` according to ``init_cfg``.

    Order matters and follows MMEngine: a module first applies its own ``init_cfg`` (all but ``Pretrained``),
    then calls ``init_weights`` of each child (so a child's own ``init_cfg`` or ``init_weights`` wins over its
    container's), and finally loads ``Pretrained`` weights, which win over everything.

    The top-level call records where each parameter's values came from; the record is logged at DEBUG level
    and kept in ``self.init_info`` (``{parameter name: description}``).
    """

    def __init__(self, init_cfg: dict | list[dict] | None = None):
        super().__init__()
        if init_cfg is not None and not isinstance(init_cfg, (Mapping, list, tuple)):
            raise TypeError(
                f"{type(self).__name__}: init_cfg must be a dict, a list of dicts or None, got {init_cfg!r}"
            )
        self._is_init = False
        self.init_cfg = copy.deepcopy(init_cfg)

    @property
    def is_init(self) -> bool:
        return self._is_init

    @is_init.setter
    def is_init(self, value: bool) -> None:
        self._is_init = value

    def init_weights(self) -> None:
        top_level = not hasattr(self, "_params_init_info")
        if top_level:
            records = {}
            for param in self.parameters():
                records[param] = {
                    "init_info": f"unchanged by init_weights of {type(self).__name__} (default PyTorch init)",
                    "tmp_mean_value": param.data.mean().cpu(),
                }
            for sub in self.modules():
                sub._params_init_info = records

        from vk_core.logging import print_log

        if self._is_init:
            print_log(
                f"init_weights of {type(self).__name__} has been called more than once; skipped",
                logger="current",
                level=logging.WARNING,
            )
        else:
            cfgs = self.init_cfg
            if isinstance(cfgs, Mapping):
                cfgs = [cfgs]
            cfgs = list(cfgs or [])
            pretrained = [c for c in cfgs if _is_pretrained(c)]
            others = [c for c in cfgs if not _is_pretrained(c)]
            if others:
                print_log(f"initialize {type(self).__name__} with init_cfg {others}", logger="current", level=10)
                initialize(self, others)
            for child in self.children():
                target = getattr(child, "module", child) if not hasattr(child, "init_weights") else child
                if hasattr(target, "init_weights") and not getattr(target, "is_init", False):
                    target.init_weights()
                    update_init_info(target, f"initialized by init_weights of {type(target).__name__}")
            if pretrained:
                print_log(f"initialize {type(self).__name__} with init_cfg {pretrained}", logger="current", level=10)
                initialize(self, pretrained)
            self._is_init = True

        if top_level:
            self.init_info = self._collect_init_info()
            lines = [f"{name} - {tuple(p.shape)}: {self.init_info[name]}" for name, p in self.named_parameters()]
            print_log("parameter initialization:\n" + "\n".join(lines), logger="current", level=logging.DEBUG)
            for sub in self.modules():
                if "_params_init_info" in sub.__dict__:
                    del sub._params_init_info

    def _collect_init_info(self) -> dict[str, str]:
        records = self._params_init_info
        return {name: records[p]["init_info"] for name, p in self.named_parameters() if p in records}

    def __repr__(self) -> str:
        text = super().__repr__()
        if self.init_cfg:
            text += f"\ninit_cfg={self.init_cfg}"
        return text


class Sequential(BaseModule, nn.Sequential):
    """``nn.Sequential`` with an ``init_cfg``."""

    def __init__(self, *args, init_cfg=None):
        BaseModule.__init__(self, init_cfg)
        nn.Sequential.__init__(self, *args)


class ModuleList(BaseModule, nn.ModuleList):
    """``nn.ModuleList`` with an ``init_cfg``."""

    def __init__(self, modules: Iterable[nn.Module] | None = None, init_cfg=None):
        BaseModule.__init__(self, init_cfg)
        nn.ModuleList.__init__(self, modules)


class ModuleDict(BaseModule, nn.ModuleDict):
    """``nn.ModuleDict`` with an ``init_cfg``."""

    def __init__(self, modules: Mapping[str, nn.Module] | None = None, init_cfg=None):
        BaseModule.__init__(self, init_cfg)
        nn.ModuleDict.__init__(self, modules)
