"""Build functions: turn a config dict into an object through a registry."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import Registry


def _describe(cfg: Mapping) -> str:
    return f"type={cfg.get('type')!r}" if "type" in cfg else "without 'type'"


def _is_managed(cls: type) -> bool:
    """True for subclasses of a ``ManagerMixin`` (named, global instances created through ``get_instance``)."""
    return any(base.__name__ == "ManagerMixin" for base in cls.__mro__[1:]) and hasattr(cls, "get_instance")


def build_from_cfg(cfg: Mapping, registry: Registry, default_args: Mapping | None = None) -> Any:
    """Build the object ``cfg['type'](**rest)``; ``type`` is a registered name, a class or a callable.

    ``default_args`` fill keys that ``cfg`` lacks. ``_scope_`` in ``cfg`` switches the default scope while
    this object (and whatever its constructor builds) is created.
    """
    from .registry import Registry

    if not isinstance(cfg, Mapping):
        raise TypeError(f"cfg must be a dict (or ConfigDict), got {type(cfg).__name__}: {cfg!r}")
    if default_args is not None and not isinstance(default_args, Mapping):
        raise TypeError(f"default_args must be a dict or None, got {type(default_args).__name__}")
    if not isinstance(registry, Registry):
        raise TypeError(f"registry must be a Registry, got {type(registry).__name__}")
    if "type" not in cfg and (default_args is None or "type" not in default_args):
        raise KeyError(
            f"a config built by the {registry.name!r} registry needs the key 'type' (in cfg or default_args); "
            f"got keys {sorted(map(str, cfg))}"
        )

    args = dict(cfg)
    if default_args is not None:
        for key, value in default_args.items():
            args.setdefault(key, value)

    scope = args.pop("_scope_", None)
    with registry.switch_scope_and_registry(scope) as registry:
        obj_type = args.pop("type")
        if isinstance(obj_type, str):
            obj_cls = registry.get(obj_type)
            if obj_cls is None:
                raise KeyError(registry.missing_key_message(obj_type))
        elif callable(obj_type):
            obj_cls = obj_type
        else:
            raise TypeError(
                f"'type' must be a registered name (str), a class or a callable, got "
                f"{type(obj_type).__name__}: {obj_type!r}"
            )
        try:
            if inspect.isclass(obj_cls) and _is_managed(obj_cls):
                # Global-instance classes (visualizers, loggers) are fetched or created by name, as MMEngine does.
                return obj_cls.get_instance(**args)
            return obj_cls(**args)
        except Exception as exc:
            # Keep the exception type (callers catch it) but say which config entry failed.
            if hasattr(exc, "add_note"):
                name = getattr(obj_cls, "__qualname__", repr(obj_cls))
                where = getattr(obj_cls, "__module__", "?")
                kind = "class" if inspect.isclass(obj_cls) else "function"
                exc.add_note(f"while building {kind} {name} ({where}) from the {registry.name!r} registry")
            raise


def build_model_from_cfg(cfg: Any, registry: Registry, default_args: Mapping | None = None) -> Any:
    """MODELS' build function: a list of configs becomes an ``nn.Sequential`` of the built modules."""
    if isinstance(cfg, (list, tuple)):
        from torch import nn

        modules = [build_from_cfg(c, registry, default_args) for c in cfg]
        return nn.Sequential(*modules)
    return build_from_cfg(cfg, registry, default_args)


def build_scheduler_from_cfg(cfg: Mapping, registry: Registry, default_args: Mapping | None = None) -> Any:
    """PARAM_SCHEDULERS' build function.

    With ``convert_to_iter_based=True`` the scheduler class's ``build_iter_from_epoch`` classmethod makes an
    iteration-based scheduler from epoch-based arguments; it needs ``epoch_length`` (the runner passes it in
    ``default_args``). Otherwise ``epoch_length`` is dropped and the scheduler is built as usual.
    """
    if not isinstance(cfg, Mapping):
        raise TypeError(f"a parameter scheduler config must be a dict, got {type(cfg).__name__}: {cfg!r}")
    args = dict(cfg)
    defaults = dict(default_args or {})
    convert = args.pop("convert_to_iter_based", False)
    if not convert:
        args.pop("epoch_length", None)
        defaults.pop("epoch_length", None)
        return build_from_cfg(args, registry, defaults)

    for key, value in defaults.items():
        args.setdefault(key, value)
    scope = args.pop("_scope_", None)
    with registry.switch_scope_and_registry(scope) as registry:
        obj_type = args.pop("type", None)
        if obj_type is None:
            raise KeyError(f"parameter scheduler config needs the key 'type', got keys {sorted(cfg)}")
        cls = registry.get(obj_type) if isinstance(obj_type, str) else obj_type
        if cls is None:
            raise KeyError(registry.missing_key_message(obj_type))
        if "epoch_length" not in args:
            raise KeyError(
                f"scheduler {obj_type!r} has convert_to_iter_based=True but no 'epoch_length': the runner passes "
                f"it from the train dataloader; building it by hand, pass default_args=dict(epoch_length=...)"
            )
        if not args.get("by_epoch", True):
            raise ValueError(
                f"scheduler {obj_type!r}: convert_to_iter_based=True converts an epoch-based scheduler; "
                f"remove by_epoch=False or convert_to_iter_based"
            )
        build_iter = getattr(cls, "build_iter_from_epoch", None)
        if build_iter is None:
            raise TypeError(
                f"scheduler {getattr(cls, '__name__', cls)!r} has no build_iter_from_epoch classmethod, so "
                f"convert_to_iter_based=True cannot be honoured; remove it from the config"
            )
        return build_iter(**args)


def build_runner_from_cfg(cfg: Mapping, registry: Registry) -> Any:
    """RUNNERS' build function: ``runner_type`` (default ``'Runner'``) picks the class; it is built with ``from_cfg``.

    The config's ``default_scope`` is the scope used to find the runner class.
    """
    if not isinstance(cfg, Mapping):
        raise TypeError(f"a runner config must be a dict or Config, got {type(cfg).__name__}")
    with registry.switch_scope_and_registry(cfg.get("default_scope")) as registry:
        runner_type = cfg.get("runner_type", "Runner")
        if isinstance(runner_type, str):
            runner_cls = registry.get(runner_type)
            if runner_cls is None:
                raise KeyError(registry.missing_key_message(runner_type))
        elif inspect.isclass(runner_type):
            runner_cls = runner_type
        else:
            raise TypeError(f"runner_type must be a registered name or a class, got {runner_type!r}")
        if not hasattr(runner_cls, "from_cfg"):
            raise TypeError(f"runner class {runner_cls.__name__} has no from_cfg classmethod")
        return runner_cls.from_cfg(cfg)
