"""Evaluation: ``BaseMetric``, ``Evaluator``, ``DumpResults``, ``offline_evaluate``."""

from vk_core.evaluator.evaluator import Evaluator, offline_evaluate
from vk_core.evaluator.metric import BaseMetric, DumpResults, get_metric_value


def _register() -> None:
    from vk_core.registry import EVALUATOR, METRICS

    EVALUATOR.register_module(module=Evaluator, force=True)
    METRICS.register_module(module=DumpResults, force=True)


_register()

__all__ = ["BaseMetric", "DumpResults", "Evaluator", "get_metric_value", "offline_evaluate"]
