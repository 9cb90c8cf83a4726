"""``AmpOptimWrapper``: automatic mixed precision through ``torch.autocast`` and a gradient scaler."""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from vk_core.registry import OPTIM_WRAPPERS

from .optim_wrapper import OptimWrapper

_DTYPES = {"float16": torch.float16, "half": torch.float16, "bfloat16": torch.bfloat16}


@OPTIM_WRAPPERS.register_module()
class AmpOptimWrapper(OptimWrapper):
    """Mixed precision: the forward runs under ``torch.autocast(dtype)``; float16 losses are scaled.

    ``dtype`` is 'float16' (default on CUDA) or 'bfloat16' (default on CPU, where float16 autocast is slow).
    ``loss_scale`` is 'dynamic', a float (static scale) or a dict of ``torch.amp.GradScaler`` arguments.
    bfloat16 has float32's exponent range, so no loss scaling is applied for it (the scaler is disabled).
    """

    def __init__(self, loss_scale="dynamic", dtype: str | torch.dtype | None = None, **kwargs):
        super().__init__(**kwargs)
        self._device_type = self._param_device_type()
        if dtype is None:
            dtype = "float16" if self._device_type == "cuda" else "bfloat16"
        if isinstance(dtype, str):
            if dtype not in _DTYPES:
                raise ValueError(f"AmpOptimWrapper: dtype must be 'float16' or 'bfloat16', got {dtype!r}")
            dtype = _DTYPES[dtype]
        if dtype not in (torch.float16, torch.bfloat16):
            raise ValueError(f"AmpOptimWrapper: dtype must be float16 or bfloat16, got {dtype}")
        self.cast_dtype = dtype
        enabled = dtype == torch.float16
        self._scale_update_param = None
        if loss_scale == "dynamic":
            scaler_kwargs = {}
        elif isinstance(loss_scale, (int, float)) and not isinstance(loss_scale, bool):
            self._scale_update_param = float(loss_scale)
            scaler_kwargs = {"init_scale": float(loss_scale)}
        elif isinstance(loss_scale, dict):
            scaler_kwargs = dict(loss_scale)
        else:
            raise ValueError(
                f"AmpOptimWrapper: loss_scale must be 'dynamic', a number or a dict of GradScaler arguments, "
                f"got {loss_scale!r}"
            )
        self.loss_scaler = torch.amp.GradScaler(self._device_type, enabled=enabled, **scaler_kwargs)

    def _param_device_type(self) -> str:
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                return p.device.type
        return "cuda" if torch.cuda.is_available() else "cpu"

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        self.loss_scaler.scale(loss).backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update(self._scale_update_param)

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["loss_scaler"] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop("loss_scaler", None)
        if scaler_state:
            self.loss_scaler.load_state_dict(scaler_state)
        super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(device_type=self._device_type, dtype=self.cast_dtype):
            yield
