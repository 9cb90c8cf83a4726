"""Fake (meta) kernels: output shapes for torch.compile and torch.export without running the op."""

import torch


@torch.library.register_fake("vk_ops::bbox_overlaps")
def _bbox_overlaps_fake(bboxes1, bboxes2, mode="iou", aligned=False, offset=0):
    if aligned:
        return bboxes1.new_empty((bboxes1.shape[0],))
    return bboxes1.new_empty((bboxes1.shape[0], bboxes2.shape[0]))
