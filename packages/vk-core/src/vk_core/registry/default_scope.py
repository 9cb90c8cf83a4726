"""The default scope: which package's registries a string ``type`` is looked up in first.

It is explicit global state, set by the runner from ``cfg.default_scope`` or by ``DefaultScope.using(name)``.
The API mirrors MMEngine's ``DefaultScope`` (``get_instance``, ``get_current_instance``,
``overwrite_default_scope``) so that code written for MMEngine keeps working.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.RLock()
_counter = itertools.count()


class DefaultScope:
    """A named holder of a scope name; the most recently created instance is the current one."""

    # Insertion order matters: the last instance created is the current scope.
    _instances: dict[str, DefaultScope] = {}

    def __init__(self, name: str, scope_name: str):
        if not isinstance(name, str) or not name:
            raise TypeError(f"DefaultScope name must be a non-empty str, got {name!r}")
        if not isinstance(scope_name, str) or not scope_name:
            raise TypeError(f"DefaultScope scope_name must be a non-empty str such as 'vk_det', got {scope_name!r}")
        self.instance_name = name
        self._scope_name = scope_name

    @property
    def scope_name(self) -> str:
        return self._scope_name

    def __repr__(self) -> str:
        return f"DefaultScope(name={self.instance_name!r}, scope_name={self._scope_name!r})"

    @classmethod
    def get_instance(cls, name: str, scope_name: str | None = None) -> DefaultScope:
        """The instance called ``name``; with ``scope_name`` it is also made the current default scope.

        Creating a new instance makes it current (as in MMEngine). Asking again for an existing name with a
        ``scope_name`` makes it current again, so two runners in one process each get their own scope back; a
        different ``scope_name`` for an existing name replaces its scope with a warning.
        """
        with _lock:
            instance = cls._instances.get(name)
            if instance is None:
                if scope_name is None:
                    raise ValueError(f"DefaultScope {name!r} does not exist yet: pass scope_name to create it")
                instance = cls(name, scope_name)
            elif scope_name is None:
                return instance
            elif scope_name != instance.scope_name:
                warnings.warn(
                    f"DefaultScope {name!r} had scope {instance.scope_name!r}; it now has scope {scope_name!r}",
                    stacklevel=2,
                )
                instance = cls(name, scope_name)
            cls._instances.pop(name, None)
            cls._instances[name] = instance
            return instance

    @classmethod
    def check_instance_created(cls, name: str) -> bool:
        return name in cls._instances

    @classmethod
    def get_current_instance(cls) -> DefaultScope | None:
        """The most recently created instance, or None when no default scope was ever set."""
        with _lock:
            if not cls._instances:
                return None
            return next(reversed(cls._instances.values()))

    @classmethod
    def current_scope_name(cls) -> str | None:
        current = cls.get_current_instance()
        return None if current is None else current.scope_name

    @classmethod
    @contextmanager
    def overwrite_default_scope(cls, scope_name: str | None) -> Iterator[None]:
        """Make ``scope_name`` the default scope inside the block; ``None`` changes nothing."""
        if scope_name is None:
            yield
            return
        name = f"overwrite-{next(_counter)}"
        with _lock:
            cls._instances[name] = cls(name, scope_name)
        try:
            yield
        finally:
            with _lock:
                cls._instances.pop(name, None)

    # The name DESIGN uses: ``with DefaultScope.using('vk_det'): ...``
    using = overwrite_default_scope

    @classmethod
    def _reset_for_tests(cls) -> None:
        with _lock:
            cls._instances.clear()
