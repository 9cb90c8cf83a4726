"""``OptimWrapperDict``: several named optimizer wrappers (e.g. generator and discriminator)."""

from __future__ import annotations

from contextlib import contextmanager

from torch import nn

from vk_core.registry import OPTIM_WRAPPERS

from .optim_wrapper import OptimWrapper


@OPTIM_WRAPPERS.register_module()
class OptimWrapperDict(OptimWrapper):
    """A dict of ``OptimWrapper`` keyed by name.

    Stepping "all optimizers" is ambiguous, so ``update_params``, ``backward`` and ``step`` raise: call them on
    ``wrappers['name']``. ``zero_grad``, ``state_dict``, ``get_lr`` and ``get_momentum`` cover every wrapper.
    """

    def __init__(self, **optim_wrappers: OptimWrapper):
        for name, wrapper in optim_wrappers.items():
            if not isinstance(wrapper, OptimWrapper):
                raise TypeError(f"OptimWrapperDict: {name!r} must be an OptimWrapper, got {type(wrapper).__name__}")
        self.optim_wrappers = dict(optim_wrappers)

    def _ambiguous(self, what: str):
        raise NotImplementedError(
            f"OptimWrapperDict.{what} is ambiguous with several optimizers; call it on one of "
            f"{list(self.optim_wrappers)}, e.g. optim_wrapper['{next(iter(self.optim_wrappers), 'name')}'].{what}"
        )

    def update_params(self, loss, step_kwargs=None, zero_kwargs=None):
        self._ambiguous("update_params")

    def backward(self, loss, **kwargs):
        self._ambiguous("backward")

    def step(self, **kwargs):
        self._ambiguous("step")

    def zero_grad(self, **kwargs) -> None:
        for wrapper in self.optim_wrappers.values():
            wrapper.zero_grad(**kwargs)

    @contextmanager
    def optim_context(self, model: nn.Module):
        raise NotImplementedError("OptimWrapperDict.optim_context: use optim_context of each wrapper")
        yield  # pragma: no cover

    def initialize_count_status(self, model, init_counts, max_counts) -> None:
        # Each wrapper is driven by its own update_params; nothing to do here.
        return None

    @property
    def param_groups(self) -> dict:
        return {name: w.param_groups for name, w in self.optim_wrappers.items()}

    @property
    def defaults(self):
        raise NotImplementedError("OptimWrapperDict has no single defaults; use optim_wrapper[name].defaults")

    def get_lr(self) -> dict[str, list[float]]:
        return {f"{name}.lr": w.get_lr()["lr"] for name, w in self.optim_wrappers.items()}

    def get_momentum(self) -> dict[str, list[float]]:
        return {f"{name}.momentum": w.get_momentum()["momentum"] for name, w in self.optim_wrappers.items()}

    def state_dict(self) -> dict:
        return {name: w.state_dict() for name, w in self.optim_wrappers.items()}

    def load_state_dict(self, state_dict: dict) -> None:
        unknown = set(state_dict) - set(self.optim_wrappers)
        if unknown:
            raise KeyError(f"OptimWrapperDict: state for unknown wrappers {sorted(unknown)}; have {list(self)}")
        for name, state in state_dict.items():
            self.optim_wrappers[name].load_state_dict(state)

    def items(self):
        return self.optim_wrappers.items()

    def values(self):
        return self.optim_wrappers.values()

    def keys(self):
        return self.optim_wrappers.keys()

    def __getitem__(self, key: str) -> OptimWrapper:
        if key not in self.optim_wrappers:
            raise KeyError(f"OptimWrapperDict has no wrapper {key!r}; have {list(self.optim_wrappers)}")
        return self.optim_wrappers[key]

    def __contains__(self, key) -> bool:
        return key in self.optim_wrappers

    def __len__(self) -> int:
        return len(self.optim_wrappers)

    def __iter__(self):
        return iter(self.optim_wrappers)

    def __repr__(self) -> str:
        return "\n".join(f"{name}: {w!r}" for name, w in self.optim_wrappers.items())
