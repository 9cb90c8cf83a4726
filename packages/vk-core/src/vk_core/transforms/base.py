"""BaseTransform: ``results`` dict in, ``results`` dict (or None to drop the sample) out."""

from __future__ import annotations

import functools
import inspect
from abc import ABCMeta, abstractmethod
from collections.abc import Callable


class BaseTransform(metaclass=ABCMeta):
    """Subclasses implement ``transform(results)``; calling the object runs it.

    ``repr`` lists the constructor arguments, read back from attributes of the same names (store each argument as
    ``self.<name>`` and the repr comes for free).
    """

    def __call__(self, results: dict) -> dict | None:
        return self.transform(results)

    @abstractmethod
    def transform(self, results: dict) -> dict | None:
        """Changes and returns ``results``; returning None drops the sample."""

    def __repr__(self) -> str:
        try:
            params = inspect.signature(type(self).__init__).parameters
        except (TypeError, ValueError):
            return f"{type(self).__name__}()"
        parts = []
        for name, p in params.items():
            if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if hasattr(self, name):
                parts.append(f"{name}={getattr(self, name)!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def cache_randomness(func: Callable) -> Callable:
    """Marks a method that draws random parameters (MMCV compatibility).

    vk runs it normally each call; the mark lets wrappers that must replay the same draw on several inputs find it.
    """
    if not callable(func):
        raise TypeError(f"cache_randomness decorates a method, got {func!r}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    wrapper.__cache_randomness__ = True
    return wrapper


def avoid_cache_randomness(cls: type) -> type:
    """Class decorator from MMCV, kept so ported transforms import cleanly; it changes nothing here."""
    return cls
