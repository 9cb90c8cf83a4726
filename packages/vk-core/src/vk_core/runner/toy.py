"""A tiny classification task (model, dataset, metric) for demos, smoke tests and the runner benchmark.

Register it with ``custom_imports = dict(imports=['vk_core.runner.toy'])`` in a config.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vk_core.evaluator import BaseMetric
from vk_core.model import BaseModel
from vk_core.registry import DATASETS, METRICS, MODELS


@MODELS.register_module(force=True)
class ToyClassifier(BaseModel):
    """An MLP (optionally with dropout, so that random state matters) over feature vectors."""

    def __init__(
        self,
        in_channels: int = 8,
        hidden: int = 32,
        num_classes: int = 4,
        dropout: float = 0.0,
        data_preprocessor=None,
        init_cfg=None,
    ):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.net = nn.Sequential(
            nn.Linear(in_channels, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, num_classes)
        )

    @staticmethod
    def _stack(inputs):
        return torch.stack(list(inputs)) if isinstance(inputs, list | tuple) else inputs

    def forward(self, inputs, data_samples=None, mode: str = "tensor"):
        x = self._stack(inputs)
        logits = self.net(x)
        if mode == "tensor":
            return logits
        if mode == "loss":
            labels = torch.as_tensor(data_samples, device=logits.device).long()
            return {"loss_cls": F.cross_entropy(logits, labels)}
        if mode == "predict":
            preds = logits.argmax(1).tolist()
            labels = list(data_samples) if data_samples is not None else [None] * len(preds)
            return [{"pred_label": p, "gt_label": int(g) if g is not None else None} for p, g in zip(preds, labels)]
        raise ValueError(f"ToyClassifier.forward: mode must be 'loss', 'predict' or 'tensor', got {mode!r}")


@DATASETS.register_module(force=True)
class ToyDataset(torch.utils.data.Dataset):
    """``num_samples`` Gaussian blobs around ``num_classes`` fixed centres; deterministic for a given seed."""

    def __init__(
        self, num_samples: int = 64, in_channels: int = 8, num_classes: int = 4, noise: float = 0.5, seed: int = 0
    ):
        if num_samples < 1:
            raise ValueError(f"ToyDataset: num_samples must be >= 1, got {num_samples}")
        # the class centres define the task and are the same for every split; ``seed`` draws the samples
        centres = torch.randn(num_classes, in_channels, generator=torch.Generator().manual_seed(1234)) * 2
        g = torch.Generator().manual_seed(seed)
        self.labels = torch.arange(num_samples) % num_classes
        self.data = centres[self.labels] + noise * torch.randn(num_samples, in_channels, generator=g)
        self.metainfo = {"classes": tuple(str(i) for i in range(num_classes))}

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: int) -> dict:
        return {"inputs": self.data[idx], "data_samples": int(self.labels[idx])}


@METRICS.register_module(force=True)
class ToyAccuracy(BaseMetric):
    default_prefix = "toy"

    def process(self, data_batch, data_samples) -> None:
        self.results.extend(int(s["pred_label"] == s["gt_label"]) for s in data_samples)

    def compute_metrics(self, results: list) -> dict:
        return {"accuracy": 100.0 * sum(results) / max(len(results), 1)}


def toy_config(work_dir: str, max_epochs: int = 2, batch_size: int = 8, num_samples: int = 64, **overrides) -> dict:
    """A complete Runner config for the toy task."""
    cfg = dict(
        custom_imports=dict(imports=["vk_core.runner.toy"]),
        work_dir=work_dir,
        model=dict(type="ToyClassifier"),
        train_dataloader=dict(
            dataset=dict(type="ToyDataset", num_samples=num_samples),
            sampler=dict(type="DefaultSampler", shuffle=True),
            batch_size=batch_size,
            num_workers=0,
        ),
        val_dataloader=dict(
            dataset=dict(type="ToyDataset", num_samples=32, seed=1),
            sampler=dict(type="DefaultSampler", shuffle=False),
            batch_size=batch_size,
        ),
        test_dataloader=dict(
            dataset=dict(type="ToyDataset", num_samples=32, seed=2),
            sampler=dict(type="DefaultSampler", shuffle=False),
            batch_size=batch_size,
        ),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1),
        val_cfg=dict(),
        test_cfg=dict(),
        val_evaluator=dict(type="ToyAccuracy"),
        test_evaluator=dict(type="ToyAccuracy"),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.1, momentum=0.9)),
        param_scheduler=[dict(type="MultiStepLR", milestones=[1], gamma=0.1)],
        default_hooks=dict(logger=dict(type="LoggerHook", interval=2)),
        randomness=dict(seed=0),
    )
    cfg.update(overrides)
    return cfg
