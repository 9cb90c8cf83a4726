"""Compose: runs a list of transforms in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vk_core.registry import TRANSFORMS


@TRANSFORMS.register_module()
class Compose:
    """Applies ``transforms`` (objects, callables or config dicts built from TRANSFORMS) in order.

    A transform returning ``None`` stops the pipeline and ``Compose`` returns ``None`` (the dataset then refetches).
    """

    def __init__(self, transforms: Sequence[dict | Callable] | dict | Callable | None):
        if transforms is None:
            transforms = []
        elif isinstance(transforms, dict) or callable(transforms):
            transforms = [transforms]
        if not isinstance(transforms, Sequence) or isinstance(transforms, str):
            raise TypeError(
                f"Compose: transforms must be a list of transforms or dicts, got {type(transforms).__name__}"
            )
        self.transforms: list[Callable] = []
        for i, t in enumerate(transforms):
            if isinstance(t, dict):
                if "type" not in t:
                    raise KeyError(f"Compose: transform config {i} {t!r} has no 'type' key")
                t = TRANSFORMS.build(t)
            if not callable(t):
                raise TypeError(f"Compose: transform {i} is a {type(t).__name__}, expected a callable or a dict")
            self.transforms.append(t)

    def __call__(self, data: dict) -> dict | None:
        for t in self.transforms:
            data = t(data)
            if data is None:
                return None
        return data

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"
