"""``DefaultOptimWrapperConstructor``: parameter groups from ``paramwise_cfg`` and the optimizer wrapper."""

from __future__ import annotations

import difflib
import inspect
import logging
import warnings
from collections.abc import Mapping

from torch import nn

from vk_core.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS

_PARAMWISE_KEYS = (
    "custom_keys",
    "bias_lr_mult",
    "bias_decay_mult",
    "norm_decay_mult",
    "dwconv_decay_mult",
    "flat_decay_mult",
    "dcn_offset_lr_mult",
    "bypass_duplicate",
)


def is_dcn_module(module: nn.Module) -> bool:
    """Deformable convolutions are recognised by class name (any class in the MRO containing 'DeformConv')."""
    return any("DeformConv" in cls.__name__ for cls in type(module).__mro__)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DefaultOptimWrapperConstructor:
    """Builds ``optim_wrapper_cfg['type']`` (default ``OptimWrapper``) around the configured optimizer.

    ``paramwise_cfg`` rules (upstream semantics):

    - ``custom_keys={'substring': dict(lr_mult=, decay_mult=, ...)}``: a parameter whose full name contains the
      substring gets those multipliers (and any other keys verbatim); the longest key wins, ties go to the
      alphabetically first; a custom match disables every rule below.
    - ``bias_lr_mult``: biases, except those of norm layers and deformable-conv offsets.
    - ``bias_decay_mult``, ``norm_decay_mult``, ``dwconv_decay_mult`` (depthwise Conv2d),
      ``flat_decay_mult`` (1-D parameters): weight-decay multipliers, first match in that order with norm first.
    - ``dcn_offset_lr_mult``: weight and bias of the ``conv_offset`` layers inside deformable convolutions.
    - ``bypass_duplicate``: skip parameters shared with an earlier module instead of failing in the optimizer.

    Parameters that end up with identical settings share one parameter group (in order of first appearance),
    so the optimizer's fused multi-tensor kernels see many tensors at once.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: dict | None = None):
        if not isinstance(optim_wrapper_cfg, Mapping):
            raise TypeError(f"optim_wrapper_cfg must be a dict, got {type(optim_wrapper_cfg).__name__}")
        if "optimizer" not in optim_wrapper_cfg:
            raise KeyError(
                f"optim_wrapper config needs an 'optimizer' entry such as optimizer=dict(type='SGD', lr=0.01), "
                f"got keys {sorted(optim_wrapper_cfg)}"
            )
        self.optim_wrapper_cfg = dict(optim_wrapper_cfg)
        self.optimizer_cfg = dict(self.optim_wrapper_cfg.pop("optimizer"))
        self.paramwise_cfg = {} if paramwise_cfg is None else paramwise_cfg
        self.base_lr = self.optimizer_cfg.get("lr")
        self.base_wd = self.optimizer_cfg.get("weight_decay")
        self._validate_cfg()

    def _validate_cfg(self) -> None:
        if not isinstance(self.paramwise_cfg, Mapping):
            raise TypeError(f"paramwise_cfg must be a dict or None, got {type(self.paramwise_cfg).__name__}")
        for key in self.paramwise_cfg:
            if key not in _PARAMWISE_KEYS:
                close = difflib.get_close_matches(key, _PARAMWISE_KEYS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise KeyError(f"paramwise_cfg: unknown key {key!r} (valid keys: {', '.join(_PARAMWISE_KEYS)}){hint}")
        custom_keys = self.paramwise_cfg.get("custom_keys", {})
        if not isinstance(custom_keys, Mapping):
            raise TypeError(f"paramwise_cfg.custom_keys must be a dict, got {type(custom_keys).__name__}")
        for key, options in custom_keys.items():
            if not isinstance(options, Mapping):
                raise TypeError(f"paramwise_cfg.custom_keys[{key!r}] must be a dict, got {options!r}")
            if "lr_mult" in options and self.base_lr is None:
                raise ValueError(f"paramwise_cfg.custom_keys[{key!r}] sets lr_mult but the optimizer has no 'lr'")
            if "decay_mult" in options and self.base_wd is None:
                raise ValueError(
                    f"paramwise_cfg.custom_keys[{key!r}] sets decay_mult but the optimizer has no 'weight_decay'; "
                    f"add weight_decay to the optimizer config"
                )
        for key in ("bias_decay_mult", "norm_decay_mult", "dwconv_decay_mult", "flat_decay_mult"):
            if key in self.paramwise_cfg and self.base_wd is None:
                raise ValueError(f"paramwise_cfg.{key} needs 'weight_decay' in the optimizer config")
        for key in ("bias_lr_mult", "dcn_offset_lr_mult"):
            if key in self.paramwise_cfg and self.base_lr is None:
                raise ValueError(f"paramwise_cfg.{key} needs 'lr' in the optimizer config")

    # ------------------------------------------------------------------ parameter groups
    def add_params(self, params: list[dict], module: nn.Module, prefix: str = "", is_dcn_module=None) -> None:
        """Append one group per parameter of ``module`` (recursively) with the paramwise settings applied."""
        self._add_params(params, module, prefix, bool(is_dcn_module), set(), set())

    def _add_params(self, params, module, prefix, in_dcn, seen, matched_keys) -> None:
        cfg = self.paramwise_cfg
        custom_keys = cfg.get("custom_keys", {})
        sorted_keys = sorted(sorted(custom_keys), key=len, reverse=True)
        bias_lr_mult = cfg.get("bias_lr_mult")
        bias_decay_mult = cfg.get("bias_decay_mult")
        norm_decay_mult = cfg.get("norm_decay_mult")
        dwconv_decay_mult = cfg.get("dwconv_decay_mult")
        flat_decay_mult = cfg.get("flat_decay_mult")
        dcn_offset_lr_mult = cfg.get("dcn_offset_lr_mult")
        bypass_duplicate = cfg.get("bypass_duplicate", False)

        from vk_core.model.utils import is_norm

        norm = is_norm(module)
        dwconv = isinstance(module, nn.Conv2d) and module.in_channels == module.groups
        for name, param in module.named_parameters(recurse=False):
            full_name = f"{prefix}.{name}" if prefix else name
            group = {"params": [param]}
            if param in seen:
                if bypass_duplicate:
                    from vk_core.logging import print_log

                    print_log(
                        f"{full_name} is shared with an earlier module; skipped (bypass_duplicate=True)",
                        logger="current",
                        level=logging.WARNING,
                    )
                    continue
                raise ValueError(
                    f"parameter {full_name} appears twice in the model (shared weights); set "
                    f"paramwise_cfg=dict(bypass_duplicate=True) to keep only its first occurrence"
                )
            seen.add(param)
            if not param.requires_grad:
                params.append(group)
                continue
            custom = next((key for key in sorted_keys if key in full_name), None)
            if custom is not None:
                matched_keys.add(custom)
                options = custom_keys[custom]
                if self.base_lr is not None:
                    group["lr"] = self.base_lr * options.get("lr_mult", 1.0)
                if self.base_wd is not None:
                    group["weight_decay"] = self.base_wd * options.get("decay_mult", 1.0)
                for k, v in options.items():
                    if k not in ("lr_mult", "decay_mult"):
                        group[k] = v
            else:
                if name == "bias" and not (norm or in_dcn) and bias_lr_mult is not None:
                    group["lr"] = self.base_lr * bias_lr_mult
                if (
                    in_dcn
                    and "conv_offset" in prefix
                    and dcn_offset_lr_mult is not None
                    and isinstance(module, nn.Conv2d)
                ):
                    group["lr"] = self.base_lr * dcn_offset_lr_mult
                if self.base_wd is not None:
                    if norm and norm_decay_mult is not None:
                        group["weight_decay"] = self.base_wd * norm_decay_mult
                    elif name == "bias" and not in_dcn and bias_decay_mult is not None:
                        group["weight_decay"] = self.base_wd * bias_decay_mult
                    elif dwconv and dwconv_decay_mult is not None:
                        group["weight_decay"] = self.base_wd * dwconv_decay_mult
                    elif param.ndim == 1 and flat_decay_mult is not None and not in_dcn:
                        group["weight_decay"] = self.base_wd * flat_decay_mult
            params.append(group)

        child_in_dcn = is_dcn_module(module)
        for child_name, child in module.named_children():
            child_prefix = f"{prefix}.{child_name}" if prefix else child_name
            self._add_params(params, child, child_prefix, child_in_dcn, seen, matched_keys)

    def param_groups(self, model: nn.Module) -> list[dict]:
        """The merged parameter groups for ``model`` (warns about ``custom_keys`` that match nothing)."""
        per_param: list[dict] = []
        matched: set[str] = set()
        self._add_params(per_param, model, "", False, set(), matched)
        unmatched = sorted(set(self.paramwise_cfg.get("custom_keys", {})) - matched)
        if unmatched:
            warnings.warn(
                f"paramwise_cfg.custom_keys {unmatched} match no trainable parameter name of "
                f"{type(model).__name__}; check the spelling against model.named_parameters()",
                stacklevel=3,
            )
        merged: dict[tuple, dict] = {}
        for group in per_param:
            key = tuple(sorted((k, repr(v)) for k, v in group.items() if k != "params"))
            if key in merged:
                merged[key]["params"].extend(group["params"])
            else:
                merged[key] = {**group, "params": list(group["params"])}
        return list(merged.values())

    def __call__(self, model: nn.Module):
        if hasattr(model, "module") and isinstance(model.module, nn.Module):
            model = model.module
        optimizer_cfg = dict(self.optimizer_cfg)
        optimizer_cls = optimizer_cfg["type"]
        if isinstance(optimizer_cls, str):
            with OPTIMIZERS.switch_scope_and_registry(None) as registry:
                resolved = registry.get(optimizer_cls)
                if resolved is None:
                    raise KeyError("unknown optimizer type: " + registry.missing_key_message(optimizer_cls))
            optimizer_cls = resolved
        first_arg = next(iter(inspect.signature(optimizer_cls).parameters))
        optimizer_cfg[first_arg] = self.param_groups(model) if self.paramwise_cfg else model.parameters()
        optimizer_cfg["type"] = optimizer_cls
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        wrapper_cfg = dict(self.optim_wrapper_cfg)
        wrapper_cfg.setdefault("type", "OptimWrapper")
        return OPTIM_WRAPPERS.build(wrapper_cfg, default_args=dict(optimizer=optimizer))
