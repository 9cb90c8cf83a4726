"""``BaseMetric``: per-batch processing, cross-rank collection in dataset order, then one computation."""

from __future__ import annotations

import pickle
import warnings
from abc import ABCMeta, abstractmethod
from pathlib import Path

import torch

from vk_core.dist import broadcast_object_list, collect_results, get_rank, get_world_size


def _to_cpu(data):
    if isinstance(data, torch.Tensor):
        return data.detach().cpu()
    if isinstance(data, dict):
        return {k: _to_cpu(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(_to_cpu(v) for v in data)
    if hasattr(data, "to") and hasattr(data, "keys"):  # BaseDataElement
        return data.to("cpu")
    return data


class BaseMetric(metaclass=ABCMeta):
    """Subclasses append per-sample records to ``self.results`` in ``process`` and reduce them in
    ``compute_metrics``. ``evaluate(size)`` gathers every rank's records in dataset order, drops the samples the
    sampler padded (beyond ``size``), computes on rank 0 and broadcasts the metrics to all ranks.
    """

    default_prefix: str | None = None

    def __init__(self, collect_device: str = "cpu", prefix: str | None = None, collect_dir: str | None = None):
        if collect_device not in ("cpu", "gpu"):
            raise ValueError(f"{type(self).__name__}: collect_device must be 'cpu' or 'gpu', got {collect_device!r}")
        self.collect_device = collect_device
        self.collect_dir = collect_dir
        self.prefix = prefix or self.default_prefix
        self.results: list = []
        self._dataset_meta: dict | None = None

    @property
    def dataset_meta(self) -> dict | None:
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta: dict | None) -> None:
        self._dataset_meta = meta

    @abstractmethod
    def process(self, data_batch, data_samples) -> None:
        """Records what ``compute_metrics`` needs from one batch."""

    @abstractmethod
    def compute_metrics(self, results: list) -> dict:
        """Reduces all records (already in dataset order) to ``{name: value}``."""

    def evaluate(self, size: int) -> dict:
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"{type(self).__name__}.evaluate: size must be a non-negative int, got {size!r}")
        if not self.results:
            warnings.warn(
                f"{type(self).__name__} got no results: check that its process() appends to self.results",
                stacklevel=2,
            )
        results = collect_results(self.results, size, self.collect_device)
        if get_rank() == 0:
            metrics = self.compute_metrics(_to_cpu(results))
            if self.prefix:
                metrics = {f"{self.prefix}/{k}": v for k, v in metrics.items()}
            box = [metrics]
        else:
            box = [None]
        if get_world_size() > 1:
            broadcast_object_list(box)
        self.results.clear()
        return box[0]


class DumpResults(BaseMetric):
    """Writes the predictions to a pickle file instead of computing metrics (for offline evaluation)."""

    def __init__(self, out_file_path: str, collect_device: str = "cpu", collect_dir: str | None = None):
        super().__init__(collect_device=collect_device, collect_dir=collect_dir)
        if not str(out_file_path).endswith((".pkl", ".pickle")):
            raise ValueError(f"DumpResults: out_file_path must end with .pkl or .pickle, got {out_file_path!r}")
        self.out_file_path = str(out_file_path)

    def process(self, data_batch, data_samples) -> None:
        self.results.extend(_to_cpu(list(data_samples)))

    def compute_metrics(self, results: list) -> dict:
        path = Path(self.out_file_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            pickle.dump(results, f)
        from vk_core.logging import print_log

        print_log(f"Results have been saved to {path}.", logger="current")
        return {}


def get_metric_value(indicator: str, metrics: dict):
    """Finds ``indicator`` ('AP' or 'COCO/AP') in ``metrics``; a bare name matches a single prefixed key."""
    if indicator in metrics:
        return metrics[indicator]
    if "/" not in indicator:
        matches = [k for k in metrics if k.split("/")[-1] == indicator]
        if len(matches) == 1:
            return metrics[matches[0]]
        if len(matches) > 1:
            raise ValueError(f"metric {indicator!r} is ambiguous among {matches}; use the prefixed name")
    raise ValueError(f"metric {indicator!r} not found in the evaluation results {list(metrics)}")
