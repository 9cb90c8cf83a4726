"""Turns the message hub's scalars into the log line and the tag dict that the visualizer records."""

from __future__ import annotations

import datetime
import re

_METHODS = ("mean", "min", "max", "current")
_TIME_KEYS = ("time", "data_time")


class LogProcessorConfigError(ValueError, AssertionError):
    """Raised for a bad ``custom_cfg``; also an AssertionError for MMEngine compatibility."""


def _fmt_eta(seconds) -> str:
    return str(datetime.timedelta(seconds=int(seconds)))


class LogProcessor:
    """Formats training/validation/test logs.

    Train line (epoch-based)::

        Epoch(train) [1][ 50/500]  lr: 1.0000e-02  eta: 0:01:02  time: 0.1234  data_time: 0.0100  memory: 123  loss: 0.5000

    ``window_size`` smooths every scalar except learning rates (shown as current values). ``custom_cfg`` entries
    are ``dict(data_src, method_name|method, window_size=int|'global'|'epoch', log_name=None)``: without
    ``log_name`` they replace how ``data_src`` is shown, with it they add a new entry.
    """

    def __init__(
        self, window_size=10, by_epoch: bool = True, custom_cfg=None, num_digits: int = 4, log_with_hierarchy=False
    ):
        self.window_size = window_size
        self.by_epoch = by_epoch
        self.custom_cfg = [dict(c) for c in (custom_cfg or [])]
        self.num_digits = int(num_digits)
        self.log_with_hierarchy = log_with_hierarchy
        self._check_window(window_size, "window_size")
        self._check_custom_cfg()

    def _check_window(self, window, where: str) -> None:
        if window == "epoch" and not self.by_epoch:
            raise LogProcessorConfigError(f"LogProcessor {where}: window_size='epoch' needs by_epoch=True")
        if not (window in ("global", "epoch") or (isinstance(window, int) and window >= 1)):
            raise LogProcessorConfigError(
                f"LogProcessor {where}: window_size must be a positive int, 'global' or 'epoch', got {window!r}"
            )

    def _check_custom_cfg(self) -> None:
        overwritten = set()
        for i, cfg in enumerate(self.custom_cfg):
            where = f"custom_cfg[{i}]"
            if "data_src" not in cfg:
                raise LogProcessorConfigError(f"LogProcessor {where}: missing 'data_src' in {cfg}")
            if "method" in cfg and "method_name" not in cfg:
                cfg["method_name"] = cfg.pop("method")
            if cfg.get("method_name") not in _METHODS:
                raise LogProcessorConfigError(
                    f"LogProcessor {where}: method_name must be one of {_METHODS}, got {cfg.get('method_name')!r}"
                )
            self._check_window(cfg.setdefault("window_size", self.window_size), where)
            if cfg.get("log_name") is None:
                if cfg["data_src"] in overwritten:
                    raise LogProcessorConfigError(
                        f"LogProcessor {where}: {cfg['data_src']!r} is overwritten twice; give one of them a log_name"
                    )
                overwritten.add(cfg["data_src"])

    # ---- statistics -----------------------------------------------------------------------------------------
    def _window(self, window, batch_idx: int):
        if window == "global":
            return None
        if window == "epoch":
            return batch_idx + 1
        return window

    def _collect(self, scalars: dict, mode: str, batch_idx: int, default_method: str, window) -> dict:
        prefix = f"{mode}/"
        tag = {}
        for key, buf in scalars.items():
            if not key.startswith(prefix) or len(buf) == 0:
                continue
            name = key[len(prefix) :]
            if "lr" in name.split("/")[-1] or name.endswith("momentum"):
                tag[name] = buf.current()
            elif default_method == "current":
                tag[name] = buf.current()
            else:
                tag[name] = buf.mean(self._window(window, batch_idx))
        for cfg in self.custom_cfg:
            key = prefix + cfg["data_src"]
            if key not in scalars or len(scalars[key]) == 0:
                continue
            buf = scalars[key]
            name = cfg.get("log_name") or cfg["data_src"]
            if cfg["method_name"] == "current":
                tag[name] = buf.current()
            else:
                tag[name] = buf.statistics(cfg["method_name"], self._window(cfg["window_size"], batch_idx))
        return tag

    def _fmt_value(self, name: str, value) -> str:
        if isinstance(value, bool) or isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if re.search(r"(^|[_/])lr$", name) or name.endswith("lr"):
                return f"{value:.{self.num_digits}e}"
            return f"{value:.{self.num_digits}f}"
        return str(value)

    def _dataloader_len(self, runner, mode: str) -> int:
        loader = getattr(runner, f"{mode}_dataloader", None)
        try:
            return len(loader)
        except TypeError:
            return 0

    def _prefix(self, runner, batch_idx: int, mode: str) -> str:
        if mode == "train":
            if self.by_epoch:
                total = self._dataloader_len(runner, "train")
                return f"Epoch(train) [{runner.epoch + 1}][{batch_idx + 1:>{len(str(total))}}/{total}]"
            return f"Iter(train) [{runner.iter + 1:>{len(str(runner.max_iters))}}/{runner.max_iters}]"
        total = self._dataloader_len(runner, mode)
        counter = f"[{batch_idx + 1:>{len(str(total))}}/{total}]"
        if mode == "val" and self.by_epoch:
            return f"Epoch(val) [{runner.epoch}]{counter}"
        if mode == "val":
            return f"Iter(val) {counter}"
        return f"Epoch(test) {counter}" if self.by_epoch else f"Iter(test) {counter}"

    # ---- public API -----------------------------------------------------------------------------------------
    def get_log_after_iter(self, runner, batch_idx: int, mode: str) -> tuple[dict, str]:
        if mode not in ("train", "val", "test"):
            raise ValueError(f"LogProcessor: mode must be 'train', 'val' or 'test', got {mode!r}")
        hub = runner.message_hub
        tag = self._collect(hub.log_scalars, mode, batch_idx, "mean", self.window_size)
        if mode != "train":
            # metrics of the previous evaluation share the prefix; an iteration line shows timings only
            tag = {k: v for k, v in tag.items() if k in _TIME_KEYS}
        parts = [self._prefix(runner, batch_idx, mode)]
        ordered = []
        lr_names = [k for k in tag if k.split("/")[-1].endswith("lr")]
        ordered += lr_names
        eta = hub.get_info("eta") if mode == "train" else hub.get_info(f"{mode}_eta")
        items = [(name, self._fmt_value(name, tag[name])) for name in lr_names]
        if eta is not None:
            items.append(("eta", _fmt_eta(eta)))
        for name in _TIME_KEYS:
            if name in tag:
                ordered.append(name)
                items.append((name, self._fmt_value(name, tag[name])))
        memory = self._memory(runner)
        if memory is not None:
            tag["memory"] = memory
            ordered.append("memory")
            items.append(("memory", str(memory)))
        for name, value in tag.items():
            if name not in ordered:
                items.append((name, self._fmt_value(name, value)))
        parts += [f"{name}: {text}" for name, text in items]
        if mode == "train":
            tag["epoch"] = runner.epoch + 1 if self.by_epoch else runner.epoch
            tag["iter"] = runner.iter + 1
        return tag, "  ".join(parts)

    def get_log_after_epoch(self, runner, batch_idx: int, mode: str, with_non_scalar: bool = False) -> tuple[dict, str]:
        if mode not in ("val", "test"):
            raise ValueError(f"LogProcessor.get_log_after_epoch: mode must be 'val' or 'test', got {mode!r}")
        hub = runner.message_hub
        scalars = hub.log_scalars
        prefix = f"{mode}/"
        metrics = {}
        times = {}
        for key, buf in scalars.items():
            if not key.startswith(prefix) or len(buf) == 0:
                continue
            name = key[len(prefix) :]
            if name in _TIME_KEYS:
                times[name] = buf.mean(batch_idx + 1)
            else:
                metrics[name] = buf.current()
        tag = {**metrics, **times}
        parts = [self._prefix(runner, batch_idx, mode)]
        parts += [f"{name}: {self._fmt_value(name, value)}" for name, value in metrics.items()]
        if with_non_scalar:
            for name, value in hub.runtime_info.items():
                if name.startswith(prefix):
                    short = name[len(prefix) :]
                    tag[short] = value
                    parts.append(f"{short}: {value}")
        parts += [f"{name}: {self._fmt_value(name, value)}" for name, value in times.items()]
        return tag, "  ".join(parts)

    @staticmethod
    def _memory(runner) -> int | None:
        import torch

        device = getattr(runner, "device", None)
        if not torch.cuda.is_available() or (device is not None and torch.device(device).type != "cuda"):
            return None
        memory = torch.cuda.max_memory_allocated() / (1024 * 1024)
        torch.cuda.reset_peak_memory_stats()
        return int(memory)
