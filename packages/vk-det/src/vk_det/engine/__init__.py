"""Detection hooks for the vk_core runner."""

from .hooks import NumClassCheckHook, PipelineSwitchHook, TrainTimeLimitHook

__all__ = ["NumClassCheckHook", "PipelineSwitchHook", "TrainTimeLimitHook"]
