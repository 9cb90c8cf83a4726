"""Task modules: prior generators, box coders, assigners, samplers."""

from vk_det.models.task_modules.assigners import AssignResult, ATSSAssigner, BboxOverlaps2D, MaxIoUAssigner
from vk_det.models.task_modules.coders import DeltaXYWHBBoxCoder, DistancePointBBoxCoder
from vk_det.models.task_modules.prior_generators import AnchorGenerator, MlvlPointGenerator
from vk_det.models.task_modules.samplers import PseudoSampler, RandomSampler, SamplingResult

__all__ = [
    "ATSSAssigner",
    "AnchorGenerator",
    "AssignResult",
    "BboxOverlaps2D",
    "DeltaXYWHBBoxCoder",
    "DistancePointBBoxCoder",
    "MaxIoUAssigner",
    "MlvlPointGenerator",
    "PseudoSampler",
    "RandomSampler",
    "SamplingResult",
]
