"""Detection transforms, registered in vk_det's TRANSFORMS on import.

Names not defined here (LoadImageFromFile, Normalize, PhotoMetricDistortion, TestTimeAug, RandomApply, ...)
resolve to vk_core's through the registry parent.
"""

from .formatting import PackDetInputs
from .geometric import Expand, MinIoURandomCrop, Pad, RandomChoiceResize, RandomCrop, RandomFlip, RandomResize, Resize
from .loading import LoadAnnotations, LoadImageFromNDArray
from .mix import MixUp, Mosaic, RandomAffine, YOLOXHSVRandomAug
from .transforms import FilterAnnotations
from .tta import MultiScaleFlipAug

__all__ = [
    "Expand",
    "FilterAnnotations",
    "LoadAnnotations",
    "LoadImageFromNDArray",
    "MinIoURandomCrop",
    "MixUp",
    "MultiScaleFlipAug",
    "Mosaic",
    "RandomAffine",
    "YOLOXHSVRandomAug",
    "PackDetInputs",
    "Pad",
    "RandomChoiceResize",
    "RandomCrop",
    "RandomFlip",
    "RandomResize",
    "Resize",
]
