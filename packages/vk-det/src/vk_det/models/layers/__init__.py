"""Layers shared by the detection models."""

from vk_det.models._compat import Scale
from vk_det.models.backbones.mobilenet_v2 import InvertedResidual, make_divisible
from vk_det.models.backbones.resnet import BasicBlock, Bottleneck, ResLayer

__all__ = ["BasicBlock", "Bottleneck", "InvertedResidual", "ResLayer", "Scale", "make_divisible"]
