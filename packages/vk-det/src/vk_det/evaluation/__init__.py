"""Detection metrics, registered in vk_det's METRICS on import."""

from .coco_metric import CocoMetric, coco_api
from .mean_ap import average_precision, eval_map
from .voc_metric import VOCMetric

__all__ = ["CocoMetric", "VOCMetric", "average_precision", "coco_api", "eval_map"]
