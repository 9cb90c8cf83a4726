"""A bounded series of logged values with window statistics."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable

import numpy as np


class HistoryBuffer:
    """Keeps the last ``max_length`` values of a scalar and the count (batch size) each one stands for.

    ``mean(window)`` is weighted by nothing: it is the plain mean of the last ``window`` values, as in MMEngine;
    ``update_scalars(dict(value=v, count=n))`` records ``n`` for custom statistics.
    """

    _statistics_methods: dict[str, Callable] = {}

    def __init__(self, log_history=(), count_history=(), max_length: int = 1_000_000):
        if int(max_length) < 1:
            raise ValueError(f"HistoryBuffer: max_length must be >= 1, got {max_length}")
        log_history, count_history = list(log_history), list(count_history)
        if len(log_history) != len(count_history):
            raise ValueError(
                f"HistoryBuffer: log_history ({len(log_history)}) and count_history ({len(count_history)}) "
                "must have the same length"
            )
        self.max_length = int(max_length)
        # deques drop the oldest value in O(1) once max_length is reached
        self._log = deque((float(v) for v in log_history), maxlen=self.max_length)
        self._count = deque((float(c) for c in count_history), maxlen=self.max_length)

    def update(self, log_val, count=1) -> None:
        if type(log_val) is float and type(count) is int:  # the hot path: timings and .item()-ed losses
            self._log.append(log_val)
            self._count.append(float(count))
            return
        if hasattr(log_val, "item"):
            log_val = log_val.item()
        if hasattr(count, "item"):
            count = count.item()
        if not isinstance(log_val, (int, float)) or not isinstance(count, (int, float)):
            raise TypeError(
                f"HistoryBuffer.update: log_val and count must be numbers, got {type(log_val).__name__} and "
                f"{type(count).__name__}"
            )
        self._log.append(float(log_val))
        self._count.append(float(count))

    @property
    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return np.fromiter(self._log, np.float64, len(self._log)), np.fromiter(
            self._count, np.float64, len(self._count)
        )

    def __len__(self) -> int:
        return len(self._log)

    def _window(self, window_size):
        if window_size is None:
            return list(self._log)
        window_size = int(window_size)
        if window_size < 1:
            raise ValueError(f"HistoryBuffer: window_size must be >= 1, got {window_size}")
        return list(itertools.islice(reversed(self._log), window_size))

    def _require_values(self, what: str):
        if not self._log:
            raise ValueError(f"HistoryBuffer.{what}: the buffer is empty")

    def mean(self, window_size=None) -> float:
        self._require_values("mean")
        values = self._window(window_size)
        return sum(values) / len(values)

    def max(self, window_size=None) -> float:
        self._require_values("max")
        return max(self._window(window_size))

    def min(self, window_size=None) -> float:
        self._require_values("min")
        return min(self._window(window_size))

    def current(self) -> float:
        self._require_values("current")
        return self._log[-1]

    @classmethod
    def register_statistics(cls, method: Callable) -> Callable:
        """Registers ``method(buffer, *args)`` so that ``buffer.statistics(method.__name__, *args)`` calls it."""
        cls._statistics_methods[method.__name__] = method
        return method

    def statistics(self, method_name: str, *args, **kwargs):
        builtin = {"mean": self.mean, "max": self.max, "min": self.min, "current": self.current}
        if method_name in builtin:
            return builtin[method_name](*args, **kwargs)
        if method_name in self._statistics_methods:
            return self._statistics_methods[method_name](self, *args, **kwargs)
        known = sorted([*builtin, *self._statistics_methods])
        raise KeyError(f"HistoryBuffer.statistics: unknown method {method_name!r}; known: {known}")

    def state_dict(self) -> dict:
        return {"log": list(self._log), "count": list(self._count), "max_length": self.max_length}

    @classmethod
    def from_state_dict(cls, state: dict) -> HistoryBuffer:
        return cls(state["log"], state["count"], state.get("max_length", 1_000_000))

    def __repr__(self) -> str:
        return f"HistoryBuffer(len={len(self)}, max_length={self.max_length})"
