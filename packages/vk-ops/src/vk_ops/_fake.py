"""Fake (meta) kernels: output shapes for torch.compile and torch.export without running the op.

Ops whose output length depends on the data (the NMS family) allocate an unbacked size with
``get_ctx().new_dynamic_size()``, so traced graphs stay valid for every input.
"""

import torch


@torch.library.register_fake("vk_ops::bbox_overlaps")
def _bbox_overlaps_fake(bboxes1, bboxes2, mode="iou", aligned=False, offset=0):
    if aligned:
        return bboxes1.new_empty((bboxes1.shape[0],))
    return bboxes1.new_empty((bboxes1.shape[0], bboxes2.shape[0]))


@torch.library.register_fake("vk_ops::nms")
def _nms_fake(boxes, scores, iou_threshold, offset=0, score_threshold=0.0, max_num=-1):
    torch._check(boxes.dim() == 2 and boxes.shape[1] == 4, lambda: "nms: boxes must have shape (N, 4)")
    kept = torch.library.get_ctx().new_dynamic_size()
    return boxes.new_empty((kept,), dtype=torch.long)


@torch.library.register_fake("vk_ops::soft_nms")
def _soft_nms_fake(boxes, scores, iou_threshold, sigma, min_score, method, offset=0):
    kept = torch.library.get_ctx().new_dynamic_size()
    return boxes.new_empty((kept, 5)), boxes.new_empty((kept,), dtype=torch.long)


@torch.library.register_fake("vk_ops::nms_match")
def _nms_match_fake(dets, iou_threshold):
    groups = torch.library.get_ctx().new_dynamic_size()
    # Every box belongs to exactly one group, so the flat list has N entries.
    return dets.new_empty((dets.shape[0],), dtype=torch.long), dets.new_empty((groups,), dtype=torch.long)


@torch.library.register_fake("vk_ops::roi_align")
def _roi_align_fake(input, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, pool_mode, aligned):
    shape = (rois.shape[0], input.shape[1], pooled_height, pooled_width)
    argmax_shape = shape if pool_mode == 0 else (0,)
    return input.new_empty(shape), input.new_empty(argmax_shape), input.new_empty(argmax_shape)


@torch.library.register_fake("vk_ops::roi_align_backward")
def _roi_align_backward_fake(
    grad_output,
    rois,
    argmax_y,
    argmax_x,
    batch,
    channels,
    height,
    width,
    spatial_scale,
    sampling_ratio,
    pool_mode,
    aligned,
):
    return grad_output.new_empty((batch, channels, height, width))


@torch.library.register_fake("vk_ops::roi_pool")
def _roi_pool_fake(input, rois, pooled_height, pooled_width, spatial_scale):
    shape = (rois.shape[0], input.shape[1], pooled_height, pooled_width)
    return input.new_empty(shape), input.new_empty(shape, dtype=torch.int32)


@torch.library.register_fake("vk_ops::roi_pool_backward")
def _roi_pool_backward_fake(grad_output, rois, argmax, batch, channels, height, width):
    return grad_output.new_empty((batch, channels, height, width))


@torch.library.register_fake("vk_ops::sigmoid_focal_loss")
def _sigmoid_focal_fake(input, target, weight, gamma, alpha):
    return torch.empty_like(input)


@torch.library.register_fake("vk_ops::sigmoid_focal_loss_backward")
def _sigmoid_focal_backward_fake(input, target, weight, gamma, alpha):
    return torch.empty_like(input)


@torch.library.register_fake("vk_ops::softmax_focal_loss")
def _softmax_focal_fake(input, target, weight, gamma, alpha):
    return input.new_empty((input.shape[0],))


@torch.library.register_fake("vk_ops::softmax_focal_loss_backward")
def _softmax_focal_backward_fake(input, target, weight, gamma, alpha):
    return torch.empty_like(input)
