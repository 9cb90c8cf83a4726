"""Hooks that keep the run's bookkeeping: runtime info, timing, sampler seeding, schedulers, buffers, caches."""

from __future__ import annotations

import math
import time

import torch

from vk_core.hooks.hook import Hook, built_train_loop


def _scalar_or_none(value):
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else None
    if hasattr(value, "item") and getattr(value, "size", 2) == 1:
        return value.item()
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    return None


class RuntimeInfoHook(Hook):
    """Writes epoch/iter, learning rates, losses and metrics to the message hub for every other component."""

    priority = "VERY_HIGH"

    def before_run(self, runner) -> None:
        hub = runner.message_hub
        hub.update_info("experiment_name", runner.experiment_name, resumed=False)
        hub.update_info("seed", runner.seed, resumed=False)
        cfg = getattr(runner, "cfg", None)
        text = getattr(cfg, "pretty_text", None)
        hub.update_info("cfg", text if isinstance(text, str) else repr(cfg), resumed=False)

    def before_train(self, runner) -> None:
        hub = runner.message_hub
        hub.update_info("epoch", runner.epoch)
        hub.update_info("iter", runner.iter)
        hub.update_info("max_epochs", runner.max_epochs)
        hub.update_info("max_iters", runner.max_iters)

    def before_train_epoch(self, runner) -> None:
        runner.message_hub.update_info("epoch", runner.epoch)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        hub = runner.message_hub
        hub.update_info("iter", runner.iter)
        wrapper = runner.optim_wrapper
        lrs = wrapper.get_lr()
        if "lr" in lrs:
            hub.update_scalar("train/lr", lrs["lr"][0])
        else:  # an OptimWrapperDict reports '<name>.lr'
            for name, values in lrs.items():
                hub.update_scalar(f"train/{name}", values[0])

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if outputs is None:
            return
        update = runner.message_hub.update_scalar
        for key, value in outputs.items():
            if type(value) is torch.Tensor and value.ndim == 0:
                update(f"train/{key}", value.item())
                continue
            scalar = _scalar_or_none(value)
            if scalar is not None:
                update(f"train/{key}", scalar)

    def _record_metrics(self, runner, mode: str, metrics) -> None:
        for key, value in (metrics or {}).items():
            scalar = _scalar_or_none(value)
            if scalar is not None:
                runner.message_hub.update_scalar(f"{mode}/{key}", scalar)
            else:
                runner.message_hub.update_info(f"{mode}/{key}", value, resumed=False)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._record_metrics(runner, "val", metrics)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._record_metrics(runner, "test", metrics)


class IterTimerHook(Hook):
    """Records ``data_time`` (waiting for the batch) and ``time`` (whole iteration) and the ETA."""

    priority = "NORMAL"

    def __init__(self):
        self._t = time.perf_counter()
        self._start_iter = 0

    def before_train(self, runner) -> None:
        self._start_iter = runner.iter
        self._train_time = 0.0

    def _before_epoch(self, runner, mode: str = "train") -> None:
        self._t = time.perf_counter()

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        # the train points are overridden directly (not through the funnel): they run every iteration
        runner.message_hub.update_scalar("train/data_time", time.perf_counter() - self._t)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        now = time.perf_counter()
        elapsed = now - self._t
        self._t = now
        hub = runner.message_hub
        hub.update_scalar("train/time", elapsed)
        self._train_time += elapsed
        it = runner.iter
        hub.update_info("eta", self._train_time / max(it + 1 - self._start_iter, 1) * (runner.max_iters - it - 1))

    def _before_iter(self, runner, batch_idx: int, data_batch=None, mode: str = "train") -> None:
        runner.message_hub.update_scalar(f"{mode}/data_time", time.perf_counter() - self._t)

    def _after_iter(self, runner, batch_idx: int, data_batch=None, outputs=None, mode: str = "train") -> None:
        now = time.perf_counter()
        elapsed = now - self._t
        self._t = now
        hub = runner.message_hub
        hub.update_scalar(f"{mode}/time", elapsed)
        if mode == "train":
            self._train_time += elapsed
            done = runner.iter + 1 - self._start_iter
            hub.update_info("eta", self._train_time / max(done, 1) * (runner.max_iters - runner.iter - 1))
        else:
            loader = runner.val_dataloader if mode == "val" else runner.test_dataloader
            remaining = len(loader) - batch_idx - 1
            hub.update_info(f"{mode}_eta", hub.get_scalar(f"{mode}/time").mean() * remaining, resumed=False)


