"""Training, validation and test loops.

The train loops know their exact position (epoch, iteration, batch inside the pass over the data) and the
random state at the start of that pass, so that a checkpoint taken after any iteration resumes bit-exactly:
on resume the loop restores the pass-start random state, recreates the data iterator (same shuffle, same
worker seeds), skips the batches already consumed, then restores the checkpoint's random state.
"""

from __future__ import annotations

import bisect
import contextlib

import torch

from vk_core.runner.checkpoint import get_rng_state, set_rng_state


class BaseLoop:
    def __init__(self, runner, dataloader):
        self._runner = runner
        if isinstance(dataloader, dict):
            randomness = getattr(runner, "_randomness_cfg", {}) or {}
            self.dataloader = runner.build_dataloader(
                dataloader, seed=runner.seed, diff_rank_seed=randomness.get("diff_rank_seed", False)
            )
        else:
            self.dataloader = dataloader

    @property
    def runner(self):
        return self._runner

    def run(self):
        raise NotImplementedError


def _dataset_meta(dataloader):
    dataset = getattr(dataloader, "dataset", None)
    return getattr(dataset, "metainfo", None)


class _TrainLoopMixin:
    """Shared bookkeeping of the two train loops: position, resume state, validation schedule."""

    by_epoch = True

    def _init_train(self, val_begin: int, val_interval: int, dynamic_intervals):
        if val_begin < 0 or val_interval < 1:
            raise ValueError(
                f"{type(self).__name__}: need val_begin >= 0 and val_interval >= 1, got {val_begin}, {val_interval}"
            )
        self.val_begin = val_begin
        self.val_interval = val_interval
        self.stop_training = False
        self._epoch = 0
        self._iter = 0
        self._inner = None  # batch index being processed, None between iterations
        self._pass_rng = None  # random state just before the current pass's data iterator was created
        self._resume = None
        milestones, intervals = [0], [val_interval]
        if dynamic_intervals:
            for i, pair in enumerate(dynamic_intervals):
                if not (isinstance(pair, list | tuple) and len(pair) == 2):
                    raise ValueError(f"dynamic_intervals[{i}] must be (milestone, interval), got {pair!r}")
            pairs = sorted(dynamic_intervals)
            milestones += [int(m) for m, _ in pairs]
            intervals += [int(v) for _, v in pairs]
        self._dyn_milestones, self._dyn_intervals = milestones, intervals
        meta = _dataset_meta(self.dataloader)
        if meta is not None:
            visualizer = getattr(self.runner, "visualizer", None)
            if visualizer is not None:
                visualizer.dataset_meta = meta
            model = self.runner.model
            if hasattr(model, "module"):
                model = model.module
            if getattr(model, "dataset_meta", None) is None:
                try:
                    model.dataset_meta = meta
                except AttributeError:
                    pass

    def _update_val_interval(self, progress: int) -> None:
        # the interval whose milestone was most recently passed applies
        step = bisect.bisect(self._dyn_milestones, progress - 1) - 1
        self.val_interval = self._dyn_intervals[max(step, 0)]

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def iter(self) -> int:
        return self._iter

    @property
    def max_epochs(self) -> int:
        return self._max_epochs

    @property
    def max_iters(self) -> int:
        return self._max_iters

    # ---- checkpoint support ------------------------------------------------------------------------------------
    def state_for_checkpoint(self) -> dict:
        """Position to store in a checkpoint, whichever hook point saves it."""
        if self._inner is not None:  # inside after_train_iter: this iteration is done
            epoch, it, inner = self._epoch, self._iter + 1, self._inner + 1
        elif self._after_pass:  # inside after_train_epoch, before the epoch counter moves on
            epoch, it, inner = self._epoch + 1, self._iter, 0
        else:
            epoch, it, inner = self._epoch, self._iter, 0
        state = {"epoch": epoch, "iter": it, "inner_iter": inner}
        if inner and self._pass_rng is not None:
            state["pass_rng_state"] = self._pass_rng
        return state

    def load_position(self, state: dict, rng_state: dict | None) -> None:
        self._epoch = int(state["epoch"])
        self._iter = int(state["iter"])
        self._resume = {
            "inner": int(state.get("inner_iter", 0)),
            "pass_rng": state.get("pass_rng_state"),
            "rng": rng_state,
        }

    def _data_iterator(self):
        """Creates the iterator for a new pass, replaying a resumed position if there is one."""
        resume, self._resume = self._resume, None
        if resume is not None and resume["inner"] and resume["pass_rng"] is not None:
            set_rng_state(resume["pass_rng"])
        elif resume is not None and resume["rng"] is not None:
            set_rng_state(resume["rng"])
        self._pass_rng = get_rng_state()
        iterator = iter(self.dataloader)
        start = 0
        if resume is not None and resume["inner"]:
            for _ in range(resume["inner"]):
                next(iterator)
            start = resume["inner"]
            if resume["rng"] is not None:
                set_rng_state(resume["rng"])
        return iterator, start

    def _should_validate(self, progress: int, final: int) -> bool:
        if self.runner.val_loop is None:
            return False
        return progress >= self.val_begin and (progress % self.val_interval == 0 or progress == final)


