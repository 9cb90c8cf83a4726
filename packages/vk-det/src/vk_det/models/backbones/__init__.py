"""Backbones: ResNet, ResNetV1d, ResNeXt, MobileNetV2."""

from vk_det.models.backbones.mobilenet_v2 import MobileNetV2
from vk_det.models.backbones.resnet import ResNet, ResNetV1d, ResNeXt

__all__ = ["MobileNetV2", "ResNeXt", "ResNet", "ResNetV1d"]
