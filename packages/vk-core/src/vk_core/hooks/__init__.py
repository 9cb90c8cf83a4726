"""Hooks: the ``Hook`` base with MMEngine's 22 hook points, priorities, and the built-in hooks."""

from vk_core.hooks.checkpoint_hook import CheckpointHook
from vk_core.hooks.hook import HOOK_POINTS, Hook, Priority, get_priority
from vk_core.hooks.logger_hook import LoggerHook
from vk_core.hooks.runtime_hooks import (
    CheckInvalidLossHook,
    DistSamplerSeedHook,
    EmptyCacheHook,
    IterTimerHook,
    ParamSchedulerHook,
    RuntimeInfoHook,
    SyncBuffersHook,
)
from vk_core.hooks.training_hooks import EarlyStoppingHook, EMAHook, NaiveVisualizationHook, ProfilerHook

BUILTIN_HOOKS = (
    CheckInvalidLossHook,
    CheckpointHook,
    DistSamplerSeedHook,
    EarlyStoppingHook,
    EMAHook,
    EmptyCacheHook,
    IterTimerHook,
    LoggerHook,
    NaiveVisualizationHook,
    ParamSchedulerHook,
    ProfilerHook,
    RuntimeInfoHook,
    SyncBuffersHook,
)


def _register() -> None:
    from vk_core.registry import HOOKS

    for hook in BUILTIN_HOOKS:
        HOOKS.register_module(module=hook, force=True)


_register()

__all__ = ["HOOK_POINTS", "Hook", "Priority", "get_priority", *[h.__name__ for h in BUILTIN_HOOKS]]
