"""Data preprocessors."""

from vk_det.models.data_preprocessors.data_preprocessor import DetDataPreprocessor

__all__ = ["DetDataPreprocessor"]
