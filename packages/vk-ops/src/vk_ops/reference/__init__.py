"""Pure-PyTorch references of every vk-ops operator: the ground truth the kernels are tested against and the
fallback when no kernel is available for a device. Written for clarity and vectorised; never the fast path."""

from vk_ops.reference.bbox import bbox_overlaps

__all__ = ["bbox_overlaps"]
