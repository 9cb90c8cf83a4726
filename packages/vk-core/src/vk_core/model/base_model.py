"""``BaseModel``: the model interface the runner drives (train_step / val_step / test_step)."""

from __future__ import annotations

import functools
import operator
from collections import OrderedDict
from collections.abc import Mapping

import torch
from torch import nn

from vk_core.registry import MODELS

from .base_module import BaseModule


class BaseModel(BaseModule):
    """A model with three forward modes and the steps the loops call.

    Subclasses implement ``forward(inputs, data_samples=None, mode='tensor')``:
    ``'loss'`` returns a dict of losses, ``'predict'`` a list of results, ``'tensor'`` raw network outputs.
    ``data_preprocessor`` (a module or a config, default ``BaseDataPreprocessor``) runs first in every step.
    """

    def __init__(self, data_preprocessor: dict | nn.Module | None = None, init_cfg=None):
        super().__init__(init_cfg)
        if data_preprocessor is None:
            data_preprocessor = dict(type="BaseDataPreprocessor")
        if isinstance(data_preprocessor, nn.Module):
            self.data_preprocessor = data_preprocessor
        elif isinstance(data_preprocessor, Mapping):
            self.data_preprocessor = MODELS.build(data_preprocessor)
        else:
            raise TypeError(
                f"{type(self).__name__}: data_preprocessor must be a dict, an nn.Module or None, got "
                f"{type(data_preprocessor).__name__}"
            )

    def train_step(self, data, optim_wrapper) -> dict[str, torch.Tensor]:
        """Preprocess, compute losses, backpropagate and (when due) update; returns the detached log values."""
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode="loss")
        parsed_loss, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(parsed_loss)
        return log_vars

    def val_step(self, data) -> list:
        data = self.data_preprocessor(data, False)
        return self._run_forward(data, mode="predict")

    def test_step(self, data) -> list:
        data = self.data_preprocessor(data, False)
        return self._run_forward(data, mode="predict")

    def parse_losses(self, losses: Mapping) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Sum every entry whose key contains ``'loss'`` into the loss to backpropagate.

        Each value is a tensor (averaged) or a list of tensors (each averaged, then summed). Entries without
        'loss' in the name (accuracies, ...) are only logged. Returns ``(loss, log_vars)`` with ``log_vars``
        detached and starting with the total ``'loss'``.
        """
        if not isinstance(losses, Mapping):
            raise TypeError(f"forward(mode='loss') must return a dict of losses, got {type(losses).__name__}")
        items = []
        for name, value in losses.items():
            # Scalars are used as they are: a .mean() on them would add an autograd node per loss per iteration.
            if isinstance(value, torch.Tensor):
                items.append((name, value if value.dim() == 0 else value.mean()))
            elif isinstance(value, (list, tuple)) and all(isinstance(v, torch.Tensor) for v in value):
                means = [v if v.dim() == 0 else v.mean() for v in value]
                items.append((name, functools.reduce(operator.add, means) if means else torch.zeros(())))
            else:
                raise TypeError(f"loss {name!r} must be a tensor or a list of tensors, got {type(value).__name__}")
        loss_terms = [value for name, value in items if "loss" in name]
        if not loss_terms:
            raise ValueError(f"forward(mode='loss') returned no key containing 'loss' (keys: {[n for n, _ in items]})")
        loss = functools.reduce(operator.add, loss_terms)
        log_vars = OrderedDict([("loss", loss.detach())])
        log_vars.update((name, value.detach()) for name, value in items)
        return loss, log_vars

    def _run_forward(self, data, mode: str):
        if isinstance(data, Mapping):
            return self(**data, mode=mode)
        if isinstance(data, (list, tuple)):
            return self(*data, mode=mode)
        raise TypeError(f"the preprocessed batch must be a dict or a tuple/list, got {type(data).__name__}")

    def forward(self, inputs: torch.Tensor, data_samples=None, mode: str = "tensor"):
        raise NotImplementedError(f"{type(self).__name__} must implement forward(inputs, data_samples, mode)")


class BaseTTAModel(BaseModel):
    """Test-time augmentation: run the wrapped model once per augmentation and merge with ``merge_preds``.

    The batch holds one list per key with one entry per augmentation, e.g.
    ``inputs=[[img1_aug1, img2_aug1], [img1_aug2, img2_aug2]]``. ``merge_preds`` receives, for each image, the
    list of its predictions over the augmentations and returns one prediction per image.
    """

    def __init__(self, module: dict | nn.Module, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        if isinstance(module, nn.Module):
            self.module = module
        elif isinstance(module, Mapping):
            self.module = MODELS.build(module)
        else:
            raise TypeError(f"BaseTTAModel: module must be an nn.Module or a config dict, got {type(module).__name__}")

    def merge_preds(self, data_samples_list: list[list]) -> list:
        raise NotImplementedError(f"{type(self).__name__} must implement merge_preds(data_samples_list)")

    def test_step(self, data) -> list:
        if isinstance(data, Mapping):
            num_augs = len(next(iter(data.values())))
            per_aug = [{key: value[i] for key, value in data.items()} for i in range(num_augs)]
        elif isinstance(data, (list, tuple)):
            num_augs = len(data[0])
            per_aug = [[item[i] for item in data] for i in range(num_augs)]
        else:
            raise TypeError(f"BaseTTAModel.test_step: data must be a dict or a list, got {type(data).__name__}")
        predictions = [self.module.test_step(batch) for batch in per_aug]
        return self.merge_preds([list(per_image) for per_image in zip(*predictions)])

    def val_step(self, data) -> list:
        return self.test_step(data)

    def forward(self, inputs=None, data_samples=None, mode: str = "tensor"):
        raise NotImplementedError("BaseTTAModel runs through test_step, not forward")
