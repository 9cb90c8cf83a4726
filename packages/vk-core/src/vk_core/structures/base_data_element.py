"""BaseDataElement: a container with two field sets, metainfo (image-level facts) and data (tensors, arrays)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

_PRIVATE = ("_metainfo_fields", "_data_fields")


class _FieldSet(dict):
    """A set of field names that remembers insertion order, so keys() and repr list fields as they were set."""

    def add(self, name: str) -> None:
        self[name] = None

    def discard(self, name: str) -> None:
        self.pop(name, None)


class BaseDataElement:
    """Holds *metainfo* fields (shapes, file names, scale factors) and *data* fields (predictions, labels).

    Fields are read and written as attributes. A name lives in exactly one of the two sets; writing a metainfo name
    as data (or the reverse) is an error so that ``to()``/``cpu()`` never move metadata by accident.

    Example::

        >>> sample = BaseDataElement(metainfo=dict(img_shape=(800, 1196)), gt_label=torch.tensor([1]))
        >>> sample.img_shape, sample.gt_label
        ((800, 1196), tensor([1]))
    """

    def __init__(self, *, metainfo: dict | None = None, **kwargs: Any) -> None:
        object.__setattr__(self, "_metainfo_fields", _FieldSet())
        object.__setattr__(self, "_data_fields", _FieldSet())
        if metainfo is not None:
            self.set_metainfo(metainfo)
        if kwargs:
            self.set_data(kwargs)

    # ------------------------------------------------------------------ field management
    def set_metainfo(self, metainfo: dict) -> None:
        """Adds or overwrites metainfo fields; values are deep-copied so the caller's dict stays independent."""
        if not isinstance(metainfo, dict):
            raise TypeError(f"{type(self).__name__}.set_metainfo: metainfo must be a dict, got {type(metainfo)}")
        for key, value in copy.deepcopy(metainfo).items():
            self.set_field(name=key, value=value, field_type="metainfo", dtype=None)

    def set_data(self, data: dict) -> None:
        """Adds or overwrites data fields (through ``setattr`` so subclasses' checks apply)."""
        if not isinstance(data, dict):
            raise TypeError(f"{type(self).__name__}.set_data: data must be a dict, got {type(data)}")
        for key, value in data.items():
            setattr(self, key, value)

    def update(self, instance: BaseDataElement) -> None:
        """Merges the fields of another element of the same kind into this one."""
        if not isinstance(instance, BaseDataElement):
            raise TypeError(f"{type(self).__name__}.update expects a BaseDataElement, got {type(instance)}")
        self.set_metainfo(dict(instance.metainfo_items()))
        self.set_data(dict(instance.items()))

    def set_field(self, value: Any, name: str, dtype: type | tuple | None = None, field_type: str = "data") -> None:
        """Stores ``value`` under ``name`` in the given field set, checking its type when ``dtype`` is given.

        Typed properties of subclasses (e.g. ``DetDataSample.gt_instances``) are built on this.
        """
        if field_type not in ("metainfo", "data"):
            raise ValueError(f"field_type must be 'metainfo' or 'data', got {field_type!r}")
        if dtype is not None:
            assert isinstance(value, dtype), f"{name} should be a {dtype} but got {type(value)}"
        if name in _PRIVATE:
            raise AttributeError(f"{name!r} is reserved by {type(self).__name__} and cannot be set")
        own, other = ("_metainfo_fields", "_data_fields")[:: 1 if field_type == "metainfo" else -1]
        if name in getattr(self, other):
            raise AttributeError(
                f"cannot set {name!r} as a {field_type} field of {type(self).__name__}: "
                f"it is already a {'data' if field_type == 'metainfo' else 'metainfo'} field"
            )
        getattr(self, own).add(name)
        object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PRIVATE:
            if not hasattr(self, name):
                object.__setattr__(self, name, value)
                return
            raise AttributeError(f"{name!r} is reserved by {type(self).__name__} and cannot be reassigned")
        self.set_field(name=name, value=value, field_type="data", dtype=None)

    def __delattr__(self, name: str) -> None:
        if name in _PRIVATE:
            raise AttributeError(f"{name!r} is reserved by {type(self).__name__} and cannot be deleted")
        object.__delattr__(self, name)
        self._metainfo_fields.discard(name)
        self._data_fields.discard(name)

    __delitem__ = __delattr__

    def __getitem__(self, key: str) -> Any:
        if not isinstance(key, str):
            raise TypeError(f"{type(self).__name__} fields are indexed by name (str), got {type(key)}")
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(
                f"{key!r} is not a field of {type(self).__name__}; fields: {sorted(self.all_keys())}"
            ) from None

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def pop(self, *args: Any) -> Any:
        """Removes a field (data or metainfo) and returns it; ``pop(name, default)`` as ``dict.pop``."""
        if len(args) not in (1, 2):
            raise TypeError(f"pop expects 1 or 2 arguments, got {len(args)}")
        name = args[0]
        if name in self._metainfo_fields or name in self._data_fields:
            value = getattr(self, name)
            delattr(self, name)
            return value
        if len(args) == 2:
            return args[1]
        raise KeyError(f"{name!r} is not a field of {type(self).__name__}")

    def __contains__(self, key: str) -> bool:
        return key in self._data_fields or key in self._metainfo_fields

    # ------------------------------------------------------------------ views
    def keys(self) -> list[str]:
        # A typed property of a subclass (``gt_instances``) stores its value under ``_gt_instances``; both names are
        # recorded as data fields, and only the public one is reported.
        private = {"_" + k for k in self._data_fields if isinstance(getattr(type(self), k, None), property)}
        return [k for k in self._data_fields if k not in private]

    def metainfo_keys(self) -> list[str]:
        return list(self._metainfo_fields)

    def values(self) -> list[Any]:
        return [getattr(self, k) for k in self.keys()]

    def metainfo_values(self) -> list[Any]:
        return [getattr(self, k) for k in self.metainfo_keys()]

    def all_keys(self) -> list[str]:
        return self.metainfo_keys() + self.keys()

    def all_values(self) -> list[Any]:
        return self.metainfo_values() + self.values()

    def items(self) -> Iterator[tuple[str, Any]]:
        for k in self.keys():
            yield k, getattr(self, k)

    def metainfo_items(self) -> Iterator[tuple[str, Any]]:
        for k in self.metainfo_keys():
            yield k, getattr(self, k)

    def all_items(self) -> Iterator[tuple[str, Any]]:
        yield from self.metainfo_items()
        yield from self.items()

    @property
    def metainfo(self) -> dict:
        return dict(self.metainfo_items())

    # ------------------------------------------------------------------ copies
    def new(self, *, metainfo: dict | None = None, **kwargs: Any) -> BaseDataElement:
        """A new element of the same type; ``metainfo`` replaces the metainfo set and ``kwargs`` the data set.

        Whichever is not given is carried over (shallow: tensors are shared, as in MMEngine).
        """
        out = self.__class__()
        out.set_metainfo(metainfo if metainfo is not None else dict(self.metainfo_items()))
        out.set_data(kwargs if kwargs else dict(self.items()))
        return out

    def clone(self) -> BaseDataElement:
        """A deep copy: tensors and arrays are copied, nothing is shared with the original."""
        out = self.__class__()
        out.set_metainfo(dict(self.metainfo_items()))
        out.set_data(copy.deepcopy(dict(self.items())))
        return out

    # ------------------------------------------------------------------ tensor-like conversions
    def _apply(self, fn) -> BaseDataElement:
        out = self.new()
        for k, v in self.items():
            converted = fn(v)
            if converted is not v:
                setattr(out, k, converted)
        return out

    def to(self, *args: Any, **kwargs: Any) -> BaseDataElement:
        """Applies ``.to(*args, **kwargs)`` to every data field that has it (tensors, nested elements)."""
        return self._apply(lambda v: v.to(*args, **kwargs) if hasattr(v, "to") else v)

    def cpu(self) -> BaseDataElement:
        return self._apply(lambda v: v.cpu() if isinstance(v, (torch.Tensor, BaseDataElement)) else v)

    def cuda(self) -> BaseDataElement:
        return self._apply(lambda v: v.cuda() if isinstance(v, (torch.Tensor, BaseDataElement)) else v)

    def detach(self) -> BaseDataElement:
        return self._apply(lambda v: v.detach() if isinstance(v, (torch.Tensor, BaseDataElement)) else v)

    def numpy(self) -> BaseDataElement:
        """Tensors become numpy arrays (detached, on the CPU)."""

        def conv(v):
            if isinstance(v, torch.Tensor):
                return v.detach().cpu().numpy()
            if isinstance(v, BaseDataElement):
                return v.numpy()
            return v

        return self._apply(conv)

    def to_tensor(self) -> BaseDataElement:
        """Numpy arrays become tensors."""

        def conv(v):
            if isinstance(v, np.ndarray):
                return torch.from_numpy(v)
            if isinstance(v, BaseDataElement):
                return v.to_tensor()
            return v

        return self._apply(conv)

    def to_dict(self) -> dict:
        """All fields (metainfo and data) as a plain dict, nested elements converted too."""
        return {k: v.to_dict() if isinstance(v, BaseDataElement) else v for k, v in self.all_items()}

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        """MMEngine's layout: a META INFORMATION and a DATA FIELDS block, values by ``repr``.

        A nested element is indented by 8 more spaces, as in the upstream documentation's example.
        """

        def block(items) -> str:
            lines = []
            for k, v in items:
                text = repr(v).replace("\n", "\n" + " " * 8) if isinstance(v, BaseDataElement) else repr(v)
                lines.append(f"\n    {k}: {text}")
            return "".join(lines)

        return (
            f"<{type(self).__name__}(\n\n    META INFORMATION{block(self.metainfo_items())}"
            f"\n\n    DATA FIELDS{block(self.items())}\n) at {hex(id(self))}>"
        )
