"""Second-stage (RoI) heads of two-stage detectors."""

from .base_roi_head import BaseRoIHead
from .bbox_heads import BBoxHead, ConvFCBBoxHead, Shared2FCBBoxHead, Shared4Conv1FCBBoxHead
from .mask_heads import FCNMaskHead
from .roi_extractors import BaseRoIExtractor, SingleRoIExtractor
from .standard_roi_head import StandardRoIHead

__all__ = [
    "BBoxHead",
    "BaseRoIExtractor",
    "BaseRoIHead",
    "ConvFCBBoxHead",
    "FCNMaskHead",
    "Shared2FCBBoxHead",
    "Shared4Conv1FCBBoxHead",
    "SingleRoIExtractor",
    "StandardRoIHead",
]
