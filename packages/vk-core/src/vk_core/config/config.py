"""``Config``: a loaded config file (or dict) with attribute access, merging, dumping and diffing."""

from __future__ import annotations

import copy
import difflib
import importlib
import os
import warnings
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from .config_dict import ConfigDict, close_matches_hint, to_config_dict
from .errors import ConfigError
from .interpolation import resolve_interpolations
from .loader import FORMATS, Loader, merge_into, resolve_path

RESERVED_KEYS = ("filename", "text", "pretty_text", "env_variables")


class Config:
    """A config: ``Config(dict)``, ``Config.fromfile(path)`` or ``Config.fromstring(text, '.py')``.

    Keys are read as attributes or items (``cfg.model.backbone`` / ``cfg['model']``). ``pretty_text`` is
    Python that reloads to an equal config; ``dump`` writes ``.py``, ``.json`` or ``.yaml``.
    """

    def __init__(
        self, cfg_dict: Mapping | None = None, cfg_text: str | None = None, filename: str | Path | None = None
    ):
        if cfg_dict is None:
            cfg_dict = {}
        elif not isinstance(cfg_dict, Mapping):
            raise TypeError(f"Config(cfg_dict) takes a dict, got {type(cfg_dict).__name__}")
        for key in cfg_dict:
            if key in RESERVED_KEYS:
                raise KeyError(f"{key!r} is a reserved name for Config attributes and cannot be a config key")
        object.__setattr__(self, "_cfg_dict", to_config_dict(dict(cfg_dict)))
        object.__setattr__(self, "_filename", None if filename is None else str(filename))
        if cfg_text is None:
            cfg_text = ""
            if filename is not None and os.path.isfile(filename):
                with open(filename, encoding="utf-8") as f:
                    cfg_text = f.read()
        object.__setattr__(self, "_text", cfg_text)

    # ------------------------------------------------------------------ constructors
    @staticmethod
    def fromfile(
        filename: str | Path,
        use_predefined_variables: bool = True,
        import_custom_modules: bool = True,
        use_environment_variables: bool = True,
        lazy_import: bool | None = None,
    ) -> Config:
        """Load a ``.py``, ``.json`` or ``.yaml`` config with its ``_base_`` files.

        ``filename`` may be ``'pkg::path/in/configs.py'`` for a config shipped inside an installed package.
        ``lazy_import`` is accepted for MMEngine compatibility; pure-Python configs are recognised by their
        ``with read_base():`` block.
        """
        filename = str(filename)
        path = resolve_path(filename, None)
        loader = Loader(use_predefined_variables, use_environment_variables)
        loaded = loader.load_file(path)
        return Config._from_loaded(loaded, path, import_custom_modules)

    @staticmethod
    def fromstring(cfg_str: str, file_format: str) -> Config:
        """Load config text; ``file_format`` is ``'.py'``, ``'.json'``, ``'.yaml'`` or ``'.yml'``.

        Relative ``_base_`` paths are relative to the working directory; ``{{fileDirname}}``-style variables
        are not available (there is no file).
        """
        if not isinstance(cfg_str, str):
            raise TypeError(f"Config.fromstring takes text (str), got {type(cfg_str).__name__}")
        fmt = FORMATS.get(file_format if file_format.startswith(".") else f".{file_format}")
        if fmt is None:
            raise ConfigError(f"unsupported file_format {file_format!r}; use '.py', '.json', '.yaml' or '.yml'")
        loaded = Loader().load_text(cfg_str, fmt, None)
        return Config._from_loaded(loaded, None, True)

    @staticmethod
    def _from_loaded(loaded, path: str | None, import_custom_modules: bool) -> Config:
        cfg = resolve_interpolations(loaded.cfg, path)
        text = (
            "\n".join(f"# {name}\n{body}" for name, body in loaded.texts)
            if len(loaded.texts) > 1
            else (loaded.texts[0][1] if loaded.texts else "")
        )
        config = Config(cfg, cfg_text=text, filename=path)
        if import_custom_modules and config._cfg_dict.get("custom_imports"):
            import_custom(config._cfg_dict["custom_imports"], path or "<string>")
        return config

    # ------------------------------------------------------------------ properties
    @property
    def filename(self) -> str | None:
        return self._filename

    @property
    def text(self) -> str:
        """The text of the file(s) read, each base headed by a ``# path`` line."""
        return self._text

    @property
    def pretty_text(self) -> str:
        """Python source of this config; loading it gives an equal config."""
        from .render import to_python_text

        return to_python_text(self._cfg_dict)

    # ------------------------------------------------------------------ dict behaviour
    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not real attributes. Before __init__/__setstate__ ran (unpickling,
        # copying) there is no _cfg_dict yet and every lookup must fail plainly.
        cfg_dict = self.__dict__.get("_cfg_dict")
        if cfg_dict is None or name.startswith("__"):
            raise AttributeError(name)
        try:
            return cfg_dict[name]
        except KeyError:
            raise AttributeError(
                f"config{f' {self._filename}' if self._filename else ''} has no key {name!r}"
                f"{close_matches_hint(name, self._cfg_dict.keys())}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") and name in ("_cfg_dict", "_filename", "_text"):
            object.__setattr__(self, name, value)
        else:
            self._cfg_dict[name] = value

    def __delattr__(self, name: str) -> None:
        del self._cfg_dict[name]

    def __getitem__(self, key: Any) -> Any:
        return self._cfg_dict[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._cfg_dict[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._cfg_dict[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._cfg_dict

    def __iter__(self) -> Iterator:
        return iter(self._cfg_dict)

    def __len__(self) -> int:
        return len(self._cfg_dict)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Config):
            return self._cfg_dict == other._cfg_dict
        if isinstance(other, Mapping):
            return self._cfg_dict == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def keys(self):
        return self._cfg_dict.keys()

    def values(self):
        return self._cfg_dict.values()

    def items(self):
        return self._cfg_dict.items()

    def get(self, key: Any, default: Any = None) -> Any:
        return self._cfg_dict.get(key, default)

    def pop(self, key: Any, *default: Any) -> Any:
        return self._cfg_dict.pop(key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return self._cfg_dict.setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._cfg_dict.update(*args, **kwargs)

    def to_dict(self) -> dict:
        return self._cfg_dict.to_dict()

    def copy(self) -> Config:
        return Config._raw(self._cfg_dict.copy(), self._text, self._filename)

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> Config:
        return Config._raw(copy.deepcopy(self._cfg_dict, memo), self._text, self._filename)

    @staticmethod
    def _raw(cfg_dict: ConfigDict, text: str, filename: str | None) -> Config:
        new = object.__new__(Config)
        object.__setattr__(new, "_cfg_dict", cfg_dict)
        object.__setattr__(new, "_text", text)
        object.__setattr__(new, "_filename", filename)
        return new

    def __getstate__(self) -> tuple:
        return (self._cfg_dict, self._text, self._filename)

    def __setstate__(self, state: tuple) -> None:
        cfg_dict, text, filename = state
        object.__setattr__(self, "_cfg_dict", cfg_dict)
        object.__setattr__(self, "_text", text)
        object.__setattr__(self, "_filename", filename)

    def __repr__(self) -> str:
        return f"Config [path: {self._filename}]: {self._cfg_dict!r}"

    # ------------------------------------------------------------------ editing
    def merge_from_dict(self, options: Mapping, allow_list_keys: bool = True) -> None:
        """Merge dotted-key options: ``{'model.backbone.depth': 101, 'pipeline.1.scale': [1, 2]}``.

        A dict value merges into an existing dict; with ``allow_list_keys`` an integer part indexes a list.
        ``${a.b}`` references in the new values are resolved against the merged config.
        """
        if not isinstance(options, Mapping):
            raise TypeError(f"merge_from_dict takes a dict of 'dotted.key': value, got {type(options).__name__}")
        nested: dict = {}
        for full_key, value in options.items():
            if not isinstance(full_key, str) or not full_key or any(not p for p in full_key.split(".")):
                raise ConfigError(f"merge_from_dict: bad key {full_key!r}; expected a dotted key such as 'a.b.c'")
            target = nested
            parts = full_key.split(".")
            for part in parts[:-1]:
                existing = target.setdefault(part, {})
                if not isinstance(existing, dict):
                    raise ConfigError(f"merge_from_dict: {full_key!r} conflicts with another option setting {part!r}")
                target = existing
            target[parts[-1]] = copy.deepcopy(value)
        where = "merge_from_dict"
        # Merge into a copy so that a bad option leaves the config unchanged.
        merged = merge_into(nested, copy.deepcopy(self._cfg_dict), where, allow_list_keys=allow_list_keys)
        if any("${" in repr(v) for v in options.values()):
            resolve_interpolations(merged, self._filename)
        object.__setattr__(self, "_cfg_dict", to_config_dict(dict(merged)))

    # ------------------------------------------------------------------ output
    def dump(self, file: str | Path | None = None) -> str | None:
        """Write the config to ``file`` (format from its extension) or return the text.

        Without a file the text is in the format of the file the config was read from (Python otherwise).
        """
        from .render import to_json_text, to_python_text, to_yaml_text

        if file is None:
            ext = os.path.splitext(self._filename)[1].lower() if self._filename else ".py"
        else:
            ext = os.path.splitext(str(file))[1].lower()
        fmt = FORMATS.get(ext)
        if fmt is None:
            raise ConfigError(f"cannot dump to {file!r}: use a .py, .json, .yaml or .yml file name")
        render = {"py": to_python_text, "json": to_json_text, "yaml": to_yaml_text}[fmt]
        text = render(self._cfg_dict)
        if file is None:
            return text
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        with open(file, "w", encoding="utf-8") as f:
            f.write(text)
        return None

    @staticmethod
    def diff(a: Config | Mapping, b: Config | Mapping, a_name: str | None = None, b_name: str | None = None) -> str:
        """A unified diff of the two configs' ``pretty_text``; empty when they are equal."""
        a_cfg = a if isinstance(a, Config) else Config(a)
        b_cfg = b if isinstance(b, Config) else Config(b)
        lines = difflib.unified_diff(
            a_cfg.pretty_text.splitlines(keepends=True),
            b_cfg.pretty_text.splitlines(keepends=True),
            fromfile=a_name or a_cfg.filename or "a",
            tofile=b_name or b_cfg.filename or "b",
        )
        return "".join(lines)


# A Config is used wherever a dict is expected (build functions, ``dict(cfg)``, ``**cfg``).
MutableMapping.register(Config)


def import_custom(custom_imports: Any, where: str) -> list:
    """Import ``custom_imports = dict(imports=[...], allow_failed_imports=False)``; returns the modules."""
    if not isinstance(custom_imports, Mapping):
        raise ConfigError(f"{where}: custom_imports must be dict(imports=[...]), got {custom_imports!r}")
    unknown = set(custom_imports) - {"imports", "allow_failed_imports"}
    if unknown:
        raise ConfigError(
            f"{where}: custom_imports accepts 'imports' and 'allow_failed_imports', got {sorted(unknown)}"
        )
    names = custom_imports.get("imports", [])
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}: custom_imports.imports must be a list of module names, got {names!r}")
    allow_failed = custom_imports.get("allow_failed_imports", False)
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as exc:
            if allow_failed:
                warnings.warn(f"{where}: custom_imports: {name!r} failed to import and is skipped: {exc}", stacklevel=2)
                modules.append(None)
            else:
                raise ImportError(f"{where}: custom_imports: failed to import {name!r}: {exc}", name=name) from exc
    return modules
