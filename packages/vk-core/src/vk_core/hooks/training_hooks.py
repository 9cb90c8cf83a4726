"""EMA, early stopping, profiling and naive visualization hooks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from vk_core.hooks.hook import Hook, built_train_loop


class EMAHook(Hook):
    """Keeps an exponential moving average of the model's parameters, evaluates with it, and stores it in
    checkpoints: ``state_dict`` holds the averaged weights (what inference wants), ``ema_state_dict`` the raw
    ones, swapped back on resume so training continues exactly.
    """

    priority = "NORMAL"  # must swap weights before CheckpointHook (VERY_LOW) saves

    def __init__(
        self,
        ema_type: str = "ExponentialMovingAverage",
        strict_load: bool = True,
        begin_iter: int = 0,
        begin_epoch: int = 0,
        **kwargs,
    ):
        if begin_iter < 0 or begin_epoch < 0:
            raise ValueError(f"EMAHook: begin_iter/begin_epoch must be >= 0, got {begin_iter}/{begin_epoch}")
        if begin_iter and begin_epoch:
            raise ValueError("EMAHook: begin_iter and begin_epoch are mutually exclusive")
        self.ema_cfg = dict(type=ema_type, **kwargs)
        self.strict_load = strict_load
        self.begin_iter = begin_iter
        self.begin_epoch = begin_epoch
        self.enabled_by_epoch = begin_epoch > 0

    def before_run(self, runner) -> None:
        from vk_core.registry import MODELS
        from vk_core.runner.checkpoint import unwrap_model

        self.src_model = unwrap_model(runner.model)
        self.ema_model = MODELS.build(self.ema_cfg, default_args=dict(model=self.src_model))

    def before_train(self, runner) -> None:
        if self.enabled_by_epoch and self.begin_epoch > runner.max_epochs:
            raise ValueError(f"EMAHook: begin_epoch {self.begin_epoch} > max_epochs {runner.max_epochs}")
        if not self.enabled_by_epoch and self.begin_iter > runner.max_iters:
            raise ValueError(f"EMAHook: begin_iter {self.begin_iter} > max_iters {runner.max_iters}")

    def _ema_started(self, runner) -> bool:
        if self.enabled_by_epoch:
            return runner.epoch + 1 >= self.begin_epoch
        return runner.iter + 1 >= self.begin_iter

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._ema_started(runner):
            self.ema_model.update_parameters(self.src_model)
        else:
            # until averaging starts the EMA copy simply follows the model
            ema_params = self.ema_model.module.state_dict()
            for k, v in self.src_model.state_dict().items():
                ema_params[k].data.copy_(v.data)

    def _swap(self) -> None:
        # swap tensors' data so that optimizer references to the source parameters stay valid
        avg = self.ema_model.module
        src_params = dict(self.src_model.named_parameters())
        for name, p in avg.named_parameters():
            tmp = p.data.clone()
            p.data.copy_(src_params[name].data)
            src_params[name].data.copy_(tmp)
        if getattr(self.ema_model, "update_buffers", False):
            src_bufs = dict(self.src_model.named_buffers())
            for name, b in avg.named_buffers():
                tmp = b.data.clone()
                b.data.copy_(src_bufs[name].data)
                src_bufs[name].data.copy_(tmp)

    def before_val_epoch(self, runner) -> None:
        self._swap()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._swap()

    def before_test_epoch(self, runner) -> None:
        self._swap()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._swap()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        ema_state = {k: v.detach().clone().cpu() for k, v in self.ema_model.state_dict().items()}
        model_state = checkpoint["state_dict"]
        # state_dict <- averaged weights; ema_state_dict['module.<k>'] <- raw weights
        for key in list(model_state):
            ema_key = f"module.{key}"
            if ema_key in ema_state:
                model_state[key], ema_state[ema_key] = ema_state[ema_key], model_state[key]
        checkpoint["ema_state_dict"] = ema_state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        from vk_core.runner.checkpoint import load_state_dict

        if "ema_state_dict" in checkpoint and runner._resume:
            # the model got the averaged weights from 'state_dict'; put the raw ones back and restore the EMA
            ema_state = dict(checkpoint["ema_state_dict"])
            raw = {}
            for key, value in checkpoint["state_dict"].items():
                ema_key = f"module.{key}"
                if ema_key in ema_state:
                    raw[key] = ema_state[ema_key]
                    ema_state[ema_key] = value
            load_state_dict(self.src_model, raw, strict=False, logger="silent")
            self.ema_model.load_state_dict(ema_state, strict=self.strict_load)
        else:
            # fine-tuning from plain weights: start the average at those weights
            state = {f"module.{k}": v for k, v in checkpoint["state_dict"].items()}
            load_state_dict(self.ema_model, state, strict=False, logger="silent")


class EarlyStoppingHook(Hook):
    """Stops training when ``monitor`` has not improved by ``min_delta`` for ``patience`` validations, or has
    reached ``stopping_threshold``, or (``check_finite``) became NaN/inf."""

    priority = "VERY_LOW"
    _greater = ("acc", "top", "ar@", "auc", "precision", "map", "mdice", "miou", "macc", "aacc", "ap", "recall")

    def __init__(
        self,
        monitor: str,
        rule: str | None = None,
        min_delta: float = 0.1,
        strict: bool = False,
        check_finite: bool = True,
        patience: int = 5,
        stopping_threshold: float | None = None,
    ):
        if rule not in (None, "greater", "less"):
            raise ValueError(f"EarlyStoppingHook: rule must be 'greater', 'less' or None, got {rule!r}")
        if patience < 1:
            raise ValueError(f"EarlyStoppingHook: patience must be >= 1, got {patience}")
        self.monitor = monitor
        if rule is None:
            name = monitor.split("/")[-1].lower()
            if "loss" in name:
                rule = "less"
            elif any(k in name for k in self._greater):
                rule = "greater"
            else:
                raise ValueError(
                    f"EarlyStoppingHook: cannot infer the rule for {monitor!r}; pass rule='greater'|'less'"
                )
        self.rule = rule
        self.min_delta = abs(min_delta)
        self.strict = strict
        self.check_finite = check_finite
        self.patience = patience
        self.stopping_threshold = stopping_threshold

    def _better(self, value: float, best: float) -> bool:
        return value > best + self.min_delta if self.rule == "greater" else value < best - self.min_delta

    def after_val_epoch(self, runner, metrics=None) -> None:
        loop = built_train_loop(runner)
        if loop is None:
            return
        metrics = metrics or {}
        if self.monitor not in metrics:
            if self.strict:
                raise KeyError(f"EarlyStoppingHook: monitored metric {self.monitor!r} not in {list(metrics)}")
            runner.logger.warning(f"EarlyStoppingHook: {self.monitor!r} not in the metrics {list(metrics)}; skipped")
            return
        hub = runner.message_hub
        value = float(metrics[self.monitor])
        best = hub.get_info("early_stopping/best", -math.inf if self.rule == "greater" else math.inf)
        wait = hub.get_info("early_stopping/wait", 0)
        reason = None
        if self.check_finite and not math.isfinite(value):
            reason = f"{self.monitor} is {value}"
        elif self.stopping_threshold is not None and (
            value >= self.stopping_threshold if self.rule == "greater" else value <= self.stopping_threshold
        ):
            reason = f"{self.monitor} {value:.4f} reached the stopping threshold {self.stopping_threshold}"
        elif self._better(value, best):
            best, wait = value, 0
        else:
            wait += 1
            if wait >= self.patience:
                reason = f"{self.monitor} has not improved by {self.min_delta} for {wait} validations (best {best:.4f})"
        hub.update_info("early_stopping/best", best)
        hub.update_info("early_stopping/wait", wait)
        if reason:
            loop.stop_training = True
            runner.logger.info(f"Early stopping at epoch {runner.epoch}, iteration {runner.iter}: {reason}")


class ProfilerHook(Hook):
    """Profiles the first ``profile_times`` training epochs (or iterations) with ``torch.profiler`` and writes a
    Chrome trace into the log directory (``json_trace_path`` to choose another file)."""

    priority = "VERY_LOW"

    def __init__(
        self,
        by_epoch: bool = True,
        profile_times: int = 1,
        activity_with_cpu: bool = True,
        activity_with_cuda: bool = False,
        schedule: dict | None = None,
        on_trace_ready=None,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_flops: bool = False,
        json_trace_path: str | None = None,
    ):
        if profile_times < 1:
            raise ValueError(f"ProfilerHook: profile_times must be >= 1, got {profile_times}")
        if by_epoch and profile_times > 1:
            raise ValueError("ProfilerHook: profile one epoch at most (by_epoch=True needs profile_times=1)")
        self.by_epoch = by_epoch
        self.profile_times = profile_times
        acts = []
        if activity_with_cpu:
            acts.append(torch.profiler.ProfilerActivity.CPU)
        if activity_with_cuda and torch.cuda.is_available():
            acts.append(torch.profiler.ProfilerActivity.CUDA)
        self.activities = acts
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.kwargs = dict(
            record_shapes=record_shapes, profile_memory=profile_memory, with_stack=with_stack, with_flops=with_flops
        )
        self.json_trace_path = json_trace_path
        self._profiler = None

    def before_train(self, runner) -> None:
        schedule = torch.profiler.schedule(**self.schedule) if self.schedule else None
        self.trace_path = self.json_trace_path or str(Path(runner.log_dir) / "profiler_trace.json")
        self._profiler = torch.profiler.profile(
            activities=self.activities, schedule=schedule, on_trace_ready=self.on_trace_ready, **self.kwargs
        )
        self._profiler.__enter__()
        runner.logger.info(f"ProfilerHook: profiling, the trace will be written to {self.trace_path}")

    def _finish(self, runner) -> None:
        if self._profiler is None:
            return
        self._profiler.__exit__(None, None, None)
        if self.on_trace_ready is None:
            Path(self.trace_path).parent.mkdir(parents=True, exist_ok=True)
            self._profiler.export_chrome_trace(self.trace_path)
        runner.logger.info(f"ProfilerHook: trace written to {self.trace_path}")
        self._profiler = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._profiler is None:
            return
        if self.schedule:
            self._profiler.step()
        if not self.by_epoch and runner.iter + 1 >= self.profile_times:
            self._finish(runner)

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and runner.epoch + 1 >= self.profile_times:
            self._finish(runner)

    def after_train(self, runner) -> None:
        self._finish(runner)


class NaiveVisualizationHook(Hook):
    """Records the test inputs (and lets a task visualizer draw ground truth/predictions) every ``interval``
    test iterations."""

    priority = "NORMAL"

    def __init__(self, interval: int = 1, draw_gt: bool = True, draw_pred: bool = True):
        if interval < 1:
            raise ValueError(f"NaiveVisualizationHook: interval must be >= 1, got {interval}")
        self.interval = interval
        self.draw_gt = draw_gt
        self.draw_pred = draw_pred

    @staticmethod
    def _to_image(tensor) -> np.ndarray | None:
        """CHW/HWC/HW tensor -> RGB uint8 (min-max scaled when outside 0..255); None for non-image inputs."""
        if not isinstance(tensor, torch.Tensor) or tensor.ndim not in (2, 3):
            return None
        img = tensor.detach().cpu()
        if img.ndim == 2:
            img = img[None]
        if img.ndim == 3 and img.shape[0] in (1, 3):
            img = img.permute(1, 2, 0)
        img = img.float().numpy()
        lo, hi = img.min(), img.max()
        if lo < 0 or hi > 255:
            img = (img - lo) / max(hi - lo, 1e-12) * 255
        img = img.astype(np.uint8)
        return np.repeat(img, 3, axis=2) if img.shape[-1] == 1 else img

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.every_n_inner_iters(batch_idx, self.interval) or not isinstance(data_batch, dict):
            return
        inputs = data_batch.get("inputs")
        if inputs is None:
            return
        samples = data_batch.get("data_samples") or [None] * len(inputs)
        outputs = outputs or [None] * len(inputs)
        for i, (img, gt, pred) in enumerate(zip(inputs, samples, outputs)):
            image = self._to_image(img)
            if image is None:
                continue
            meta = getattr(gt, "metainfo", {}) if gt is not None else {}
            name = Path(meta.get("img_path", f"batch{batch_idx}_{i}")).stem
            runner.visualizer.add_datasample(
                name,
                self._to_image(img),
                data_sample=pred if pred is not None else gt,
                draw_gt=self.draw_gt,
                draw_pred=self.draw_pred,
                step=batch_idx,
            )
