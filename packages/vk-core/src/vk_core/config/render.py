"""Turning a config dict back into text: Python (``pretty_text``), JSON and YAML.

The Python renderer is hand-written (no code formatter): a value that fits on one line within the width is
written inline, otherwise its items go one per line with a trailing comma. Dicts whose keys are all
identifiers are written ``dict(k=v)``, others as ``{'k': v}``. Classes and functions are written as their
names with ``from module import name`` lines at the top, so the text reloads to an equal config.
"""

from __future__ import annotations

import importlib
import json
import keyword
import math
import types
import unicodedata
from typing import Any

from .config_dict import to_plain

WIDTH = 120
INDENT = "    "


class RenderError(ValueError):
    """A value that cannot be written in the requested format (the message names the key)."""


def _path_str(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def _is_identifier(key: Any) -> bool:
    # Python NFKC-normalises identifiers ("Ĳ" reads back as "IJ"), so only normalised ones are safe as names.
    return (
        isinstance(key, str)
        and key.isidentifier()
        and not keyword.iskeyword(key)
        and (key.isascii() or unicodedata.normalize("NFKC", key) == key)
    )


class _Imports:
    """The ``from module import name`` lines needed by the classes and functions found in a config."""

    def __init__(self, reserved: set[str]):
        self.reserved = set(reserved)
        self.by_object: dict[int, str] = {}
        self.lines: list[str] = []

    def name_for(self, obj: Any, path: tuple) -> str:
        known = self.by_object.get(id(obj))
        if known is not None:
            return known
        module = getattr(obj, "__module__", None)
        qualname = getattr(obj, "__qualname__", None)
        if not module or not qualname or "<" in qualname:
            raise RenderError(
                f"{_path_str(path)}: {obj!r} cannot be written as Python text: only module-level classes and "
                f"functions can (it has no importable name)"
            )
        if module == "builtins":
            top = qualname.split(".")[0]
            if top not in self.reserved:
                self.by_object[id(obj)] = qualname
                return qualname
        try:
            found = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError):
            found = None
        if found is not obj:
            raise RenderError(
                f"{_path_str(path)}: {obj!r} cannot be written as Python text: {module}.{qualname} does not "
                f"import back to the same object (classes defined inside a config file cannot be dumped)"
            )
        top = qualname.split(".")[0]
        alias = top
        n = 1
        while alias in self.reserved:
            alias = f"_{top}_{n}"
            n += 1
        self.reserved.add(alias)
        if alias == top:
            self.lines.append(f"from {module} import {top}")
        else:
            self.lines.append(f"from {module} import {top} as {alias}")
        name = alias + qualname[len(top) :]
        self.by_object[id(obj)] = name
        return name


def escape_text(text: str) -> str:
    """Protect a string value from the loader's text substitutions, so that it reloads unchanged.

    ``${`` becomes ``$${`` (the interpolation escape); ``{{`` is written with an escaped second brace by the
    callers (``\\x7b`` in Python and YAML, ``\\u007b`` in JSON), so no ``{{...}}`` variable is seen.
    """
    return text.replace("${", "$${") if "${" in text else text


def _float_text(value: float) -> str:
    if math.isinf(value):
        return "float('inf')" if value > 0 else "float('-inf')"
    if math.isnan(value):
        return "float('nan')"
    return repr(value)


def _py_str(value: str, interpolated: bool = True) -> str:
    text = repr(escape_text(value) if interpolated else value)
    # repr never writes a backslash escape for "{", so "{{" in its output is two literal braces.
    return text.replace("{{", "{\\x7b") if "{{" in text else text


