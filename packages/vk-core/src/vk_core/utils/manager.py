"""Named global instances (the MMEngine ``ManagerMixin`` pattern) for loggers, message hubs and visualizers."""

from __future__ import annotations

import threading
from collections import OrderedDict

_lock = threading.RLock()


class ManagerMixin:
    """Gives a class a table of named instances and a notion of "the current one" (the last created or fetched).

    Subclasses keep their own table: ``VkLogger.get_instance('a')`` and ``MessageHub.get_instance('a')`` differ.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._instance_dict = OrderedDict()

    def __init__(self, name: str = "", **kwargs):
        if not isinstance(name, str) or not name:
            raise ValueError(f"{type(self).__name__}: instance name must be a non-empty str, got {name!r}")
        self._instance_name = name

    @classmethod
    def get_instance(cls, name: str, **kwargs):
        """Returns the instance called ``name``, creating it with ``kwargs`` on first use; it becomes current."""
        with _lock:
            if not isinstance(name, str):
                raise TypeError(f"{cls.__name__}.get_instance: name must be a str, got {type(name).__name__}")
            instances = cls._instance_dict
            if name not in instances:
                instances[name] = cls(name=name, **kwargs)
            else:
                instances.move_to_end(name)
            return instances[name]

    @classmethod
    def get_current_instance(cls):
        """Returns the most recently created or fetched instance; raises if none exists yet."""
        with _lock:
            if not cls._instance_dict:
                raise RuntimeError(
                    f"no {cls.__name__} instance has been created yet; call {cls.__name__}.get_instance(name) first"
                )
            return next(reversed(cls._instance_dict.values()))

    @classmethod
    def check_instance_created(cls, name: str) -> bool:
        return name in cls._instance_dict

    @property
    def instance_name(self) -> str:
        return self._instance_name