class EpochBasedTrainLoop(_TrainLoopMixin, BaseLoop):
    by_epoch = True

    def __init__(
        self, runner, dataloader, max_epochs: int, val_begin: int = 1, val_interval: int = 1, dynamic_intervals=None
    ):
        super().__init__(runner, dataloader)
        if not isinstance(max_epochs, int) or max_epochs < 1:
            raise ValueError(f"EpochBasedTrainLoop: max_epochs must be a positive int, got {max_epochs!r}")
        self._max_epochs = max_epochs
        try:
            self._max_iters = max_epochs * len(self.dataloader)
        except TypeError:
            raise TypeError("EpochBasedTrainLoop needs a dataloader with a length; use IterBasedTrainLoop") from None
        self._after_pass = False
        self._init_train(val_begin, val_interval, dynamic_intervals)

    def run(self):
        self.runner.call_hook("before_train")
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()
            self._update_val_interval(self._epoch)
            if self._should_validate(self._epoch, self._max_epochs):
                self.runner.val_loop.run()
        self.runner.call_hook("after_train")
        return self.runner.model

    def run_epoch(self) -> None:
        runner = self.runner
        runner.call_hook("before_train_epoch")
        runner.model.train()
        iterator, start = self._data_iterator()
        for idx, data_batch in enumerate(iterator, start):
            self.run_iter(idx, data_batch)
            if self.stop_training:
                break
        self._after_pass = True
        runner.call_hook("after_train_epoch")
        self._after_pass = False
        self._epoch += 1

    def run_iter(self, idx: int, data_batch) -> None:
        runner = self.runner
        runner.call_hook("before_train_iter", batch_idx=idx, data_batch=data_batch)
        outputs = runner.model.train_step(data_batch, optim_wrapper=runner.optim_wrapper)
        self._inner = idx
        runner.call_hook("after_train_iter", batch_idx=idx, data_batch=data_batch, outputs=outputs)
        self._inner = None
        self._iter += 1


