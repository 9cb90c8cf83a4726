"""Model wrappers: ``VkDistributedDataParallel`` and ``is_model_wrapper``.

A wrapper keeps the wrapped ``BaseModel`` in ``.module`` and exposes ``train_step``/``val_step``/``test_step``,
so loops call the same three methods whether or not the model is distributed.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.parallel import DataParallel, DistributedDataParallel

from vk_core.registry import MODEL_WRAPPERS

from .utils import find_unused_parameters

MODEL_WRAPPERS.register_module(module=DistributedDataParallel, force=True)
MODEL_WRAPPERS.register_module(module=DataParallel, force=True)

_UNUSED_HINTS = ("find_unused_parameters", "finished reduction", "did not receive grad")


@MODEL_WRAPPERS.register_module()
class VkDistributedDataParallel(DistributedDataParallel):
    """``DistributedDataParallel`` whose ``train_step`` runs the forward through DDP (so gradients sync).

    When DDP fails because some parameters took no part in the loss, the error is re-raised with their names
    (found by tracing the loss graph of the failing batch) and the two fixes.
    """

    def __init__(self, module: nn.Module, detect_anomalous_params: bool = False, **kwargs):
        super().__init__(module=module, **kwargs)
        self.detect_anomalous_params = detect_anomalous_params

    def train_step(self, data, optim_wrapper) -> dict[str, torch.Tensor]:
        try:
            with optim_wrapper.optim_context(self):
                data = self.module.data_preprocessor(data, training=True)
                losses = self._run_forward(data, mode="loss")
        except RuntimeError as exc:
            if any(h in str(exc) for h in _UNUSED_HINTS):
                raise RuntimeError(f"{exc}\n{self._unused_report(data)}") from exc
            raise
        parsed_loss, log_vars = self.module.parse_losses(losses)
        if self.detect_anomalous_params:
            from .utils import detect_anomalous_params

            detect_anomalous_params(parsed_loss, self.module)
        optim_wrapper.update_params(parsed_loss)
        return log_vars

    def _unused_report(self, data) -> str:
        try:
            with torch.enable_grad():
                losses = self.module._run_forward(data, mode="loss")
                loss, _ = self.module.parse_losses(losses)
            names = find_unused_parameters(loss, self.module)
        except Exception as exc:  # the report is best effort; never hide the original error
            return f"(could not list the unused parameters: {exc})"
        if not names:
            return "every trainable parameter reaches the loss on this batch; check the previous iterations"
        return (
            "parameters that did not contribute to the loss: " + ", ".join(names) + ". Either use them in the "
            "loss, freeze them (requires_grad=False), or set model_wrapper_cfg=dict(find_unused_parameters=True)."
        )

    def val_step(self, data) -> list:
        return self.module.val_step(data)

    def test_step(self, data) -> list:
        return self.module.test_step(data)

    def _run_forward(self, data, mode: str):
        if isinstance(data, dict):
            return self(**data, mode=mode)
        if isinstance(data, (list, tuple)):
            return self(*data, mode=mode)
        raise TypeError(f"the preprocessed batch must be a dict or a tuple/list, got {type(data).__name__}")


def is_model_wrapper(model, registry=MODEL_WRAPPERS) -> bool:
    """True if ``model`` is an instance of a class registered in ``registry`` or any of its child registries."""
    classes = tuple(cls for cls in registry.module_dict.values() if isinstance(cls, type))
    if classes and isinstance(model, classes):
        return True
    return any(is_model_wrapper(model, child) for child in registry.children.values())
