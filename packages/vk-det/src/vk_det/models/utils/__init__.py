"""Helpers for the detection heads."""

from vk_det.models.utils.misc import (
    empty_instances,
    filter_scores_and_topk,
    get_box_tensor,
    images_to_levels,
    multi_apply,
    samplelist_boxtype2tensor,
    scale_boxes,
    select_single_mlvl,
    unmap,
    unpack_gt_instances,
)

__all__ = [
    "empty_instances",
    "filter_scores_and_topk",
    "get_box_tensor",
    "images_to_levels",
    "multi_apply",
    "samplelist_boxtype2tensor",
    "scale_boxes",
    "select_single_mlvl",
    "unmap",
    "unpack_gt_instances",
]
