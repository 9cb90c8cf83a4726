"""``ConfigDict``: a dict whose keys are also attributes, converting nested dicts as they are stored."""

from __future__ import annotations

import copy
import difflib
from typing import Any


def to_config_dict(value: Any) -> Any:
    """Recursively turn dicts (also inside lists and tuples) into ConfigDicts; other values are kept."""
    if isinstance(value, dict):
        if type(value) is ConfigDict:
            return value
        out = ConfigDict.__new__(ConfigDict)
        dict.update(out, {k: to_config_dict(v) for k, v in value.items()})
        return out
    if type(value) is list:
        return [to_config_dict(v) for v in value]
    if type(value) is tuple:
        return tuple(to_config_dict(v) for v in value)
    return value


def to_plain(value: Any) -> Any:
    """Recursively turn ConfigDicts (also inside lists and tuples) into plain dicts."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if type(value) is list:
        return [to_plain(v) for v in value]
    if type(value) is tuple:
        return tuple(to_plain(v) for v in value)
    return value


def close_matches_hint(key: str, candidates) -> str:
    names = [str(c) for c in candidates]
    close = difflib.get_close_matches(str(key), names, n=3, cutoff=0.6)
    close += [n for n in names if n.lower() == str(key).lower() and n not in close]
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


class ConfigDict(dict):
    """A dict with attribute access (``cfg.model.backbone.depth``).

    Nested dicts become ConfigDicts when stored. A missing attribute raises ``AttributeError`` naming close
    matches; a missing item raises ``KeyError`` as a dict does. ``update`` merges nested dicts recursively
    (as MMEngine's ConfigDict does), so ``model.update(backbone=dict(depth=101))`` keeps the other backbone keys.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()
        for key, value in dict(*args, **kwargs).items():
            dict.__setitem__(self, key, to_config_dict(value))

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, to_config_dict(value))

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            if name.startswith("__"):
                raise AttributeError(name) from None
            raise AttributeError(
                f"'ConfigDict' object has no attribute {name!r}{close_matches_hint(name, self.keys())}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"'ConfigDict' object has no attribute {name!r}") from None

    def __dir__(self):
        return list(super().__dir__()) + [k for k in self.keys() if isinstance(k, str)]

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Recursive update: a dict value merges into an existing dict value, anything else replaces."""
        for key, value in dict(*args, **kwargs).items():
            current = self.get(key)
            if isinstance(value, dict) and isinstance(current, ConfigDict):
                current.update(value)
            else:
                self[key] = value

    def copy(self) -> ConfigDict:
        out = ConfigDict.__new__(ConfigDict)
        dict.update(out, self)
        return out

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> ConfigDict:
        out = ConfigDict.__new__(ConfigDict)
        memo[id(self)] = out
        for key, value in self.items():
            dict.__setitem__(out, copy.deepcopy(key, memo), copy.deepcopy(value, memo))
        return out

    def __reduce__(self):
        return (ConfigDict, (dict(self),))

    def to_dict(self) -> dict:
        """A plain-dict deep conversion (lists and tuples are rebuilt, leaves are shared)."""
        return to_plain(self)