class _PyRenderer:
    def __init__(self, imports: _Imports):
        self.imports = imports
        # Containers are rendered inline once and reused when an enclosing block is expanded (the config is
        # alive during rendering, so ids are stable).
        self.memo: dict[int, str] = {}

    def inline(self, value: Any, path: tuple) -> str:
        if isinstance(value, (dict, list, tuple)):
            known = self.memo.get(id(value))
            if known is None:
                known = self.memo[id(value)] = self._inline(value, path)
            return known
        return self._inline(value, path)

    def _inline(self, value: Any, path: tuple) -> str:
        if value is None or value is True or value is False:
            return repr(value)
        if isinstance(value, str):
            return _py_str(value)
        if isinstance(value, bool):
            return repr(bool(value))
        if isinstance(value, int):
            return repr(int(value))
        if isinstance(value, float):
            return _float_text(float(value))
        if isinstance(value, dict):
            if all(_is_identifier(k) for k in value):
                items = ", ".join(f"{k}={self.inline(v, (*path, k))}" for k, v in value.items())
                return f"dict({items})"
            items = ", ".join(f"{self.key_text(k, path)}: {self.inline(v, (*path, k))}" for k, v in value.items())
            return "{" + items + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.inline(v, (*path, i)) for i, v in enumerate(value)) + "]"
        if isinstance(value, tuple):
            if type(value) is not tuple:
                raise RenderError(f"{_path_str(path)}: named tuples ({type(value).__name__}) cannot be written")
            body = ", ".join(self.inline(v, (*path, i)) for i, v in enumerate(value))
            return f"({body},)" if len(value) == 1 else f"({body})"
        if isinstance(value, (set, frozenset)):
            if not value:
                return "set()" if isinstance(value, set) else "frozenset()"
            body = "{" + ", ".join(sorted(self.inline(v, (*path, "<set item>")) for v in value)) + "}"
            return body if isinstance(value, set) else f"frozenset({body})"
        if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)) or (
            callable(value) and hasattr(value, "__qualname__")
        ):
            return self.imports.name_for(value, path)
        raise RenderError(
            f"{_path_str(path)}: a value of type {type(value).__name__} ({value!r:.60}) cannot be written as "
            f"config text; use numbers, strings, booleans, None, lists, tuples, dicts, classes or functions"
        )

    def key_text(self, key: Any, path: tuple) -> str:
        if isinstance(key, str):
            return _py_str(key, interpolated=False)
        if isinstance(key, (int, float, bool)) or key is None:
            return repr(key)
        if isinstance(key, tuple):
            return self.inline(key, path)
        raise RenderError(f"{_path_str(path)}: a dict key of type {type(key).__name__} cannot be written")

    def block(self, value: Any, path: tuple, indent: str, prefix: str, suffix: str) -> list[str]:
        """Lines for ``prefix + value + suffix`` at ``indent``, expanded when it does not fit on one line."""
        text = self.inline(value, path)
        if len(indent) + len(prefix) + len(text) + len(suffix) <= WIDTH or not isinstance(value, (dict, list, tuple)):
            return [f"{indent}{prefix}{text}{suffix}"]
        inner = indent + INDENT
        if isinstance(value, dict):
            if all(_is_identifier(k) for k in value):
                opening, closing = "dict(", ")"
                lines = [f"{indent}{prefix}{opening}"]
                for k, v in value.items():
                    lines += self.block(v, (*path, k), inner, f"{k}=", ",")
            else:
                opening, closing = "{", "}"
                lines = [f"{indent}{prefix}{opening}"]
                for k, v in value.items():
                    lines += self.block(v, (*path, k), inner, f"{self.key_text(k, path)}: ", ",")
        else:
            opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
            lines = [f"{indent}{prefix}{opening}"]
            for i, v in enumerate(value):
                lines += self.block(v, (*path, i), inner, "", ",")
        lines.append(f"{indent}{closing}{suffix}")
        return lines


def to_python_text(cfg: dict) -> str:
    """Python source that, executed as a config file, gives ``cfg`` back."""
    for key in cfg:
        if not _is_identifier(key):
            raise RenderError(
                f"top-level key {key!r} is not a Python identifier, so it cannot be a variable of a .py config; "
                f"dump to .json or .yaml instead, or rename the key"
            )
    imports = _Imports(set(cfg))
    renderer = _PyRenderer(imports)
    body: list[str] = []
    for key, value in cfg.items():
        body += renderer.block(value, (key,), "", f"{key} = ", "")
    head = "\n".join(imports.lines)
    return (head + "\n\n" if head else "") + "\n".join(body) + "\n"


def _check_data(value: Any, path: tuple, fmt: str) -> None:
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise RenderError(f"{_path_str(path)}: {fmt} keys must be strings, got {k!r}")
            _check_data(v, (*path, k), fmt)
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_data(v, (*path, i), fmt)
        return
    raise RenderError(
        f"{_path_str(path)}: a value of type {type(value).__name__} ({value!r:.60}) cannot be written to {fmt}; "
        f"dump to .py instead"
    )


def _escape_values(value: Any) -> Any:
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {k: _escape_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_values(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_escape_values(v) for v in value)
    return value


def to_json_text(cfg: dict) -> str:
    """JSON text (tuples become lists: JSON has no tuple)."""
    _check_data(cfg, (), "JSON")
    text = json.dumps(_escape_values(to_plain(cfg)), indent=4, ensure_ascii=False) + "\n"
    # With indent, "{{" can only occur inside strings.
    return text.replace("{{", "{\\u007b")


def _yaml():
    import yaml

    return yaml


_yaml_classes: tuple | None = None


def yaml_dumper_loader():
    """A safe YAML dumper and loader that keep tuples (tagged ``!!python/tuple``)."""
    global _yaml_classes
    if _yaml_classes is None:
        yaml = _yaml()
        base_dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        base_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class Dumper(base_dumper):
            pass

        class Loader(base_loader):
            pass

        def represent_str(dumper, data):
            # Strings with "{{" are double-quoted so that the brace can be escaped after dumping.
            style = '"' if "{{" in data else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

        def represent_tuple(dumper, data):
            return dumper.represent_sequence("tag:yaml.org,2002:python/tuple", data, flow_style=True)

        def construct_tuple(loader, node):
            return tuple(loader.construct_sequence(node, deep=True))

        Dumper.add_representer(tuple, represent_tuple)
        Dumper.add_representer(str, represent_str)
        Loader.add_constructor("tag:yaml.org,2002:python/tuple", construct_tuple)
        _yaml_classes = (Dumper, Loader)
    return _yaml_classes


def to_yaml_text(cfg: dict) -> str:
    _check_data(cfg, (), "YAML")
    dumper, _ = yaml_dumper_loader()
    text = _yaml().dump(
        _escape_values(to_plain(cfg)), Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    # Only double-quoted scalars hold "{{" (see represent_str), where \x7b is a valid escape.
    return text.replace("{{", "{\\x7b")
