"""Pure-PyTorch references of every vk-ops operator: the ground truth the kernels are tested against and the
fallback when no kernel is available for a device. Written for clarity and vectorised where it is cheap to do so
(the greedy NMS loops stay loops); never the fast path."""

from vk_ops.reference.bbox import bbox_overlaps
from vk_ops.reference.focal_loss import sigmoid_focal_loss, softmax_focal_loss
from vk_ops.reference.nms import nms, nms_match, soft_nms
from vk_ops.reference.roi import roi_align, roi_pool

__all__ = [
    "bbox_overlaps",
    "nms",
    "nms_match",
    "roi_align",
    "roi_pool",
    "sigmoid_focal_loss",
    "soft_nms",
    "softmax_focal_loss",
]
