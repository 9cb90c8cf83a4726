"""Reading config files: text substitutions, ``_base_`` inheritance, ``read_base()`` imports and merging.

A file is read in these steps:

1. text substitutions: ``{{fileDirname}}``-style predefined variables, ``{{$NAME:default}}`` environment
   variables, and ``{{_base_.a.b}}`` references (replaced by placeholder strings, resolved after parsing);
2. parsing: ``.py`` files are executed as Python (with ``_base_`` bound to the merged base config),
   ``.json``/``.yaml`` files are parsed as data;
3. inheritance: base files are loaded recursively and the file's values are merged into them.
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import itertools
import json
import os
import re
import types
import warnings
from dataclasses import dataclass, field
from typing import Any

from .config_dict import close_matches_hint, to_config_dict
from .errors import ConfigError, ConfigSyntaxError

BASE_KEY = "_base_"
DELETE_KEY = "_delete_"
DEPRECATION_KEY = "_deprecation_"
FORMATS = {".py": "py", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}

_PREDEFINED_RE = re.compile(r"\{\{\s*(fileDirname|fileBasename|fileBasenameNoExtension|fileExtname)\s*\}\}")
_ENV_RE = re.compile(r"\{\{\s*\$(\w+)\s*(?::([^{}]*?))?\s*\}\}")
_BASE_REF_RE = re.compile(r"\{\{\s*_base_\.([\w.]+)\s*\}\}")
_UNKNOWN_VAR_RE = re.compile(r"\{\{\s*([A-Za-z_$][\w.]*)\s*\}\}")
_PLACEHOLDER_RE = re.compile(r"_vk_base_ref_\d+_[0-9a-f]{8}")
_placeholder_ids = itertools.count()


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _where(filename: str, line: int | None = None) -> str:
    return f"{filename}, line {line}" if line else filename


def package_config_path(package: str, relative: str) -> str:
    """The file ``relative`` inside the ``configs`` folder shipped in the installed package ``package``."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"'{package}::{relative}': no installed package named {package!r} ships configs")
    root = list(spec.submodule_search_locations)[0]
    return os.path.join(root, "configs", relative)


def resolve_path(entry: str, relative_to: str | None) -> str:
    """A config path as written (``'./a.py'``, ``'/abs/a.py'``, ``'vk_det::x/y.py'``) made absolute."""
    if "::" in entry:
        package, _, relative = entry.partition("::")
        return os.path.normpath(package_config_path(package, relative))
    base_dir = os.path.dirname(relative_to) if relative_to else os.getcwd()
    return os.path.normpath(os.path.join(base_dir, os.path.expanduser(entry)))


@dataclass
class Loaded:
    """One loaded file: its merged values and the texts of every file read, in load order."""

    cfg: dict
    texts: list[tuple[str, str]] = field(default_factory=list)


class _BaseRefs:
    """``{{_base_.a.b}}`` references of one file, replaced in the text by unique placeholder strings."""

    def __init__(self, filename: str):
        self.filename = filename
        self.refs: dict[str, tuple[str, int]] = {}

    def substitute(self, text: str) -> str:
        def repl(match: re.Match) -> str:
            token = f"_vk_base_ref_{next(_placeholder_ids)}_{os.urandom(4).hex()}"
            self.refs[token] = (match.group(1), _line_of(text, match.start()))
            return f'"{token}"'

        return _BASE_REF_RE.sub(repl, text)

    def lookup(self, token: str, base: dict) -> Any:
        ref, line = self.refs[token]
        value: Any = base
        walked = "_base_"
        for part in ref.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif (
                isinstance(value, (list, tuple))
                and part.lstrip("-").isdigit()
                and -len(value) <= int(part) < len(value)
            ):
                value = value[int(part)]
            else:
                hint = close_matches_hint(part, value.keys()) if isinstance(value, dict) else ""
                if not base:
                    reason = "this file has no _base_"
                elif isinstance(value, dict):
                    reason = f"{walked} has no key {part!r}{hint}"
                else:
                    reason = f"{walked} is a {type(value).__name__}, it has no item {part!r}"
                raise ConfigError(f"{_where(self.filename, line)}: {{{{_base_.{ref}}}}} cannot be resolved: {reason}")
            walked += f".{part}"
        return copy.deepcopy(value)

    def resolve(self, value: Any, base: dict) -> Any:
        if not self.refs:
            return value
        if isinstance(value, str):
            if value in self.refs:
                return self.lookup(value, base)
            leftover = _PLACEHOLDER_RE.search(value)
            if leftover and leftover.group(0) in self.refs:
                ref, line = self.refs[leftover.group(0)]
                raise ConfigError(
                    f"{_where(self.filename, line)}: {{{{_base_.{ref}}}}} must be a whole value, not part of a "
                    f"string; in a .py config write _base_.{ref} in an expression instead"
                )
            return value
        if isinstance(value, dict):
            for k, v in value.items():
                value[k] = self.resolve(v, base)
            return value
        if isinstance(value, list):
            return [self.resolve(v, base) for v in value]
        if isinstance(value, tuple):
            return tuple(self.resolve(v, base) for v in value)
        return value


