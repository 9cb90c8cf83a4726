"""Inference APIs: DetInferencer, init_detector, inference_detector."""

from .det_inferencer import DetInferencer, list_images
from .inference import get_test_pipeline_cfg, inference_detector, init_detector, resolve_config

__all__ = [
    "DetInferencer",
    "inference_detector",
    "init_detector",
    "list_images",
    "resolve_config",
    "get_test_pipeline_cfg",
]
