"""Storage backends: where bytes come from. Local disk (full API) and HTTP(S) (read-only)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class BaseStorageBackend:
    """A backend needs ``get`` (bytes) and ``get_text`` (str); everything else is optional.

    Methods a backend lacks raise ``NotImplementedError`` naming the backend and the method.
    """

    name = "base"

    def get(self, filepath: str | Path) -> bytes:
        raise NotImplementedError(f"{type(self).__name__} does not implement get")

    def get_text(self, filepath: str | Path, encoding: str = "utf-8") -> str:
        return self.get(filepath).decode(encoding)

    def _unsupported(self, method: str):
        raise NotImplementedError(f"{type(self).__name__} does not support {method}()")

    def put(self, obj: bytes, filepath) -> None:
        self._unsupported("put")

    def put_text(self, obj: str, filepath, encoding: str = "utf-8") -> None:
        self._unsupported("put_text")

    def exists(self, filepath) -> bool:
        self._unsupported("exists")

    def isdir(self, filepath) -> bool:
        self._unsupported("isdir")

    def isfile(self, filepath) -> bool:
        self._unsupported("isfile")

    def join_path(self, filepath, *filepaths) -> str:
        self._unsupported("join_path")

    def remove(self, filepath) -> None:
        self._unsupported("remove")

    def rmtree(self, dir_path) -> None:
        self._unsupported("rmtree")

    def copyfile(self, src, dst) -> str:
        self._unsupported("copyfile")

    def copytree(self, src, dst) -> str:
        self._unsupported("copytree")

    def list_dir_or_file(self, dir_path, list_dir=True, list_file=True, suffix=None, recursive=False):
        self._unsupported("list_dir_or_file")

    @contextmanager
    def get_local_path(self, filepath) -> Iterator[str]:
        self._unsupported("get_local_path")
        yield ""  # pragma: no cover


class LocalBackend(BaseStorageBackend):
    """Files on the local disk."""

    name = "local"

    def get(self, filepath) -> bytes:
        with open(filepath, "rb") as f:
            return f.read()

    def get_text(self, filepath, encoding: str = "utf-8") -> str:
        with open(filepath, encoding=encoding) as f:
            return f.read()

    def put(self, obj: bytes, filepath) -> None:
        if not isinstance(obj, (bytes, bytearray, memoryview)):
            raise TypeError(f"put({filepath}): expected bytes, got {type(obj).__name__}")
        Path(filepath).parent.mkdir(parents=True, exist_ok=True)
        with open(filepath, "wb") as f:
            f.write(obj)

    def put_text(self, obj: str, filepath, encoding: str = "utf-8") -> None:
        if not isinstance(obj, str):
            raise TypeError(f"put_text({filepath}): expected str, got {type(obj).__name__}")
        Path(filepath).parent.mkdir(parents=True, exist_ok=True)
        with open(filepath, "w", encoding=encoding) as f:
            f.write(obj)

    def exists(self, filepath) -> bool:
        return os.path.exists(filepath)

    def isdir(self, filepath) -> bool:
        return os.path.isdir(filepath)

    def isfile(self, filepath) -> bool:
        return os.path.isfile(filepath)

    def join_path(self, filepath, *filepaths) -> str:
        return os.path.join(filepath, *filepaths)

    def remove(self, filepath) -> None:
        if not os.path.exists(filepath):
            raise FileNotFoundError(f"remove: {filepath} does not exist")
        if os.path.isdir(filepath):
            raise IsADirectoryError(f"remove: {filepath} is a directory; use rmtree")
        os.remove(filepath)

    def rmtree(self, dir_path) -> None:
        shutil.rmtree(dir_path)

    def copyfile(self, src, dst) -> str:
        return shutil.copy(src, dst)

    def copytree(self, src, dst) -> str:
        return shutil.copytree(src, dst)

    def copy_if_symlink_fails(self, src, dst) -> bool:
        try:
            os.symlink(src, dst)
            return True
        except OSError:
            if os.path.isdir(src):
                self.copytree(src, dst)
            else:
                self.copyfile(src, dst)
            return False

    def list_dir_or_file(self, dir_path, list_dir=True, list_file=True, suffix=None, recursive=False):
        """Yields paths relative to ``dir_path``; ``suffix`` (str or tuple) only filters files."""
        if list_dir and suffix is not None:
            raise TypeError("list_dir_or_file: suffix must be None when listing directories")
        if suffix is not None and not isinstance(suffix, (str, tuple)):
            raise TypeError(f"list_dir_or_file: suffix must be a str or tuple of str, got {type(suffix).__name__}")
        root = str(dir_path)

        def scan(path: str):
            for entry in os.scandir(path):
                if entry.name.startswith("."):
                    continue
                rel = os.path.relpath(entry.path, root)
                if entry.is_file():
                    if list_file and (suffix is None or rel.endswith(suffix)):
                        yield rel
                elif entry.is_dir():
                    if list_dir:
                        yield rel
                    if recursive:
                        yield from scan(entry.path)

        return scan(root)

    @contextmanager
    def get_local_path(self, filepath) -> Iterator[str]:
        yield str(filepath)


class HTTPBackend(BaseStorageBackend):
    """Read-only access to ``http://`` and ``https://`` URLs through the standard library."""

    name = "http"

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout

    def get(self, filepath) -> bytes:
        from urllib.request import urlopen

        with urlopen(str(filepath), timeout=self.timeout) as resp:
            return resp.read()

    def exists(self, filepath) -> bool:
        from urllib.error import URLError
        from urllib.request import Request, urlopen

        try:
            with urlopen(Request(str(filepath), method="HEAD"), timeout=self.timeout) as resp:
                return resp.status < 400
        except URLError:
            return False

    def isfile(self, filepath) -> bool:
        return self.exists(filepath)

    def isdir(self, filepath) -> bool:
        return False

    def join_path(self, filepath, *filepaths) -> str:
        return "/".join([str(filepath).rstrip("/"), *(str(p).strip("/") for p in filepaths)])

    @contextmanager
    def get_local_path(self, filepath) -> Iterator[str]:
        """Downloads to a temporary file that is deleted when the block exits."""
        suffix = os.path.splitext(str(filepath).split("?")[0])[1]
        f = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
        try:
            f.write(self.get(filepath))
            f.close()
            yield f.name
        finally:
            os.remove(f.name)


