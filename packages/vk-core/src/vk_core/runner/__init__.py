"""The runner, its loops and checkpoint utilities."""

from vk_core.runner.checkpoint import (
    CheckpointLoader,
    find_latest_checkpoint,
    get_state_dict,
    load_checkpoint,
    load_state_dict,
    save_checkpoint,
    save_safetensors,
    weights_to_cpu,
)
from vk_core.runner.loops import BaseLoop, EpochBasedTrainLoop, IterBasedTrainLoop, TestLoop, ValLoop
from vk_core.runner.runner import Runner, set_random_seed


def _register() -> None:
    from vk_core.registry import LOOPS, RUNNERS

    for loop in (EpochBasedTrainLoop, IterBasedTrainLoop, ValLoop, TestLoop):
        LOOPS.register_module(module=loop, force=True)
    RUNNERS.register_module(module=Runner, force=True)


_register()

__all__ = [
    "BaseLoop",
    "CheckpointLoader",
    "EpochBasedTrainLoop",
    "IterBasedTrainLoop",
    "Runner",
    "TestLoop",
    "ValLoop",
    "find_latest_checkpoint",
    "get_state_dict",
    "load_checkpoint",
    "load_state_dict",
    "save_checkpoint",
    "save_safetensors",
    "set_random_seed",
    "weights_to_cpu",
]
