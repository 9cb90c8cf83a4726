"""Detection-specific runner hooks."""

from __future__ import annotations

import time

from vk_core.hooks.hook import Hook

from ..registry import HOOKS


def _unwrap(model):
    return getattr(model, "module", model)


@HOOKS.register_module()
class NumClassCheckHook(Hook):
    """Before train/val: every head with ``num_classes`` must agree with the dataset's ``classes``."""

    def _check(self, runner, mode: str) -> None:
        loader = getattr(runner, f"{mode}_dataloader", None)
        dataset = getattr(loader, "dataset", None)
        meta = getattr(dataset, "metainfo", None) or {}
        classes = meta.get("classes")
        if not classes:
            return
        if isinstance(classes, str):
            raise TypeError(
                f"metainfo['classes'] of the {mode} dataset is the string {classes!r}; use a tuple, e.g. ({classes!r},)"
            )
        for name, module in _unwrap(runner.model).named_modules():
            num = getattr(module, "num_classes", None)
            if isinstance(num, int) and num != len(classes) and not name.endswith("rpn_head"):
                raise ValueError(
                    f"{name or 'model'}.num_classes = {num} but the {mode} dataset has {len(classes)} classes "
                    f"{tuple(classes)[:10]}: set num_classes={len(classes)} in the model config"
                )

    def before_train_epoch(self, runner) -> None:
        self._check(runner, "train")

    def before_val_epoch(self, runner) -> None:
        self._check(runner, "val")


@HOOKS.register_module()
class PipelineSwitchHook(Hook):
    """From epoch ``switch_epoch`` on, train with ``switch_pipeline`` (e.g. drop Mosaic for the last epochs)."""

    def __init__(self, switch_epoch: int, switch_pipeline: list):
        self.switch_epoch = switch_epoch
        self.switch_pipeline = switch_pipeline
        self._switched = False

    def before_train_epoch(self, runner) -> None:
        if self._switched or runner.epoch < self.switch_epoch:
            return
        from vk_core.dataset import Compose
        from vk_core.registry import DefaultScope

        loader = runner.train_dataloader
        dataset = loader.dataset
        while not hasattr(dataset, "pipeline") and hasattr(dataset, "dataset"):
            dataset = dataset.dataset
        with DefaultScope.using("vk_det"):
            dataset.pipeline = Compose(self.switch_pipeline)
        # Persistent workers hold a copy of the old pipeline: drop them so the next epoch forks fresh ones.
        if getattr(loader, "persistent_workers", False) and getattr(loader, "_iterator", None) is not None:
            loader._iterator = None
        self._switched = True


@HOOKS.register_module()
class TrainTimeLimitHook(Hook):
    """Stop training once ``max_minutes`` of training have passed (checked after each iteration).

    The epoch in progress ends early, so the epoch-end hooks (checkpoint, validation) still run. Used by the
    demo to bound a CPU run.
    """

    priority = "LOW"

    def __init__(self, max_minutes: float):
        if max_minutes <= 0:
            raise ValueError(f"TrainTimeLimitHook: max_minutes must be positive, got {max_minutes}")
        self.max_minutes = max_minutes
        self._start = None

    def before_train(self, runner) -> None:
        self._start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._start is not None and time.perf_counter() - self._start > self.max_minutes * 60:
            runner.train_loop.stop_training = True
