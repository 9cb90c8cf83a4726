"""Detectors (TwoStageDetector, FasterRCNN, MaskRCNN: part 3)."""

from vk_det.models.detectors.base import BaseDetector
from vk_det.models.detectors.faster_rcnn import FasterRCNN
from vk_det.models.detectors.mask_rcnn import MaskRCNN
from vk_det.models.detectors.single_stage import ATSS, FCOS, RetinaNet, SingleStageDetector
from vk_det.models.detectors.two_stage import RPN, TwoStageDetector

__all__ = [
    "ATSS",
    "FCOS",
    "RPN",
    "BaseDetector",
    "FasterRCNN",
    "MaskRCNN",
    "RetinaNet",
    "SingleStageDetector",
    "TwoStageDetector",
]
