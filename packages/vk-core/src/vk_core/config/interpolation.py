"""``${a.b}`` interpolation: a string refers to another value of the same final config.

A string that is exactly ``${a.b}`` becomes a copy of that value (any type); ``${a.b}`` inside a longer string
is replaced by the value's text. ``$${`` writes a literal ``${``. References may chain; a cycle is an error.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .config_dict import close_matches_hint
from .errors import ConfigError

_REF_RE = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_FULL_RE = re.compile(r"\$\{([^{}]*)\}")


def _lookup(root: dict, ref: str, used_at: str) -> tuple[Any, tuple]:
    value: Any = root
    path: tuple = ()
    for part in ref.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
            path = (*path, part)
        elif isinstance(value, (list, tuple)) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
            path = (*path, int(part))
        else:
            where = ".".join(map(str, path)) or "the config"
            hint = close_matches_hint(part, value.keys()) if isinstance(value, dict) else ""
            raise ConfigError(f"{used_at}: ${{{ref}}} cannot be resolved: {where} has no {part!r}{hint}")
    return value, path


def _path_text(path: tuple) -> str:
    return ".".join(map(str, path)) or "<root>"


def resolve_interpolations(root: dict, filename: str | None = None) -> dict:
    """Replace every ``${...}`` reference in ``root`` in place; returns ``root``."""
    prefix = f"{filename}: " if filename else ""
    done: dict[tuple, Any] = {}

    def resolve_value(value: Any, path: tuple, stack: tuple) -> Any:
        if isinstance(value, str):
            if "${" not in value:
                return value
            return resolve_string(value, path, stack)
        if isinstance(value, dict):
            for k, v in value.items():
                value[k] = resolve_value(v, (*path, k), stack)
            return value
        if isinstance(value, list):
            for i, v in enumerate(value):
                value[i] = resolve_value(v, (*path, i), stack)
            return value
        if isinstance(value, tuple) and type(value) is tuple:
            return tuple(resolve_value(v, (*path, i), stack) for i, v in enumerate(value))
        return value

    def resolve_ref(ref: str, path: tuple, stack: tuple) -> Any:
        used_at = f"{prefix}{_path_text(path)}"
        target, target_path = _lookup(root, ref.strip(), used_at)
        if target_path in stack:
            chain = " -> ".join(_path_text(p) for p in (*stack[stack.index(target_path) :], target_path))
            raise ConfigError(f"{used_at}: ${{{ref}}} is part of a reference cycle: {chain}")
        if target_path not in done:
            done[target_path] = resolve_value(copy.deepcopy(target), target_path, (*stack, target_path))
        return copy.deepcopy(done[target_path])

    def resolve_string(text: str, path: tuple, stack: tuple) -> Any:
        stack = (*stack, path)
        full = _FULL_RE.fullmatch(text)
        if full:
            return resolve_ref(full.group(1), path, stack)

        def repl(match: re.Match) -> str:
            if match.group(0) == "$${":
                return "${"
            return str(resolve_ref(match.group(1), path, stack))

        return _REF_RE.sub(repl, text)

    resolve_value(root, (), ())
    return root