class IterBasedTrainLoop(_TrainLoopMixin, BaseLoop):
    """Runs ``max_iters`` iterations, cycling through the data; ``epoch`` counts completed passes."""

    by_epoch = False

    def __init__(
        self, runner, dataloader, max_iters: int, val_begin: int = 1, val_interval: int = 1000, dynamic_intervals=None
    ):
        super().__init__(runner, dataloader)
        if not isinstance(max_iters, int) or max_iters < 1:
            raise ValueError(f"IterBasedTrainLoop: max_iters must be a positive int, got {max_iters!r}")
        self._max_iters = max_iters
        try:
            self._pass_len = len(self.dataloader)
        except TypeError:
            self._pass_len = None
        self._max_epochs = 1 if self._pass_len is None else -(-max_iters // max(self._pass_len, 1))
        self._after_pass = False
        self._pass_inner = 0
        self._init_train(val_begin, val_interval, dynamic_intervals)

    def state_for_checkpoint(self) -> dict:
        state = super().state_for_checkpoint()
        # the position inside the current pass over the data, not inside a notional epoch
        state["epoch"] = self._epoch
        inner = self._pass_inner + (1 if self._inner is not None else 0)
        state["inner_iter"] = inner
        if inner and self._pass_rng is not None:
            state["pass_rng_state"] = self._pass_rng
        else:
            state.pop("pass_rng_state", None)
        return state

    def _set_pass_epoch(self) -> None:
        loader = self.dataloader
        for obj in (getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None)):
            if obj is not None and hasattr(obj, "set_epoch"):
                obj.set_epoch(self._epoch)

    def run(self):
        runner = self.runner
        runner.call_hook("before_train")
        runner.call_hook("before_train_epoch")
        runner.model.train()
        self._set_pass_epoch()
        resume_inner = self._resume["inner"] if self._resume else 0
        iterator, _ = self._data_iterator()
        self._pass_inner = resume_inner
        while self._iter < self._max_iters and not self.stop_training:
            try:
                data_batch = next(iterator)
            except StopIteration:
                self._epoch += 1
                self._pass_inner = 0
                self._set_pass_epoch()
                iterator, _ = self._data_iterator()
                data_batch = next(iterator)
            self.run_iter(data_batch)
            self._update_val_interval(self._iter)
            if self._should_validate(self._iter, self._max_iters):
                runner.val_loop.run()
                runner.model.train()
        runner.call_hook("after_train_epoch")
        runner.call_hook("after_train")
        return runner.model

    def run_iter(self, data_batch) -> None:
        runner = self.runner
        idx = self._iter
        runner.call_hook("before_train_iter", batch_idx=idx, data_batch=data_batch)
        outputs = runner.model.train_step(data_batch, optim_wrapper=runner.optim_wrapper)
        self._inner = idx
        runner.call_hook("after_train_iter", batch_idx=idx, data_batch=data_batch, outputs=outputs)
        self._inner = None
        self._pass_inner += 1
        self._iter += 1


def _autocast(fp16: bool | str, device: torch.device):
    if not fp16:
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if fp16 == "bfloat16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


class _EvalLoop(BaseLoop):
    mode = "val"

    def __init__(self, runner, dataloader, evaluator, fp16: bool | str = False):
        super().__init__(runner, dataloader)
        if fp16 not in (False, True, "float16", "bfloat16"):
            raise ValueError(f"{type(self).__name__}: fp16 must be a bool, 'float16' or 'bfloat16', got {fp16!r}")
        if isinstance(evaluator, dict | list):
            evaluator = runner.build_evaluator(evaluator)
        self.evaluator = evaluator
        meta = _dataset_meta(self.dataloader)
        if meta is not None:
            self.evaluator.dataset_meta = meta
            visualizer = getattr(runner, "visualizer", None)
            if visualizer is not None and visualizer.dataset_meta is None:
                visualizer.dataset_meta = meta
        self.fp16 = fp16

    def run(self) -> dict:
        runner = self.runner
        mode = self.mode
        # evaluation must not perturb the training random streams (exact resume depends on it)
        rng = get_rng_state()
        was_training = runner.model.training
        runner.call_hook(f"before_{mode}")
        runner.call_hook(f"before_{mode}_epoch")
        runner.model.eval()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        runner.call_hook(f"after_{mode}_epoch", metrics=metrics)
        runner.call_hook(f"after_{mode}")
        runner.model.train(was_training)
        set_rng_state(rng)
        return metrics

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch) -> None:
        runner = self.runner
        mode = self.mode
        runner.call_hook(f"before_{mode}_iter", batch_idx=idx, data_batch=data_batch)
        with _autocast(self.fp16, runner.device):
            step = runner.model.val_step if mode == "val" else runner.model.test_step
            outputs = step(data_batch)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        runner.call_hook(f"after_{mode}_iter", batch_idx=idx, data_batch=data_batch, outputs=outputs)


class ValLoop(_EvalLoop):
    mode = "val"


class TestLoop(_EvalLoop):
    mode = "test"
