"""vk-ops: compiled operators registered with the PyTorch dispatcher (``torch.ops.vk_ops``).

Each operator has a C++ kernel (and a CUDA kernel in CUDA builds) and a pure-PyTorch reference in
:mod:`vk_ops.reference`. The functions exported here pick the kernel for the input's device and fall back to
the reference, with one warning, where no kernel is available.
"""

from vk_ops._dispatch import available
from vk_ops._loader import build_info, kernels_loaded
from vk_ops.bbox import bbox_overlaps
from vk_ops.focal_loss import SigmoidFocalLoss, SoftmaxFocalLoss, sigmoid_focal_loss, softmax_focal_loss
from vk_ops.nms import batched_nms, nms, nms_match, soft_nms
from vk_ops.point_sample import (
    abs_img_point_to_rel_img_point,
    point_sample,
    rel_roi_point_to_abs_img_point,
    rel_roi_point_to_rel_img_point,
)
from vk_ops.roi import RoIAlign, RoIPool, roi_align, roi_pool

__version__ = build_info()["version"]

__all__ = [
    "RoIAlign",
    "RoIPool",
    "SigmoidFocalLoss",
    "SoftmaxFocalLoss",
    "__version__",
    "abs_img_point_to_rel_img_point",
    "available",
    "batched_nms",
    "bbox_overlaps",
    "build_info",
    "kernels_loaded",
    "nms",
    "nms_match",
    "point_sample",
    "rel_roi_point_to_abs_img_point",
    "rel_roi_point_to_rel_img_point",
    "roi_align",
    "roi_pool",
    "sigmoid_focal_loss",
    "soft_nms",
    "softmax_focal_loss",
]
