"""Inference APIs: DetInferencer, init_detector, inference_detector."""

from .det_inferencer import DetInferencer, list_images
from .inference import inference_detector, init_detector, resolve_config, test_pipeline_cfg

__all__ = ["DetInferencer", "inference_detector", "init_detector", "list_images", "resolve_config", "test_pipeline_cfg"]