def strip_delete(value: Any, where: str, path: str) -> Any:
    """Drop ``_delete_`` flags from dicts that have nothing to delete; reject them inside lists."""
    if isinstance(value, dict):
        if DELETE_KEY in value:
            flag = value.pop(DELETE_KEY)
            if not isinstance(flag, bool):
                raise ConfigError(f"{where}: {path}._delete_ must be True or False, got {flag!r}")
        for k, v in value.items():
            value[k] = strip_delete(v, where, f"{path}.{k}")
        return value
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if isinstance(item, dict) and DELETE_KEY in item:
                raise ConfigError(
                    f"{where}: {path}[{i}] has _delete_, which has no effect inside a list: a list in a child "
                    f"config always replaces the base list whole. Remove _delete_ there."
                )
            strip_delete(item, where, f"{path}[{i}]")
        return value
    return value


def merge_into(child: dict, base: dict, where: str, prefix: str = "", allow_list_keys: bool = False) -> dict:
    """Merge ``child`` into ``base`` in place and return it (MMEngine's rules).

    A dict merges into a dict key by key; ``_delete_=True`` in a child dict replaces the base dict; any other
    value replaces. With ``allow_list_keys``, a dict with integer keys (``{'0': ...}``) edits list items.
    """
    for key, value in child.items():
        path = f"{prefix}{key}"
        if not isinstance(value, dict):
            base[key] = strip_delete(value, where, path)
            continue
        delete = value.get(DELETE_KEY, False)
        if not isinstance(delete, bool):
            raise ConfigError(f"{where}: {path}._delete_ must be True or False, got {delete!r}")
        current = base.get(key)
        if delete or key not in base or current is None:
            base[key] = strip_delete(dict(value), where, path)
        elif isinstance(current, dict):
            rest = {k: v for k, v in value.items() if k != DELETE_KEY}
            base[key] = merge_into(rest, current, where, f"{path}.", allow_list_keys)
        elif allow_list_keys and isinstance(current, list):
            base[key] = _merge_into_list(value, current, where, path)
        else:
            kind = type(current).__name__
            if where == "merge_from_dict":
                fix = f"set {path!r} itself instead of keys below it"
            else:
                fix = f"to replace the base value, add _delete_=True to this dict, e.g. {key}=dict(_delete_=True, ...)"
            raise ConfigError(
                f"{where}: {path!r} is a dict here but {'an' if kind[0] in 'aeiou' else 'a'} {kind} in the base "
                f"config ({current!r:.80}); a dict only merges into a dict: {fix}"
            )
    return base


def _merge_into_list(edits: dict, current: list, where: str, path: str) -> list:
    out = list(current)
    for k, v in edits.items():
        if k == DELETE_KEY:
            raise ConfigError(f"{where}: {path}: _delete_ cannot be used to edit list items")
        try:
            index = int(k)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{where}: {path} is a list of {len(out)} items, so the key after it must be an index, got {k!r}"
            ) from None
        if not -len(out) <= index < len(out):
            raise ConfigError(f"{where}: {path}.{k}: index {index} is out of range for a list of {len(out)} items")
        item = out[index]
        if isinstance(v, dict) and isinstance(item, dict) and not v.get(DELETE_KEY, False):
            out[index] = merge_into(
                {kk: vv for kk, vv in v.items() if kk != DELETE_KEY}, item, where, f"{path}.{k}.", True
            )
        elif isinstance(v, dict) and isinstance(item, list):
            out[index] = _merge_into_list(v, item, where, f"{path}.{k}")
        else:
            out[index] = strip_delete(v, where, f"{path}.{k}") if isinstance(v, (dict, list)) else v
    return out


