"""Path-level functions; each picks its backend from the path's prefix or ``backend_args``."""

from __future__ import annotations

import io as _io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .backends import get_file_backend
from .handlers import get_handler


def get(filepath, backend_args: dict | None = None) -> bytes:
    return get_file_backend(filepath, backend_args=backend_args).get(filepath)


def get_text(filepath, encoding: str = "utf-8", backend_args: dict | None = None) -> str:
    return get_file_backend(filepath, backend_args=backend_args).get_text(filepath, encoding)


def put(obj: bytes, filepath, backend_args: dict | None = None) -> None:
    """Writes bytes, creating parent folders."""
    get_file_backend(filepath, backend_args=backend_args).put(obj, filepath)


def put_text(obj: str, filepath, encoding: str = "utf-8", backend_args: dict | None = None) -> None:
    """Writes text, creating parent folders."""
    get_file_backend(filepath, backend_args=backend_args).put_text(obj, filepath, encoding)


def exists(filepath, backend_args: dict | None = None) -> bool:
    return get_file_backend(filepath, backend_args=backend_args).exists(filepath)


def isdir(filepath, backend_args: dict | None = None) -> bool:
    return get_file_backend(filepath, backend_args=backend_args).isdir(filepath)


def isfile(filepath, backend_args: dict | None = None) -> bool:
    return get_file_backend(filepath, backend_args=backend_args).isfile(filepath)


def join_path(filepath, *filepaths, backend_args: dict | None = None) -> str:
    return get_file_backend(filepath, backend_args=backend_args).join_path(filepath, *filepaths)


def remove(filepath, backend_args: dict | None = None) -> None:
    get_file_backend(filepath, backend_args=backend_args).remove(filepath)


def rmtree(dir_path, backend_args: dict | None = None) -> None:
    get_file_backend(dir_path, backend_args=backend_args).rmtree(dir_path)


def copyfile(src, dst, backend_args: dict | None = None) -> str:
    return get_file_backend(src, backend_args=backend_args).copyfile(src, dst)


def copytree(src, dst, backend_args: dict | None = None) -> str:
    return get_file_backend(src, backend_args=backend_args).copytree(src, dst)


def list_dir_or_file(
    dir_path, list_dir: bool = True, list_file: bool = True, suffix=None, recursive: bool = False, backend_args=None
) -> Iterator[str]:
    """Yields entries relative to ``dir_path`` (no fixed order; hidden entries skipped)."""
    return get_file_backend(dir_path, backend_args=backend_args).list_dir_or_file(
        dir_path, list_dir, list_file, suffix, recursive
    )


@contextmanager
def get_local_path(filepath, backend_args: dict | None = None) -> Iterator[str]:
    """A local path for ``filepath``: the path itself on disk, a temporary download for remote files."""
    with get_file_backend(filepath, backend_args=backend_args).get_local_path(filepath) as path:
        yield path


def _format_of(file, file_format: str | None) -> str:
    if file_format is not None:
        return file_format
    if isinstance(file, (str, Path)):
        suffix = Path(str(file).split("?")[0]).suffix.lstrip(".").lower()
        if suffix:
            return suffix
    raise ValueError(f"cannot infer the file format of {file!r}: pass file_format='json'|'yaml'|'pickle'")


def load(file, file_format: str | None = None, backend_args: dict | None = None, **kwargs: Any) -> Any:
    """Loads json / yaml / pickle from a path (format from the extension) or an open file object."""
    handler = get_handler(_format_of(file, file_format))
    if isinstance(file, (str, Path)):
        backend = get_file_backend(file, backend_args=backend_args)
        if handler.str_like:
            text = backend.get_text(file)
            try:
                return handler.load_from_fileobj(_io.StringIO(text), **kwargs)
            except Exception as exc:
                raise ValueError(f"could not parse {file} as {handler.name}: {exc}") from exc
        data = backend.get(file)
        try:
            return handler.load_from_fileobj(_io.BytesIO(data), **kwargs)
        except Exception as exc:
            raise ValueError(f"could not parse {file} as {handler.name}: {exc}") from exc
    if hasattr(file, "read"):
        return handler.load_from_fileobj(file, **kwargs)
    raise TypeError(f"load: file must be a path or a file object, got {type(file).__name__}")


def dump(obj: Any, file=None, file_format: str | None = None, backend_args: dict | None = None, **kwargs: Any):
    """Dumps to a path (parents created), a file object, or returns a str/bytes when ``file`` is None."""
    if file is None and file_format is None:
        raise ValueError("dump: file_format is required when file is None")
    handler = get_handler(_format_of(file, file_format))
    if file is None:
        return handler.dump_to_str(obj, **kwargs)
    if isinstance(file, (str, Path)):
        backend = get_file_backend(file, backend_args=backend_args)
        if handler.str_like:
            backend.put_text(handler.dump_to_str(obj, **kwargs), file)
        else:
            backend.put(handler.dump_to_str(obj, **kwargs), file)
        return None
    if hasattr(file, "write"):
        handler.dump_to_fileobj(obj, file, **kwargs)
        return None
    raise TypeError(f"dump: file must be a path, a file object or None, got {type(file).__name__}")


def list_from_file(
    filename, prefix: str = "", offset: int = 0, max_num: int = 0, encoding: str = "utf-8", backend_args=None
) -> list[str]:
    """Lines of a text file (newline stripped), each with ``prefix``; skips ``offset`` lines; ``max_num <= 0`` = all."""
    if offset < 0:
        raise ValueError(f"list_from_file({filename}): offset must be >= 0, got {offset}")
    lines = get_text(filename, encoding, backend_args=backend_args).splitlines()[offset:]
    if max_num > 0:
        lines = lines[:max_num]
    return [prefix + line.rstrip("\r") for line in lines]


def dict_from_file(filename, key_type: type = str, encoding: str = "utf-8", backend_args=None) -> dict:
    """Each non-empty line ``key v1 [v2 ...]``: one value becomes a str, several a list of str."""
    mapping = {}
    text = get_text(filename, encoding, backend_args=backend_args)
    for lineno, line in enumerate(text.splitlines(), start=1):
        items = line.split()
        if not items:
            continue
        if len(items) < 2:
            raise ValueError(f"{filename}:{lineno}: expected 'key value [value ...]', got {line!r}")
        try:
            key = key_type(items[0])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{filename}:{lineno}: key {items[0]!r} is not a {key_type.__name__}") from exc
        mapping[key] = items[1] if len(items) == 2 else items[1:]
    return mapping
