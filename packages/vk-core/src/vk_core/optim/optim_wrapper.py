"""``OptimWrapper``: one interface for backward, gradient accumulation, clipping and the optimizer step."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import torch
from torch import nn

from vk_core.registry import OPTIM_WRAPPERS


def _log(msg: str, level: int = logging.INFO) -> None:
    from vk_core.logging import print_log

    print_log(msg, logger="current", level=level)


@OPTIM_WRAPPERS.register_module()
class OptimWrapper:
    """Wraps a ``torch.optim.Optimizer``.

    ``update_params(loss)`` scales the loss for accumulation, backpropagates and, every ``accumulative_counts``
    calls (and on the last call of a partial final window, see ``initialize_count_status``), clips, steps and
    zeroes the gradients. ``clip_grad=dict(max_norm=..)`` clips by norm (``type='value'`` and ``clip_value``
    by value); the norm is logged as ``train/grad_norm``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, accumulative_counts: int = 1, clip_grad: dict | None = None):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"OptimWrapper: optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        if not isinstance(accumulative_counts, int) or accumulative_counts < 1:
            raise ValueError(f"OptimWrapper: accumulative_counts must be a positive int, got {accumulative_counts!r}")
        self.optimizer = optimizer
        self._accumulative_counts = accumulative_counts
        self.clip_grad_kwargs = None
        if clip_grad is not None:
            if not isinstance(clip_grad, dict) or not clip_grad:
                raise ValueError(
                    f"OptimWrapper: clip_grad must be a non-empty dict such as dict(max_norm=35), got {clip_grad!r}"
                )
            clip_grad = dict(clip_grad)
            clip_type = clip_grad.pop("type", "norm")
            if clip_type == "norm":
                self._clip_func, self._grad_name, required = torch.nn.utils.clip_grad_norm_, "grad_norm", "max_norm"
            elif clip_type == "value":
                self._clip_func, self._grad_name, required = torch.nn.utils.clip_grad_value_, "grad_value", "clip_value"
            else:
                raise ValueError(f"OptimWrapper: clip_grad type must be 'norm' or 'value', got {clip_type!r}")
            if required not in clip_grad:
                raise ValueError(f"OptimWrapper: clip_grad of type {clip_type!r} needs {required!r}, got {clip_grad!r}")
            self.clip_grad_kwargs = clip_grad
        self._inner_count = 0
        self._max_counts = -1
        self._remainder_counts = -1
        # With several parameter groups, the optimizer defaults are what "the" learning rate means for logs.
        self.base_param_settings = None
        if len(optimizer.param_groups) > 1:
            self.base_param_settings = {"params": torch.tensor([0.0]), **optimizer.defaults}

    # ------------------------------------------------------------------ the step
    def update_params(self, loss: torch.Tensor, step_kwargs: dict | None = None, zero_kwargs: dict | None = None):
        loss = self.scale_loss(loss)
        self.backward(loss)
        if self.should_update():
            self.step(**(step_kwargs or {}))
            self.zero_grad(**(zero_kwargs or {}))

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        loss.backward(**kwargs)
        self._inner_count += 1

    def zero_grad(self, **kwargs) -> None:
        self.optimizer.zero_grad(**kwargs)

    def step(self, **kwargs) -> None:
        if self.clip_grad_kwargs:
            self._clip_grad()
        self.optimizer.step(**kwargs)

    def _clip_grad(self) -> None:
        params = [p for group in self.optimizer.param_groups for p in group["params"] if p.requires_grad]
        params = [p for p in params if p.grad is not None]
        if not params:
            return
        result = self._clip_func(params, **self.clip_grad_kwargs)
        if result is not None:
            self.last_grad_value = float(result)
            from vk_core.logging import MessageHub

            MessageHub.get_current_instance().update_scalar(f"train/{self._grad_name}", self.last_grad_value)

    # ------------------------------------------------------------------ accumulation
    def initialize_count_status(self, model: nn.Module, init_counts: int, max_counts: int) -> None:
        """Tell the wrapper where training starts and ends so the last partial window still steps."""
        self._inner_count = init_counts
        self._max_counts = max_counts
        if self._inner_count % self._accumulative_counts != 0:
            _log(
                f"resumed iteration {init_counts} is not a multiple of accumulative_counts="
                f"{self._accumulative_counts}; the first window after resuming is shorter",
                logging.WARNING,
            )
        if self._accumulative_counts > 1:
            from vk_core.model.utils import has_batch_norm

            if has_batch_norm(model):
                _log("gradient accumulation with BatchNorm layers sees smaller batches than the effective one")
        self._remainder_counts = self._max_counts % self._accumulative_counts

    def should_update(self) -> bool:
        return self._inner_count % self._accumulative_counts == 0 or self._inner_count == self._max_counts

    def should_sync(self) -> bool:
        # Called before backward, hence the +1.
        nxt = self._inner_count + 1
        return nxt % self._accumulative_counts == 0 or nxt == self._max_counts

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        if self._accumulative_counts == 1:
            factor = 1
        elif self._max_counts == -1:
            factor = self._accumulative_counts
        elif self._inner_count < self._max_counts - self._remainder_counts:
            factor = self._accumulative_counts
        else:
            factor = self._remainder_counts
            if factor <= 0:
                raise RuntimeError(
                    f"OptimWrapper: update {self._inner_count + 1} is past max_counts={self._max_counts}; "
                    f"check the init_counts/max_counts given to initialize_count_status"
                )
        # Skipping the division when nothing accumulates saves an autograd node on every iteration.
        return loss if factor == 1 else loss / factor

    @property
    def inner_count(self) -> int:
        return self._inner_count

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Skips DDP gradient synchronisation on accumulation steps that do not update."""
        if not self.should_sync() and hasattr(model, "no_sync"):
            with model.no_sync():
                yield
        else:
            yield

    # ------------------------------------------------------------------ state and introspection
    def state_dict(self) -> dict:
        state = self.optimizer.state_dict()
        if self.base_param_settings is not None:
            # Schedulers move these values too; keep them so a resumed run logs the same base_lr.
            state["base_param_settings"] = {k: v for k, v in self.base_param_settings.items() if k != "params"}
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        base = state_dict.pop("base_param_settings", None)
        self.optimizer.load_state_dict(state_dict)
        if base is not None and self.base_param_settings is not None:
            self.base_param_settings.update(base)

    @property
    def param_groups(self) -> list[dict]:
        # With several groups, a pseudo group holding the optimizer defaults rides along so that schedulers
        # also move the "base" values reported as base_lr (as MMEngine does).
        if self.base_param_settings is not None:
            return self.optimizer.param_groups + [self.base_param_settings]
        return self.optimizer.param_groups

    @property
    def defaults(self) -> dict:
        return self.optimizer.defaults

    def get_lr(self) -> dict[str, list[float]]:
        result = {}
        if self.base_param_settings is not None:
            result["base_lr"] = [self.base_param_settings["lr"]]
        result["lr"] = [group["lr"] for group in self.optimizer.param_groups]
        return result

    def get_momentum(self) -> dict[str, list[float]]:
        values = []
        for group in self.optimizer.param_groups:
            if "momentum" in group:
                values.append(group["momentum"])
            elif "betas" in group:
                values.append(group["betas"][0])
            else:
                values.append(0)
        return {"momentum": values}

    def __repr__(self) -> str:
        text = f"Type: {type(self).__name__}\naccumulative_counts: {self._accumulative_counts}\noptimizer: \n{self.optimizer}"
        if self.clip_grad_kwargs:
            text += f"\nclip_grad: {self.clip_grad_kwargs}"
        return text
