"""Detection data structures: DetDataSample, HorizontalBoxes, BitmapMasks/PolygonMasks and box/mask helpers."""

from .bbox import (
    bbox2result,
    bbox2roi,
    bbox_cxcywh_to_xyxy,
    bbox_flip,
    bbox_mapping,
    bbox_mapping_back,
    bbox_xywh_to_xyxy,
    bbox_xyxy_to_cxcywh,
    bbox_xyxy_to_xywh,
    get_box_tensor,
    roi2bbox,
    scale_boxes,
)
from .boxes import HorizontalBoxes, bbox_iou
from .mask_utils import encode_mask_results, mask2bbox
from .masks import BitmapMasks, PolygonMasks, polygons_to_bitmap, rescale_size

__all__ = [
    "BitmapMasks",
    "DetDataSample",
    "HorizontalBoxes",
    "OptSampleList",
    "PolygonMasks",
    "SampleList",
    "bbox2result",
    "bbox2roi",
    "bbox_cxcywh_to_xyxy",
    "bbox_flip",
    "bbox_iou",
    "bbox_mapping",
    "bbox_mapping_back",
    "bbox_xywh_to_xyxy",
    "bbox_xyxy_to_cxcywh",
    "bbox_xyxy_to_xywh",
    "encode_mask_results",
    "get_box_tensor",
    "mask2bbox",
    "polygons_to_bitmap",
    "rescale_size",
    "roi2bbox",
    "scale_boxes",
]

_LAZY = {"DetDataSample", "SampleList", "OptSampleList"}


def __getattr__(name):
    # DetDataSample needs vk_core.structures; imported on first use so the box/mask helpers stay light.
    if name in _LAZY:
        from . import det_data_sample

        return getattr(det_data_sample, name)
    raise AttributeError(f"module 'vk_det.structures' has no attribute {name!r}")
