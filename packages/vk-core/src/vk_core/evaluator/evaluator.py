"""``Evaluator``: runs several metrics over the same predictions; ``offline_evaluate`` for dumped ones."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

from vk_core.evaluator.metric import BaseMetric


def _as_dict(sample):
    if hasattr(sample, "to_dict"):
        return sample.to_dict()
    return sample


class Evaluator:
    def __init__(self, metrics):
        if isinstance(metrics, dict | BaseMetric):
            metrics = [metrics]
        if not isinstance(metrics, Sequence):
            raise TypeError(
                f"Evaluator: metrics must be a metric, a config dict or a list, got {type(metrics).__name__}"
            )
        self.metrics: list[BaseMetric] = []
        for i, metric in enumerate(metrics):
            if isinstance(metric, dict):
                from vk_core.registry import METRICS

                metric = METRICS.build(metric)
            if not isinstance(metric, BaseMetric):
                raise TypeError(f"Evaluator: metrics[{i}] is a {type(metric).__name__}, not a BaseMetric")
            self.metrics.append(metric)
        self._dataset_meta = None

    @property
    def dataset_meta(self):
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta) -> None:
        self._dataset_meta = meta
        for metric in self.metrics:
            metric.dataset_meta = meta

    def process(self, data_samples, data_batch=None) -> None:
        samples = [_as_dict(s) for s in data_samples]
        for metric in self.metrics:
            metric.process(data_batch, samples)

    def evaluate(self, size: int) -> dict:
        merged = {}
        for metric in self.metrics:
            result = metric.evaluate(size)
            for key, value in result.items():
                if key in merged:
                    raise ValueError(
                        f"Evaluator: metric name {key!r} is produced by more than one metric "
                        f"({type(metric).__name__} among them); give them different prefixes"
                    )
                merged[key] = value
        return merged

    def offline_evaluate(self, data_samples, data=None, chunk_size: int = 1) -> dict:
        """Evaluates stored predictions (a list, or a path to a DumpResults pickle) in chunks."""
        if isinstance(data_samples, str):
            with open(data_samples, "rb") as f:
                data_samples = pickle.load(f)
        if data is not None and len(data) != len(data_samples):
            raise ValueError(f"offline_evaluate: data has {len(data)} items but data_samples has {len(data_samples)}")
        if chunk_size < 1:
            raise ValueError(f"offline_evaluate: chunk_size must be >= 1, got {chunk_size}")
        size = len(data_samples)
        for start in range(0, size, chunk_size):
            chunk = data_samples[start : start + chunk_size]
            batch = None if data is None else data[start : start + chunk_size]
            self.process(chunk, batch)
        return self.evaluate(size)


def offline_evaluate(metrics, data_samples, data=None, chunk_size: int = 1) -> dict:
    """Shortcut: ``Evaluator(metrics).offline_evaluate(...)``."""
    return Evaluator(metrics).offline_evaluate(data_samples, data, chunk_size)