def _is_read_base(node: ast.stmt) -> bool:
    if not isinstance(node, ast.With) or len(node.items) != 1:
        return False
    call = node.items[0].context_expr
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "read_base") or (
        isinstance(func, ast.Attribute) and func.attr == "read_base"
    )


def _names_bound_by_imports_and_defs(tree: ast.Module) -> set[str]:
    """Module-level names bound by import statements or def/class (also inside if/try/with blocks)."""
    names: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)  # their bodies bind local names only
        elif isinstance(node, ast.stmt):
            pending.extend(
                child for child in ast.iter_child_nodes(node) if isinstance(child, (ast.stmt, ast.excepthandler))
            )
        elif isinstance(node, ast.excepthandler):
            pending.extend(node.body)
    return names


def _uses_name(tree: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree))


class Loader:
    """Loads one config file with its bases. One instance per top-level load (it tracks the chain)."""

    def __init__(self, use_predefined_variables: bool = True, use_environment_variables: bool = True):
        self.use_predefined_variables = use_predefined_variables
        self.use_environment_variables = use_environment_variables

    # ------------------------------------------------------------------ entry points
    def load_file(self, filename: str, chain: tuple[str, ...] = (), asked_by: str | None = None) -> Loaded:
        filename = os.path.abspath(filename)
        if filename in chain:
            cycle = " -> ".join([*chain[chain.index(filename) :], filename])
            raise ConfigError(f"cycle of _base_ configs: {cycle}")
        ext = os.path.splitext(filename)[1].lower()
        if ext not in FORMATS:
            raise ConfigError(
                f"{filename}: unsupported config extension {ext!r}; use .py, .json, .yaml or .yml"
                + (f" (asked for by {asked_by})" if asked_by else "")
            )
        try:
            with open(filename, encoding="utf-8-sig") as f:
                text = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(
                f"config file not found: {filename}" + (f" (asked for by {asked_by})" if asked_by else "")
            ) from None
        return self.load_text(text, FORMATS[ext], filename, (*chain, filename))

    def load_text(self, text: str, fmt: str, filename: str | None, chain: tuple[str, ...] = ()) -> Loaded:
        shown = filename or "<string>"
        text = self._substitute_variables(text, filename, shown)
        refs = _BaseRefs(shown)
        text = refs.substitute(text)
        if fmt == "py":
            return self._load_py(text, filename, shown, chain, refs)
        return self._load_data(text, fmt, filename, shown, chain, refs)

    # ------------------------------------------------------------------ text substitution
    def _substitute_variables(self, text: str, filename: str | None, shown: str) -> str:
        if "{{" not in text:
            return text
        if self.use_predefined_variables:
            if filename is None:
                match = _PREDEFINED_RE.search(text)
                if match:
                    raise ConfigError(
                        f"{_where(shown, _line_of(text, match.start()))}: {{{{{match.group(1)}}}}} needs a file; "
                        f"a config read from a string has none"
                    )
            else:
                base = os.path.basename(filename)
                values = {
                    "fileDirname": os.path.dirname(filename),
                    "fileBasename": base,
                    "fileBasenameNoExtension": os.path.splitext(base)[0],
                    "fileExtname": os.path.splitext(base)[1],
                }
                text = _PREDEFINED_RE.sub(lambda m: values[m.group(1)], text)
        if self.use_environment_variables:

            def env(match: re.Match) -> str:
                name, default = match.group(1), match.group(2)
                if name in os.environ:
                    return os.environ[name]
                if default is None:
                    raise ConfigError(
                        f"{_where(shown, _line_of(text, match.start()))}: environment variable {name!r} is not "
                        f"set and {{{{${name}}}}} gives no default; set it or write {{{{${name}:default}}}}"
                    )
                return default

            text = _ENV_RE.sub(env, text)
        for match in _UNKNOWN_VAR_RE.finditer(text):
            var = match.group(1)
            known = ["fileDirname", "fileBasename", "fileBasenameNoExtension", "fileExtname"]
            if var.startswith(("_base_.", "$")) or var in known:
                continue
            raise ConfigError(
                f"{_where(shown, _line_of(text, match.start()))}: unknown variable {{{{{var}}}}}"
                f"{close_matches_hint(var, known)} Known: {', '.join('{{' + k + '}}' for k in known)}, "
                f"{{{{$ENV_NAME:default}}}} and {{{{_base_.key}}}}"
            )
        return text

    # ------------------------------------------------------------------ bases
    def _load_bases(self, entries: Any, filename: str | None, shown: str, line: int | None, chain) -> Loaded:
        if isinstance(entries, str):
            entries = [entries]
        if not isinstance(entries, (list, tuple)) or not all(isinstance(e, str) for e in entries):
            raise ConfigError(f"{_where(shown, line)}: _base_ must be a path or a list of paths, got {entries!r}")
        merged: dict = {}
        owner: dict[str, str] = {}
        texts: list[tuple[str, str]] = []
        for entry in entries:
            path = resolve_path(entry, filename)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{_where(shown, line)}: base config {entry!r} not found (looked for {path})")
            loaded = self.load_file(path, chain, asked_by=shown)
            texts += loaded.texts
            for key in loaded.cfg:
                if key in merged:
                    raise ConfigError(
                        f"{shown}: key {key!r} is defined by two base configs, {owner[key]} and {path}; a key may "
                        f"come from only one base. Remove it from one of them, or merge them into one base."
                    )
                owner[key] = path
            merged.update(loaded.cfg)
        return Loaded(merged, texts)

    def _finish(self, own: dict, base: Loaded | None, refs: _BaseRefs, shown: str) -> dict:
        base_cfg = base.cfg if base is not None else {}
        own = refs.resolve(own, base_cfg)
        if DELETE_KEY in own:
            raise ConfigError(
                f"{shown}: _delete_ belongs inside a dict that replaces a base dict, e.g. "
                f"model = dict(_delete_=True, ...), not at the top level of a config"
            )
        deprecation = own.pop(DEPRECATION_KEY, None)
        if deprecation is not None:
            self._warn_deprecated(deprecation, shown)
        return merge_into(own, base_cfg, shown)

    @staticmethod
    def _warn_deprecated(info: Any, shown: str) -> None:
        if not isinstance(info, dict):
            raise ConfigError(f"{shown}: _deprecation_ must be a dict(expected=..., reference=...), got {info!r}")
        unknown = set(info) - {"expected", "reference"}
        if unknown:
            raise ConfigError(f"{shown}: _deprecation_ accepts only 'expected' and 'reference', got {sorted(unknown)}")
        message = f"The config file {shown} will be deprecated in the future."
        if info.get("expected"):
            message += f" Please use {info['expected']} instead."
        if info.get("reference"):
            message += f" More information can be found at {info['reference']}"
        warnings.warn(message, UserWarning, stacklevel=2)

    # ------------------------------------------------------------------ data files
    def _load_data(self, text: str, fmt: str, filename, shown: str, chain, refs: _BaseRefs) -> Loaded:
        if fmt == "json":
            try:
                data = json.loads(text) if text.strip() else {}
            except json.JSONDecodeError as exc:
                raise ConfigSyntaxError(
                    f"{shown}, line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}", shown, exc.lineno
                ) from None
        else:
            import yaml

            from .render import yaml_dumper_loader

            try:
                data = yaml.load(text, Loader=yaml_dumper_loader()[1])
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 1 if mark is not None else None
                problem = getattr(exc, "problem", None) or str(exc)
                raise ConfigSyntaxError(f"{_where(shown, line)}: invalid YAML: {problem}", shown, line) from None
            if data is None:
                data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{shown}: the top level of a config must be a mapping, got {type(data).__name__}")
        base = None
        if BASE_KEY in data:
            found = text.find(BASE_KEY)
            line = _line_of(text, found) if found >= 0 else None
            base = self._load_bases(data.pop(BASE_KEY), filename, shown, line, chain)
        cfg = self._finish(data, base, refs, shown)
        texts = (base.texts if base else []) + [(shown, text)]
        return Loaded(cfg, texts)

    # ------------------------------------------------------------------ python files
    def _load_py(self, text: str, filename, shown: str, chain, refs: _BaseRefs) -> Loaded:
        try:
            tree = ast.parse(text, filename=shown)
        except SyntaxError as exc:
            raise ConfigSyntaxError(
                f"{shown}, line {exc.lineno}: invalid Python syntax: {exc.msg}"
                + (f"\n    {exc.text.rstrip()}" if exc.text else ""),
                shown,
                exc.lineno,
            ) from None

        base_entries = None
        base_line = None
        read_base_blocks: list[ast.With] = []
        body: list[ast.stmt] = []
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == BASE_KEY
            ):
                try:
                    base_entries = ast.literal_eval(node.value)
                except ValueError:
                    raise ConfigError(
                        f"{_where(shown, node.lineno)}: _base_ must be a literal path or list of paths"
                    ) from None
                base_line = node.lineno
            elif _is_read_base(node):
                read_base_blocks.append(node)
            else:
                body.append(node)
        if base_entries is not None and read_base_blocks:
            raise ConfigError(
                f"{_where(shown, base_line)}: use either _base_ = ... or `with read_base():` imports, not both"
            )
        tree.body = body

        namespace: dict[str, Any] = {"__file__": filename or "<string>", "__name__": "__vk_config__"}
        texts: list[tuple[str, str]] = []
        base = None
        if base_entries is not None:
            base = self._load_bases(base_entries, filename, shown, base_line, chain)
            texts += base.texts
            if _uses_name(tree, BASE_KEY):
                namespace[BASE_KEY] = to_config_dict(copy.deepcopy(base.cfg))
        elif refs.refs:
            token = next(iter(refs.refs))
            raise ConfigError(
                f"{_where(shown, refs.refs[token][1])}: {{{{_base_.{refs.refs[token][0]}}}}} is used but this "
                f"file has no _base_"
            )
        for block in read_base_blocks:
            texts += self._import_read_base(block, filename, shown, chain, namespace)

        excluded = _names_bound_by_imports_and_defs(tree)
        code = compile(tree, shown, "exec")
        exec(code, namespace)

        own = {}
        for key, value in namespace.items():
            if key.startswith("__") or key == BASE_KEY or key in excluded:
                continue
            if isinstance(value, (types.ModuleType, types.FunctionType)):
                continue
            own[key] = value
        if read_base_blocks:
            # Pure-Python configs edit their bases in place; there is nothing left to merge.
            if DEPRECATION_KEY in own:
                self._warn_deprecated(own.pop(DEPRECATION_KEY), shown)
            cfg = own
        else:
            cfg = self._finish(own, base, refs, shown)
        texts.append((shown, text))
        return Loaded(cfg, texts)

    def _import_read_base(self, block: ast.With, filename, shown: str, chain, namespace: dict) -> list:
        texts: list[tuple[str, str]] = []
        for node in block.body:
            if not isinstance(node, ast.ImportFrom):
                raise ConfigError(
                    f"{_where(shown, node.lineno)}: only `from <config module> import ...` statements may appear "
                    f"inside `with read_base():`"
                )
            path = self._read_base_path(node, filename, shown)
            loaded = self.load_file(path, chain, asked_by=shown)
            texts += loaded.texts
            for alias in node.names:
                if alias.name == "*":
                    for key, value in loaded.cfg.items():
                        if not key.startswith("_"):
                            namespace[key] = to_config_dict(value)
                    continue
                if alias.name not in loaded.cfg:
                    raise ConfigError(
                        f"{_where(shown, node.lineno)}: base config {path} has no variable {alias.name!r}"
                        f"{close_matches_hint(alias.name, loaded.cfg)}"
                    )
                namespace[alias.asname or alias.name] = to_config_dict(loaded.cfg[alias.name])
        return texts

    @staticmethod
    def _read_base_path(node: ast.ImportFrom, filename, shown: str) -> str:
        parts = node.module.split(".") if node.module else []
        if node.level > 0:
            base_dir = os.path.dirname(filename) if filename else os.getcwd()
            for _ in range(node.level - 1):
                base_dir = os.path.dirname(base_dir)
            if not parts:
                raise ConfigError(
                    f"{_where(shown, node.lineno)}: write `from .name import *` (a config file), not `from . import`"
                )
            path = os.path.join(base_dir, *parts) + ".py"
        else:
            try:
                spec = importlib.util.find_spec(parts[0])
            except (ImportError, ValueError):
                spec = None
            if spec is None or not spec.submodule_search_locations:
                raise ConfigError(f"{_where(shown, node.lineno)}: no installed package {parts[0]!r} for {node.module}")
            path = os.path.join(list(spec.submodule_search_locations)[0], *parts[1:]) + ".py"
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{_where(shown, node.lineno)}: base config module {'.' * node.level}{node.module or ''} not found "
                f"(looked for {path})"
            )
        return path