class DistSamplerSeedHook(Hook):
    """Tells the train sampler (and batch sampler) the epoch, so shuffling differs per epoch yet agrees across
    ranks and across a resume."""

    priority = "NORMAL"

    def before_train_epoch(self, runner) -> None:
        loader = runner.train_loop.dataloader
        for obj in (getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None)):
            if obj is not None and hasattr(obj, "set_epoch"):
                obj.set_epoch(runner.epoch)
        inner = getattr(getattr(loader, "batch_sampler", None), "sampler", None)
        if inner is not None and inner is not getattr(loader, "sampler", None) and hasattr(inner, "set_epoch"):
            inner.set_epoch(runner.epoch)


def _iter_schedulers(schedulers):
    if schedulers is None:
        return
    if isinstance(schedulers, dict):
        for group in schedulers.values():
            yield from group
    else:
        yield from schedulers


class ParamSchedulerHook(Hook):
    """Steps iteration-based schedulers after each iteration and epoch-based ones after each epoch;
    schedulers that need validation results (ReduceOnPlateau) step after validation."""

    priority = "LOW"

    def before_train(self, runner) -> None:
        # the schedulers are built by now; find the per-iteration ones once instead of every iteration
        self._iter_based = [
            s
            for s in _iter_schedulers(runner.param_schedulers)
            if not s.by_epoch and not getattr(s, "need_val_args", False)
        ]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        schedulers = getattr(self, "_iter_based", None)
        if schedulers is None:
            self.before_train(runner)
            schedulers = self._iter_based
        for scheduler in schedulers:
            scheduler.step()

    def after_train_epoch(self, runner) -> None:
        for scheduler in _iter_schedulers(runner.param_schedulers):
            if scheduler.by_epoch and not getattr(scheduler, "need_val_args", False):
                scheduler.step()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if metrics is None or built_train_loop(runner) is None:
            return
        for scheduler in _iter_schedulers(runner.param_schedulers):
            if getattr(scheduler, "need_val_args", False):
                scheduler.step(metrics)


class EmptyCacheHook(Hook):
    """Releases cached CUDA memory at the chosen points (a no-op without CUDA)."""

    priority = "NORMAL"

    def __init__(self, before_epoch: bool = False, after_epoch: bool = True, after_iter: bool = False):
        self._before_epoch_flag = before_epoch
        self._after_epoch_flag = after_epoch
        self._after_iter_flag = after_iter

    @staticmethod
    def _empty() -> None:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _before_epoch(self, runner, mode: str = "train") -> None:
        if self._before_epoch_flag:
            self._empty()

    def _after_epoch(self, runner, mode: str = "train") -> None:
        if self._after_epoch_flag:
            self._empty()

    def _after_iter(self, runner, batch_idx: int, data_batch=None, outputs=None, mode: str = "train") -> None:
        if self._after_iter_flag:
            self._empty()


class SyncBuffersHook(Hook):
    """Averages model buffers (BatchNorm running statistics) across ranks after each training epoch."""

    priority = "NORMAL"

    def after_train_epoch(self, runner) -> None:
        from vk_core.dist import all_reduce, get_world_size

        if get_world_size() == 1:
            return
        for buf in runner.model.buffers():
            if buf.is_floating_point():
                all_reduce(buf, op="mean")


class CheckInvalidLossHook(Hook):
    """Stops training with an error naming the iteration when the loss becomes NaN or infinite."""

    priority = "NORMAL"

    def __init__(self, interval: int = 50):
        if int(interval) < 1:
            raise ValueError(f"CheckInvalidLossHook: interval must be >= 1, got {interval}")
        self.interval = int(interval)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval) or not outputs or "loss" not in outputs:
            return
        loss = outputs["loss"]
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if not math.isfinite(value):
            raise RuntimeError(
                f"CheckInvalidLossHook: the loss is {value} at iteration {runner.iter + 1} "
                f"(epoch {runner.epoch + 1}); training stopped. Lower the learning rate or enable gradient clipping."
            )
