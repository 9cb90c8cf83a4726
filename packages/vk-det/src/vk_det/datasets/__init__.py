"""Detection datasets and samplers, registered in vk_det's DATASETS / DATA_SAMPLERS on import."""

from .base_det_dataset import BaseDetDataset
from .coco import COCO_CLASSES, CocoDataset, CocoFormatError, load_coco_json, make_palette
from .dataset_wrappers import MultiImageMixDataset
from .samplers import AspectRatioBatchSampler
from .voc import VOC_CLASSES, VOCDataset, XMLDataset, parse_voc_xml

__all__ = [
    "COCO_CLASSES",
    "VOC_CLASSES",
    "AspectRatioBatchSampler",
    "BaseDetDataset",
    "CocoDataset",
    "CocoFormatError",
    "MultiImageMixDataset",
    "VOCDataset",
    "XMLDataset",
    "load_coco_json",
    "make_palette",
    "parse_voc_xml",
]
