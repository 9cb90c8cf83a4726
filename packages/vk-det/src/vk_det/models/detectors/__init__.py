"""Detectors (TwoStageDetector, FasterRCNN, MaskRCNN: part 3)."""

from vk_det.models.detectors.base import BaseDetector
from vk_det.models.detectors.single_stage import ATSS, FCOS, RetinaNet, SingleStageDetector

__all__ = ["ATSS", "FCOS", "BaseDetector", "RetinaNet", "SingleStageDetector"]
