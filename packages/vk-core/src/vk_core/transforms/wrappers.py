"""Transforms that run other transforms: RandomApply, RandomChoice, TestTimeAug, KeyMapper."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from numbers import Number
from typing import Any

from vk_core.dataset.compose import Compose
from vk_core.dataset.rng import data_rng
from vk_core.registry import TRANSFORMS

from .base import BaseTransform


@TRANSFORMS.register_module()
class RandomApply(BaseTransform):
    """Runs ``transforms`` (a pipeline) with probability ``prob``, otherwise passes the results through."""

    def __init__(self, transforms: Sequence | dict, prob: float = 0.5):
        if not isinstance(prob, Number) or not 0 <= prob <= 1:
            raise ValueError(f"RandomApply: prob must be in [0, 1], got {prob!r}")
        self.prob = prob
        self.transforms = Compose(transforms)

    def transform(self, results: dict) -> dict | None:
        if data_rng().random() < self.prob:
            return self.transforms(results)
        return results


@TRANSFORMS.register_module()
class RandomChoice(BaseTransform):
    """Runs one of several pipelines: ``transforms=[[A, B], [C]]``, chosen uniformly or by ``prob``."""

    def __init__(self, transforms: Sequence, prob: Sequence[float] | None = None):
        if not isinstance(transforms, (list, tuple)) or not transforms:
            raise ValueError(f"RandomChoice: transforms must be a non-empty list of pipelines, got {transforms!r}")
        if prob is not None:
            if len(prob) != len(transforms):
                raise ValueError(f"RandomChoice: {len(prob)} probabilities for {len(transforms)} pipelines")
            if any(p < 0 for p in prob) or abs(sum(prob) - 1) > 1e-6:
                raise ValueError(f"RandomChoice: prob must be non-negative and sum to 1, got {prob!r}")
        self.prob = prob
        self.transforms = [Compose(t if isinstance(t, (list, tuple)) else [t]) for t in transforms]

    def transform(self, results: dict) -> dict | None:
        idx = int(data_rng().choice(len(self.transforms), p=self.prob))
        return self.transforms[idx](results)


@TRANSFORMS.register_module()
class TestTimeAug(BaseTransform):
    """Runs every combination of alternatives and returns ``{key: [value per combination]}``.

    ``transforms=[[Resize(s1), Resize(s2)], [RandomFlip(prob=1.), RandomFlip(prob=0.)], [Pack...]]`` gives four
    augmented copies, in the order of ``itertools.product``. A combination that returns None is an error unless
    ``allow_empty`` (then it is skipped).
    """

    def __init__(self, transforms: Sequence[Sequence], allow_empty: bool = False):
        if not isinstance(transforms, (list, tuple)) or not transforms:
            raise ValueError(f"TestTimeAug: transforms must be a non-empty list of lists, got {transforms!r}")
        for i, alternatives in enumerate(transforms):
            if not isinstance(alternatives, (list, tuple)) or not alternatives:
                raise ValueError(f"TestTimeAug: transforms[{i}] must be a non-empty list of alternatives")
        built = [[TRANSFORMS.build(t) if isinstance(t, dict) else t for t in alts] for alts in transforms]
        self.transforms = transforms
        self.allow_empty = allow_empty
        self.subroutines = [Compose(list(combo)) for combo in itertools.product(*built)]

    def transform(self, results: dict) -> dict:
        outputs = []
        for i, sub in enumerate(self.subroutines):
            out = sub(copy.deepcopy(results))
            if out is None:
                if not self.allow_empty:
                    names = ", ".join(type(t).__name__ for t in sub.transforms)
                    raise ValueError(f"TestTimeAug: combination {i} ({names}) returned None; set allow_empty=True")
                continue
            outputs.append(out)
        if not outputs:
            raise ValueError("TestTimeAug: every combination returned None")
        return {key: [o[key] for o in outputs] for key in outputs[0]}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(transforms={self.transforms!r}, allow_empty={self.allow_empty})"


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


@TRANSFORMS.register_module()
class KeyMapper(BaseTransform):
    """Runs ``transforms`` on renamed keys, so a transform reading ``img`` can work on ``gt_img``.

    ``mapping={'img': 'gt_img'}``: inside, ``img`` is the outer ``gt_img``. Values may nest (dict/list/tuple of outer
    keys), e.g. ``{'imgs': ['img1', 'img2']}``. ``remapping`` says where inner keys go back (by default the inverse of
    ``mapping`` when ``auto_remap``; otherwise inner keys are written back under their own names). Outer keys that
    are mapping targets are hidden from the inner transforms. A missing outer key is an error unless
    ``allow_nonexist_keys``.
    """

    def __init__(
        self,
        transforms: Sequence | dict | None = None,
        mapping: dict | None = None,
        remapping: dict | None = None,
        auto_remap: bool | None = None,
        allow_nonexist_keys: bool = False,
    ):
        for name, m in (("mapping", mapping), ("remapping", remapping)):
            if m is not None and not isinstance(m, dict):
                raise TypeError(f"KeyMapper: {name} must be a dict, got {type(m).__name__}")
        if auto_remap is None:
            auto_remap = remapping is None
        if auto_remap and remapping is not None:
            raise ValueError("KeyMapper: give remapping or auto_remap=True, not both")
        self.transforms = Compose(transforms if transforms is not None else [])
        self.mapping = mapping
        self.remapping = mapping if auto_remap else remapping
        self.auto_remap = auto_remap
        self.allow_nonexist_keys = allow_nonexist_keys

    def _fetch(self, data: dict, m: Any) -> Any:
        if isinstance(m, dict):
            return {k: self._fetch(data, v) for k, v in m.items()}
        if isinstance(m, (list, tuple)):
            return type(m)(self._fetch(data, v) for v in m)
        if isinstance(m, str):
            if m in data:
                return data[m]
            if self.allow_nonexist_keys:
                return _MISSING
            raise KeyError(f"KeyMapper: key {m!r} from the mapping is not in the results {sorted(data)}")
        raise TypeError(f"KeyMapper: mapping values must be str, list, tuple or dict, got {m!r}")

    @staticmethod
    def _targets(m: Any) -> set[str]:
        if isinstance(m, dict):
            return set().union(*(KeyMapper._targets(v) for v in m.values())) if m else set()
        if isinstance(m, (list, tuple)):
            return set().union(*(KeyMapper._targets(v) for v in m)) if m else set()
        return {m}

    def _scatter(self, out: dict, m: Any, value: Any) -> None:
        if isinstance(m, dict):
            if not isinstance(value, dict):
                raise TypeError(f"KeyMapper: remapping expects a dict for {m!r}, got {type(value).__name__}")
            for k, sub in m.items():
                if k in value:
                    self._scatter(out, sub, value[k])
        elif isinstance(m, (list, tuple)):
            if not isinstance(value, (list, tuple)) or len(value) != len(m):
                raise TypeError(f"KeyMapper: remapping {m!r} expects a sequence of {len(m)}, got {value!r:.60}")
            for sub, v in zip(m, value):
                self._scatter(out, sub, v)
        elif value is not _MISSING:
            out[m] = value

    def transform(self, results: dict) -> dict | None:
        if not self.mapping:
            inner = results.copy()
        else:
            hidden = self._targets(self.mapping)
            inner = {k: v for k, v in results.items() if k not in hidden}
            fetched = self._fetch(results, self.mapping)
            inner.update({k: v for k, v in fetched.items() if v is not _MISSING})
        out = self.transforms(inner)
        if out is None:
            return None
        merged = results.copy()
        remap = self.remapping or {}
        for key, value in out.items():
            if key in remap:
                self._scatter(merged, remap[key], value)
            else:
                merged[key] = value
        return merged


__all__ = ["KeyMapper", "RandomApply", "RandomChoice", "TestTimeAug"]
