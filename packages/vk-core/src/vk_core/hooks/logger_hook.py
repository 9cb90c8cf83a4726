"""``LoggerHook``: writes log lines, records scalars through the visualizer, shows progress on a terminal."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from vk_core.hooks.hook import Hook, built_train_loop


class _Progress:
    """A rich progress bar, only when stdout is a terminal (plain log lines otherwise)."""

    def __init__(self):
        self._progress = None
        self._task = None

    def start(self, description: str, total: int) -> None:
        if not sys.stdout.isatty() or total <= 0:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.stop()
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
        )
        self._progress.start()
        self._task = self._progress.add_task(description, total=total)

    def advance(self, completed: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=completed)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class LoggerHook(Hook):
    """Every ``interval`` iterations, formats the logs with ``runner.log_processor``, prints them through the
    runner's logger and records the scalars (``vis_data/scalars.json`` with the local backend).

    ``out_dir`` receives copies of the log files ending in ``out_suffix`` after the run (joined with the last
    component of ``work_dir``, as CheckpointHook does); ``keep_local=False`` removes the originals.
    """

    priority = "BELOW_NORMAL"

    def __init__(
        self,
        interval: int = 10,
        ignore_last: bool = True,
        interval_exp_name: int = 1000,
        out_dir: str | None = None,
        out_suffix=(".json", ".log", ".py", ".yaml"),
        keep_local: bool = True,
        log_metric_by_epoch: bool = True,
        backend_args: dict | None = None,
        progress: bool | None = None,
    ):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f"LoggerHook: interval must be a positive int, got {interval!r}")
        if out_dir is None and not keep_local:
            raise ValueError("LoggerHook: keep_local=False needs an out_dir, otherwise the logs would be lost")
        if isinstance(out_suffix, str):
            out_suffix = (out_suffix,)
        self.interval = interval
        self.ignore_last = ignore_last
        self.interval_exp_name = interval_exp_name
        self.out_dir = out_dir
        self.out_suffix = tuple(s if s.startswith(".") else "." + s for s in out_suffix)
        self.keep_local = keep_local
        self.log_metric_by_epoch = log_metric_by_epoch
        self._progress_enabled = progress
        self._bar = _Progress()
        self._by_epoch = True

    def _bar_on(self) -> bool:
        return self._progress_enabled if self._progress_enabled is not None else sys.stdout.isatty()

    def before_run(self, runner) -> None:
        if self.out_dir is not None:
            self.out_dir = str(Path(self.out_dir) / Path(runner.work_dir).name)
        self.json_log_path = f"{runner.timestamp}.json"

    def before_train_epoch(self, runner) -> None:
        if self._bar_on() and getattr(built_train_loop(runner), "by_epoch", False):
            self._bar.start(f"epoch {runner.epoch + 1}/{runner.max_epochs}", len(runner.train_dataloader))

    def before_val_epoch(self, runner) -> None:
        if self._bar_on():
            self._bar.start("val", len(runner.val_dataloader))

    def before_test_epoch(self, runner) -> None:
        if self._bar_on():
            self._bar.start("test", len(runner.test_dataloader))

    def before_train(self, runner) -> None:
        self._by_epoch = bool(getattr(built_train_loop(runner), "by_epoch", False))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        # runs every iteration: keep the common path to a few integer operations
        if self._bar._progress is not None:
            self._bar.advance(batch_idx + 1)
        done = runner.iter + 1
        if done % self.interval_exp_name == 0 or (self._by_epoch and batch_idx == 0 and runner.epoch == 0):
            runner.logger.info(f"Exp name: {runner.experiment_name}")
        if self._by_epoch:
            due = (batch_idx + 1) % self.interval == 0
            if not due and not self.ignore_last:
                due = self.end_of_epoch(runner.train_dataloader, batch_idx)
        else:
            due = done % self.interval == 0
        if not due:
            return
        tag, log_str = runner.log_processor.get_log_after_iter(runner, batch_idx, "train")
        runner.logger.info(log_str)
        runner.visualizer.add_scalars(tag, step=done, file_path=self.json_log_path)

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._bar.advance(batch_idx + 1)
        if self.every_n_inner_iters(batch_idx, self.interval):
            _, log_str = runner.log_processor.get_log_after_iter(runner, batch_idx, "val")
            runner.logger.info(log_str)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._bar.advance(batch_idx + 1)
        if self.every_n_inner_iters(batch_idx, self.interval):
            _, log_str = runner.log_processor.get_log_after_iter(runner, batch_idx, "test")
            runner.logger.info(log_str)

    def after_train_epoch(self, runner) -> None:
        self._bar.stop()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._bar.stop()
        tag, log_str = runner.log_processor.get_log_after_epoch(runner, len(runner.val_dataloader) - 1, "val")
        runner.logger.info(log_str)
        by_epoch = getattr(built_train_loop(runner), "by_epoch", False)
        step = runner.epoch if (self.log_metric_by_epoch and by_epoch) else runner.iter
        runner.visualizer.add_scalars(tag, step=step, file_path=self.json_log_path)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._bar.stop()
        tag, log_str = runner.log_processor.get_log_after_epoch(runner, len(runner.test_dataloader) - 1, "test")
        runner.logger.info(log_str)

    def after_run(self, runner) -> None:
        self._bar.stop()
        runner.visualizer.close()
        if self.out_dir is None:
            return
        os.makedirs(self.out_dir, exist_ok=True)
        for path in Path(runner.log_dir).rglob("*"):
            if path.is_file() and path.name.endswith(self.out_suffix):
                target = Path(self.out_dir) / path.relative_to(runner.log_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                if not self.keep_local:
                    path.unlink()