_BACKENDS: dict[str, type[BaseStorageBackend]] = {"local": LocalBackend, "disk": LocalBackend, "http": HTTPBackend}
_PREFIXES: dict[str, type[BaseStorageBackend]] = {"http": HTTPBackend, "https": HTTPBackend}
_INSTANCES: dict[tuple, BaseStorageBackend] = {}


def register_backend(name: str, backend: type | None = None, force: bool = False, prefixes=None):
    """Registers a backend class under ``name`` (and URI ``prefixes``); usable as a decorator.

    >>> @register_backend("mem", prefixes="mem")
    ... class MemBackend(BaseStorageBackend): ...
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"register_backend: name must be a non-empty str, got {name!r}")

    def _register(cls):
        if not (isinstance(cls, type) and issubclass(cls, BaseStorageBackend)):
            raise TypeError(f"register_backend({name!r}): backend must subclass BaseStorageBackend, got {cls!r}")
        if name in _BACKENDS and not force and _BACKENDS[name] is not cls:
            raise KeyError(
                f"register_backend: {name!r} is already registered to {_BACKENDS[name].__name__}; force=True"
            )
        _BACKENDS[name] = cls
        for prefix in [prefixes] if isinstance(prefixes, str) else list(prefixes or []):
            if prefix in _PREFIXES and not force and _PREFIXES[prefix] is not cls:
                raise KeyError(f"register_backend: prefix {prefix!r} is already taken by {_PREFIXES[prefix].__name__}")
            _PREFIXES[prefix] = cls
        for key in [k for k in _INSTANCES if k[0] is cls or k[0] == name]:
            del _INSTANCES[key]
        return cls

    if backend is not None:
        return _register(backend)
    return _register


def _prefix(uri) -> str | None:
    text = str(uri)
    if "://" not in text:
        return None
    return text.split("://", 1)[0].split(":")[-1].lower()


def get_file_backend(uri=None, *, backend_args: dict | None = None, enable_singleton: bool = False):
    """The backend for ``uri``: ``backend_args['backend']`` if given, else by URI prefix, else local disk."""
    if backend_args is not None and not isinstance(backend_args, dict):
        raise TypeError(f"backend_args must be a dict or None, got {type(backend_args).__name__}")
    args = dict(backend_args or {})
    name = args.pop("backend", None)
    if name is not None:
        if name not in _BACKENDS:
            raise KeyError(f"unknown file backend {name!r}; registered: {sorted(_BACKENDS)}")
        cls = _BACKENDS[name]
    else:
        prefix = _prefix(uri) if uri is not None else None
        if prefix is None:
            cls = LocalBackend
        elif prefix in _PREFIXES:
            cls = _PREFIXES[prefix]
        else:
            raise KeyError(f"no file backend handles the prefix {prefix!r} of {uri}; registered: {sorted(_PREFIXES)}")
    if enable_singleton or not args:
        key = (cls, tuple(sorted((k, repr(v)) for k, v in args.items())))
        if key not in _INSTANCES:
            _INSTANCES[key] = cls(**args)
        return _INSTANCES[key]
    return cls(**args)
