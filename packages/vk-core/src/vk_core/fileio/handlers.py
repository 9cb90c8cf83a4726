"""Serialisation handlers for load/dump: json, yaml, pickle; more via register_handler."""

from __future__ import annotations

import json
import pickle
from typing import Any

import numpy as np


class BaseFileHandler:
    """``str_like`` handlers read and write text, the others bytes."""

    name = "base"
    str_like = True

    def load_from_fileobj(self, file, **kwargs: Any) -> Any:
        raise NotImplementedError

    def dump_to_fileobj(self, obj: Any, file, **kwargs: Any) -> None:
        file.write(self.dump_to_str(obj, **kwargs))

    def dump_to_str(self, obj: Any, **kwargs: Any):
        raise NotImplementedError


def _json_default(obj: Any):
    # numpy scalars and arrays turn up in annotation and result files; write them as plain JSON.
    if isinstance(obj, (set, range)):
        return list(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


class JsonHandler(BaseFileHandler):
    name = "json"

    def load_from_fileobj(self, file, **kwargs):
        return json.load(file, **kwargs)

    def dump_to_str(self, obj, **kwargs):
        kwargs.setdefault("default", _json_default)
        return json.dumps(obj, **kwargs)


class YamlHandler(BaseFileHandler):
    name = "yaml"

    def load_from_fileobj(self, file, **kwargs):
        import yaml

        kwargs.setdefault("Loader", getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return yaml.load(file, **kwargs)

    def dump_to_str(self, obj, **kwargs):
        import yaml

        kwargs.setdefault("Dumper", getattr(yaml, "CSafeDumper", yaml.SafeDumper))
        kwargs.setdefault("sort_keys", False)
        return yaml.dump(obj, **kwargs)


class PickleHandler(BaseFileHandler):
    name = "pickle"
    str_like = False

    def load_from_fileobj(self, file, **kwargs):
        return pickle.load(file, **kwargs)

    def dump_to_str(self, obj, **kwargs):
        kwargs.setdefault("protocol", 2)
        return pickle.dumps(obj, **kwargs)


_HANDLERS: dict[str, BaseFileHandler] = {
    "json": JsonHandler(),
    "yaml": YamlHandler(),
    "yml": YamlHandler(),
    "pickle": PickleHandler(),
    "pkl": PickleHandler(),
}


def register_handler(file_formats: str | list[str], **kwargs: Any):
    """Decorator registering a BaseFileHandler subclass (instantiated with ``kwargs``) for the given formats."""
    formats = [file_formats] if isinstance(file_formats, str) else list(file_formats)
    if not formats or not all(isinstance(f, str) for f in formats):
        raise TypeError(f"register_handler: file_formats must be a str or list of str, got {file_formats!r}")

    def wrap(cls):
        if not (isinstance(cls, type) and issubclass(cls, BaseFileHandler)):
            raise TypeError(f"register_handler: {cls!r} must subclass BaseFileHandler")
        handler = cls(**kwargs)
        for f in formats:
            _HANDLERS[f] = handler
        return cls

    return wrap


def get_handler(file_format: str) -> BaseFileHandler:
    try:
        return _HANDLERS[file_format]
    except KeyError:
        raise ValueError(f"unsupported file format {file_format!r}; supported: {sorted(_HANDLERS)}") from None
