"""BaseDataset: the OpenMMLab 2.0 annotation format, lazy init, and a compact serialised data list."""

from __future__ import annotations

import contextlib
import copy
import functools
import gc
import os.path as osp
import pickle
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from vk_core import fileio
from vk_core.registry import DATASETS

from .compose import Compose
from .rng import data_rng


@contextlib.contextmanager
def _gc_paused():
    """Pauses the cyclic garbage collector while millions of small annotation objects are created.

    Each generation-2 pass walks every live object, so loading 500k entries with the collector on took 3-4x longer
    here; reference counting still frees everything that is dropped meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def force_full_init(method: Callable) -> Callable:
    """Runs ``full_init()`` before ``method`` if the dataset was created with ``lazy_init=True``."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if not self._fully_initialized:
            self.full_init()
        return method(self, *args, **kwargs)

    return wrapper


class DataRefetchError(RuntimeError):
    """Every retry of ``__getitem__`` failed; the message names the indices tried and the errors."""


@DATASETS.register_module()
class BaseDataset(Dataset):
    """A dataset described by an annotation file ``{"metainfo": {...}, "data_list": [{...}, ...]}``.

    Args:
        ann_file: annotation file, relative to ``data_root`` unless absolute. Empty for datasets that override
            ``load_data_list`` without a file.
        metainfo: dataset-level facts (``classes``, ``palette``, ...). Precedence, lowest first: the annotation
            file's ``metainfo`` < the class attribute ``METAINFO`` < this argument. A str value that names an
            existing file is read as a list of lines (e.g. ``classes='classes.txt'``).
        data_root: prefix of ``ann_file`` and ``data_prefix`` paths.
        data_prefix: ``{key: folder}``; each sample's ``key`` path is joined to ``folder`` (default
            ``{'img_path': ''}``).
        filter_cfg: handed to ``filter_data`` (subclasses define what it means).
        indices: keep only these samples (an int n keeps the first n, -n the last n) after filtering.
        serialize_data: pickle all samples into one numpy buffer, so DataLoader workers read shared pages instead
            of copying Python objects page by page (reference counting writes to every object touched).
        pipeline: transforms (dicts or callables) applied by ``__getitem__``.
        test_mode: errors are raised at once instead of retrying another index.
        lazy_init: defer loading until first use (``len``, indexing, ``get_data_info``) or ``full_init()``.
        max_refetch: in training, how many other random indices to try when the pipeline returns ``None`` or
            raises; then ``DataRefetchError`` names every index tried and the errors.
        backend_args: fileio backend arguments for reading ``ann_file``.
    """

    METAINFO: dict = dict()
    _fully_initialized: bool = False

    def __init__(
        self,
        ann_file: str | None = "",
        metainfo: dict | None = None,
        data_root: str | None = "",
        data_prefix: dict | None = None,
        filter_cfg: dict | None = None,
        indices: int | Sequence[int] | None = None,
        serialize_data: bool = True,
        pipeline: Sequence = (),
        test_mode: bool = False,
        lazy_init: bool = False,
        max_refetch: int = 1000,
        backend_args: dict | None = None,
    ):
        if metainfo is not None and not isinstance(metainfo, dict):
            raise TypeError(f"{type(self).__name__}: metainfo must be a dict, got {type(metainfo).__name__}")
        if not isinstance(max_refetch, int) or max_refetch < 0:
            raise ValueError(f"{type(self).__name__}: max_refetch must be an int >= 0, got {max_refetch!r}")
        if indices is not None and not isinstance(indices, (int, Sequence)):
            raise TypeError(f"{type(self).__name__}: indices must be an int or a sequence of ints, got {indices!r}")
        if backend_args is not None or not hasattr(self, "backend_args"):
            # Subclasses may have set it before calling this constructor; keep theirs unless one is given here.
            self.backend_args = backend_args
        self.ann_file = ann_file or ""
        self.data_root = data_root or ""
        self.data_prefix = dict(data_prefix) if data_prefix is not None else dict(img_path="")
        self.filter_cfg = copy.deepcopy(filter_cfg)
        self._indices = indices
        self.serialize_data = serialize_data
        self.test_mode = test_mode
        self.max_refetch = max_refetch
        self.data_list: list[dict] = []
        self.data_bytes: np.ndarray | None = None
        self.data_address: np.ndarray | None = None
        self._metainfo = self._load_metainfo(copy.deepcopy(metainfo))
        self._join_prefix()
        self.pipeline = Compose(list(pipeline) if not isinstance(pipeline, Compose) else pipeline.transforms)
        if not lazy_init:
            self.full_init()

    # ------------------------------------------------------------------ metainfo
    @classmethod
    def _load_metainfo(cls, metainfo: dict | None) -> dict:
        merged = copy.deepcopy(cls.METAINFO)
        for key, value in (metainfo or {}).items():
            if isinstance(value, str) and osp.isfile(value):
                value = fileio.list_from_file(value)  # e.g. classes='classes.txt'; local files only
            merged[key] = value
        return merged

    @property
    def metainfo(self) -> dict:
        """A copy of the dataset's metainfo (changing it does not change the dataset)."""
        return copy.deepcopy(self._metainfo)

    def _join_prefix(self) -> None:
        if self.ann_file and not osp.isabs(self.ann_file) and "://" not in self.ann_file and self.data_root:
            self.ann_file = fileio.join_path(self.data_root, self.ann_file)
        for key, prefix in self.data_prefix.items():
            if not isinstance(prefix, str):
                raise TypeError(f"{type(self).__name__}: data_prefix[{key!r}] must be a str, got {prefix!r}")
            if prefix and not osp.isabs(prefix) and "://" not in prefix and self.data_root:
                self.data_prefix[key] = fileio.join_path(self.data_root, prefix)
            elif not prefix and self.data_root:
                self.data_prefix[key] = self.data_root

    # ------------------------------------------------------------------ loading
    def full_init(self) -> None:
        """Loads, filters, subsets and serialises the data list (once)."""
        if self._fully_initialized:
            return
        with _gc_paused():
            self.data_list = self.load_data_list()
            self.data_list = self.filter_data()
            if self._indices is not None:
                self.data_list = self._subset_list(self.data_list, self._indices)
            if self.serialize_data:
                self.data_bytes, self.data_address = self._serialize(self.data_list)
                # Plain dicts hold no reference cycles: dropping the list frees it now, no gc.collect() needed.
                self.data_list = []
        self._fully_initialized = True

    def load_data_list(self) -> list[dict]:
        """Reads ``ann_file`` in the 2.0 format; override for other formats."""
        if not self.ann_file:
            raise ValueError(f"{type(self).__name__}: ann_file is empty; give one or override load_data_list()")
        annotations = fileio.load(self.ann_file, backend_args=self.backend_args)
        if not isinstance(annotations, dict):
            raise TypeError(
                f"annotation file {self.ann_file} must hold a dict with 'metainfo' and 'data_list', "
                f"got a {type(annotations).__name__}"
            )
        missing = [k for k in ("metainfo", "data_list") if k not in annotations]
        if missing:
            raise ValueError(
                f"annotation file {self.ann_file} lacks {missing}: the 2.0 format is "
                f"{{'metainfo': {{...}}, 'data_list': [...]}}; found keys {sorted(annotations)[:10]}"
            )
        file_meta, raw_list = annotations["metainfo"], annotations["data_list"]
        if not isinstance(file_meta, dict) or not isinstance(raw_list, list):
            raise TypeError(f"annotation file {self.ann_file}: 'metainfo' must be a dict and 'data_list' a list")
        for key, value in file_meta.items():
            self._metainfo.setdefault(key, value)

        data_list: list[dict] = []
        for i, raw in enumerate(raw_list):
            if not isinstance(raw, dict):
                raise TypeError(f"annotation file {self.ann_file}: data_list[{i}] must be a dict, got {raw!r:.80}")
            try:
                info = self.parse_data_info(raw)
            except (KeyError, TypeError, ValueError) as exc:
                detail = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc  # KeyError str() adds quotes
                raise type(exc)(f"annotation file {self.ann_file}: data_list[{i}]: {detail}") from exc
            if isinstance(info, dict):
                data_list.append(info)
            elif isinstance(info, list) and all(isinstance(x, dict) for x in info):
                data_list.extend(info)
            else:
                raise TypeError(
                    f"{type(self).__name__}.parse_data_info must return a dict or a list of dicts, "
                    f"got {type(info).__name__} for data_list[{i}] of {self.ann_file}"
                )
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> dict | list[dict]:
        """Joins ``data_prefix`` folders to the sample's paths; override to reshape a sample."""
        for key, prefix in self.data_prefix.items():
            if key not in raw_data_info:
                raise KeyError(f"key {key!r} (from data_prefix) is missing; the entry has {sorted(raw_data_info)}")
            raw_data_info[key] = fileio.join_path(prefix, raw_data_info[key]) if prefix else raw_data_info[key]
        return raw_data_info

    def filter_data(self) -> list[dict]:
        """Keeps every sample; subclasses use ``self.filter_cfg`` (e.g. drop images without boxes)."""
        return self.data_list

    def get_cat_ids(self, idx: int) -> list[int]:
        """Category ids in sample ``idx``; needed by ClassBalancedDataset."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_cat_ids to be class-balanced")

    # ------------------------------------------------------------------ serialisation and subsets
    @staticmethod
    def _serialize(data_list: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        pickled = [pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL) for x in data_list]
        address = np.cumsum(np.fromiter((len(p) for p in pickled), dtype=np.int64, count=len(pickled)))
        buffer = np.frombuffer(b"".join(pickled), dtype=np.uint8).copy() if pickled else np.zeros(0, np.uint8)
        return buffer, address

    @staticmethod
    def _normalise_indices(indices: int | Sequence[int], length: int, where: str) -> list[int]:
        if isinstance(indices, (int, np.integer)) and not isinstance(indices, bool):
            n = int(indices)
            return list(range(min(n, length))) if n >= 0 else list(range(max(length + n, 0), length))
        out = []
        for i in indices:
            if not isinstance(i, (int, np.integer)) or isinstance(i, bool) or not -length <= i < length:
                raise IndexError(f"{where}: index {i!r} is out of range for {length} samples")
            out.append(int(i) % length)
        return out

    def _subset_list(self, data_list: list[dict], indices) -> list[dict]:
        return [data_list[i] for i in self._normalise_indices(indices, len(data_list), type(self).__name__)]

    @force_full_init
    def get_subset_(self, indices: int | Sequence[int]) -> None:
        """Keeps only ``indices`` in place (an int n: the first n, -n: the last n)."""
        if self.serialize_data:
            keep = self._normalise_indices(indices, len(self), f"{type(self).__name__}.get_subset_")
            self.data_bytes, self.data_address = self._serialize([self.get_data_info(i, _raw=True) for i in keep])
        else:
            self.data_list = self._subset_list(self.data_list, indices)

    @force_full_init
    def get_subset(self, indices: int | Sequence[int]) -> BaseDataset:
        """A copy holding only ``indices``; the pipeline and metainfo are shared settings, the data is not."""
        sub = self._copy_without_data()
        if self.serialize_data:
            sub.data_bytes, sub.data_address = self.data_bytes, self.data_address
        else:
            sub.data_list = list(self.data_list)
        sub.get_subset_(indices)
        return sub

    def _copy_without_data(self) -> BaseDataset:
        cls = type(self)
        other = cls.__new__(cls)
        for key, value in self.__dict__.items():
            if key not in ("data_list", "data_bytes", "data_address"):
                other.__dict__[key] = copy.deepcopy(value) if key == "_metainfo" else value
        other.data_list, other.data_bytes, other.data_address = [], None, None
        return other

    # ------------------------------------------------------------------ access
    @force_full_init
    def __len__(self) -> int:
        return len(self.data_address) if self.serialize_data else len(self.data_list)

    @force_full_init
    def get_data_info(self, idx: int, _raw: bool = False) -> dict:
        """A fresh copy of sample ``idx`` with ``sample_idx`` set."""
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"{type(self).__name__}: index {idx} out of range for {n} samples")
        idx = int(idx) % n
        if self.serialize_data:
            start = 0 if idx == 0 else int(self.data_address[idx - 1])
            end = int(self.data_address[idx])
            info = pickle.loads(memoryview(self.data_bytes[start:end]))
        else:
            info = copy.deepcopy(self.data_list[idx])
        if not _raw:
            info["sample_idx"] = idx
        return info

    def prepare_data(self, idx: int) -> Any:
        """Runs the pipeline on sample ``idx``."""
        return self.pipeline(self.get_data_info(idx))

    def __getitem__(self, idx: int) -> Any:
        if not self._fully_initialized:
            self.full_init()
        if self.test_mode or self.max_refetch == 0:
            try:
                data = self.prepare_data(idx)
            except Exception as exc:
                if _rewrappable(exc):
                    raise type(exc)(f"{type(self).__name__}[{idx}]: {exc}") from exc
                raise
            if data is None:
                raise DataRefetchError(f"{type(self).__name__}[{idx}]: the pipeline returned None in test mode")
            return data

        failures: list[str] = []
        for _ in range(self.max_refetch + 1):
            try:
                data = self.prepare_data(idx)
            except Exception as exc:
                failures.append(f"index {idx}: {type(exc).__name__}: {exc}")
                warnings.warn(
                    f"{type(self).__name__}[{idx}] failed ({type(exc).__name__}: {exc}); trying another index",
                    stacklevel=2,
                )
                data = None
            else:
                if data is None:
                    failures.append(f"index {idx}: the pipeline returned None")
            if data is not None:
                return data
            idx = int(data_rng().integers(0, len(self)))
        shown = failures[:3] + (["..."] if len(failures) > 4 else []) + failures[3:][-1:]
        raise DataRefetchError(
            f"{type(self).__name__}: {len(failures)} attempts failed (max_refetch={self.max_refetch}); "
            + "; ".join(shown)
        )

    def __repr__(self) -> str:
        size = len(self) if self._fully_initialized else "not loaded (lazy_init)"
        return (
            f"{type(self).__name__}(ann_file={self.ann_file!r}, data_root={self.data_root!r}, "
            f"num_samples={size}, test_mode={self.test_mode}, serialize_data={self.serialize_data})"
        )


def _rewrappable(exc: Exception) -> bool:
    """Whether ``type(exc)(message)`` rebuilds the exception (true for the builtin error types)."""
    return type(exc) in (FileNotFoundError, ValueError, KeyError, TypeError, IndexError, RuntimeError, OSError)
