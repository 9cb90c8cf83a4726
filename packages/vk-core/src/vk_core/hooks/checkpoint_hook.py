"""``CheckpointHook``: periodic, last and best checkpoints, with ``last_checkpoint`` kept atomic."""

from __future__ import annotations

import math
import os
from pathlib import Path

from vk_core.hooks.hook import Hook, built_train_loop

_GREATER_KEYS = ("acc", "top", "ar@", "auc", "precision", "map", "mdice", "miou", "macc", "aacc", "ap", "recall")
_LESS_KEYS = ("loss",)


class CheckpointHook(Hook):
    """Saves ``epoch_{N}.pth`` / ``iter_{N}.pth`` every ``interval`` epochs/iterations into ``work_dir`` (or
    ``out_dir/<last component of work_dir>``), the last one when ``save_last``, and the best ones by the metrics
    in ``save_best``. ``work_dir/last_checkpoint`` names the newest resumable checkpoint; it is rewritten only
    after the checkpoint itself is safely on disk.
    """

    priority = "VERY_LOW"
    _rule_map = {"greater": lambda x, y: x > y, "less": lambda x, y: x < y}
    _init_value = {"greater": -math.inf, "less": math.inf}

    def __init__(
        self,
        interval: int = -1,
        by_epoch: bool = True,
        save_optimizer: bool = True,
        save_param_scheduler: bool = True,
        out_dir: str | None = None,
        max_keep_ckpts: int = -1,
        save_last: bool = True,
        save_best=None,
        rule=None,
        greater_keys=None,
        less_keys=None,
        filename_tmpl: str | None = None,
        save_begin: int = 0,
        save_safetensors: bool = False,
        backend_args: dict | None = None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(f"CheckpointHook got unknown arguments {sorted(kwargs)}")
        if not isinstance(interval, int):
            raise TypeError(f"CheckpointHook: interval must be an int, got {interval!r}")
        if filename_tmpl is not None and filename_tmpl.count("{}") != 1:
            raise ValueError(f"CheckpointHook: filename_tmpl must contain exactly one '{{}}', got {filename_tmpl!r}")
        if save_begin < 0:
            raise ValueError(f"CheckpointHook: save_begin must be >= 0, got {save_begin}")
        self.interval = interval
        self.by_epoch = by_epoch
        self.save_optimizer = save_optimizer
        self.save_param_scheduler = save_param_scheduler
        self.out_dir = out_dir
        self.max_keep_ckpts = max_keep_ckpts
        self.save_last = save_last
        self.save_begin = save_begin
        self.save_safetensors = save_safetensors
        self.filename_tmpl = filename_tmpl or ("epoch_{}.pth" if by_epoch else "iter_{}.pth")

        if isinstance(save_best, str):
            save_best = [save_best]
        elif save_best is not None and not isinstance(save_best, list | tuple):
            raise TypeError(f"CheckpointHook: save_best must be None, a str or a list, got {save_best!r}")
        self.save_best = list(save_best) if save_best else []
        if "auto" in self.save_best and len(self.save_best) > 1:
            raise ValueError("CheckpointHook: save_best='auto' cannot be combined with other keys")
        if rule is None or isinstance(rule, str):
            rules = [rule] * len(self.save_best)
        else:
            rules = list(rule)
            if len(rules) == 1 and len(self.save_best) > 1:
                rules = rules * len(self.save_best)
        if self.save_best and len(rules) != len(self.save_best):
            raise ValueError(
                f"CheckpointHook: {len(rules)} rules for {len(self.save_best)} save_best keys; give one rule per key"
            )
        for r in rules:
            if r is not None and r not in self._rule_map:
                raise ValueError(f"CheckpointHook: rule must be 'greater', 'less' or None, got {r!r}")
        self.rules = rules
        self.greater_keys = tuple(k.lower() for k in (greater_keys or _GREATER_KEYS))
        self.less_keys = tuple(k.lower() for k in (less_keys or _LESS_KEYS))

    # ---- helpers ----------------------------------------------------------------------------------------------
    def _infer_rule(self, key: str) -> str:
        name = key.split("/")[-1].lower()
        if any(k in name for k in self.less_keys):
            return "less"
        if any(k in name for k in self.greater_keys):
            return "greater"
        raise ValueError(
            f"CheckpointHook: cannot infer whether a higher or lower {key!r} is better; pass rule='greater' or "
            "'less', or add it to greater_keys/less_keys"
        )

    def before_train(self, runner) -> None:
        if self.out_dir is None:
            self.out_dir = str(runner.work_dir)
        elif Path(self.out_dir).resolve() != Path(runner.work_dir).resolve():
            self.out_dir = str(Path(self.out_dir) / Path(runner.work_dir).name)
        os.makedirs(self.out_dir, exist_ok=True)

    def _due(self, runner, count: int, every: bool, last: bool) -> bool:
        if count < self.save_begin + 1 and not last:
            return False
        return (self.interval > 0 and every) or (self.save_last and last)

    def after_train_epoch(self, runner) -> None:
        if not self.by_epoch:
            return
        every = self.every_n_epochs(runner, self.interval, self.save_begin) if self.interval > 0 else False
        if self._due(runner, runner.epoch + 1, every, self.is_last_train_epoch(runner)):
            self._save(runner, runner.epoch + 1)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.by_epoch:
            return
        every = self.every_n_train_iters(runner, self.interval, self.save_begin) if self.interval > 0 else False
        if self._due(runner, runner.iter + 1, every, self.is_last_train_iter(runner)):
            self._save(runner, runner.iter + 1)

    def _save(self, runner, count: int) -> None:
        from vk_core.dist import is_main_process
        from vk_core.runner.checkpoint import save_safetensors, write_last_checkpoint

        filename = self.filename_tmpl.format(count)
        hub = runner.message_hub
        kept = list(hub.get_info("checkpoint_hook_kept", []))
        if filename not in kept:
            kept.append(filename)
        hub.update_info("checkpoint_hook_kept", kept)
        path = runner.save_checkpoint(
            self.out_dir,
            filename,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            by_epoch=self.by_epoch,
        )
        if not is_main_process():
            return
        write_last_checkpoint(runner.work_dir, path)
        if self.save_safetensors:
            save_safetensors(runner.model, Path(path).with_suffix(".safetensors"))
        if self.max_keep_ckpts > 0 and len(kept) > self.max_keep_ckpts:
            for old in kept[: -self.max_keep_ckpts]:
                for p in (Path(self.out_dir) / old, (Path(self.out_dir) / old).with_suffix(".safetensors")):
                    if p.is_file():
                        p.unlink()
            hub.update_info("checkpoint_hook_kept", kept[-self.max_keep_ckpts :])

    def after_val_epoch(self, runner, metrics=None) -> None:
        loop = built_train_loop(runner)
        if not self.save_best or not metrics or loop is None:
            return
        from vk_core.dist import is_main_process
        from vk_core.evaluator import get_metric_value

        keys = [next(iter(metrics))] if self.save_best == ["auto"] else self.save_best
        rules = self.rules if self.save_best != ["auto"] else [self.rules[0] if self.rules else None]
        hub = runner.message_hub
        by_epoch = getattr(loop, "by_epoch", self.by_epoch)
        stamp = f"epoch_{runner.epoch}" if by_epoch else f"iter_{runner.iter}"
        for key, rule in zip(keys, rules):
            rule = rule or self._infer_rule(key)
            value = float(get_metric_value(key, metrics))
            best = hub.get_info(f"best_score/{key}", self._init_value[rule])
            if not self._rule_map[rule](value, best):
                continue
            old = hub.get_info(f"best_ckpt/{key}")
            name = f"best_{key.replace('/', '_')}_{stamp}.pth"
            hub.update_info(f"best_score/{key}", value)
            hub.update_info(f"best_ckpt/{key}", str(Path(self.out_dir) / name))
            runner.save_checkpoint(
                self.out_dir, name, save_optimizer=False, save_param_scheduler=False, by_epoch=by_epoch
            )
            if is_main_process() and old and Path(old).is_file() and Path(old).name != name:
                Path(old).unlink()
            runner.logger.info(f"The best checkpoint with {value:.4f} {key} at {stamp} is saved to {name}.")
