"""Autograd of the differentiable ops: each backward is its own dispatcher op (so it has CPU/CUDA kernels and a
fake too), wired to the forward with ``torch.library.register_autograd``. Gradients flow to the features /
logits only; RoI coordinates, targets and class weights get none (as in MMCV)."""

import torch


def _roi_align_setup(ctx, inputs, output):
    input, rois, _, _, spatial_scale, sampling_ratio, pool_mode, aligned = inputs
    _, argmax_y, argmax_x = output
    ctx.save_for_backward(rois, argmax_y, argmax_x)
    ctx.input_shape = tuple(input.shape)
    ctx.args = (spatial_scale, sampling_ratio, pool_mode, aligned)


def _roi_align_backward(ctx, grad_output, _grad_argmax_y, _grad_argmax_x):
    rois, argmax_y, argmax_x = ctx.saved_tensors
    grad_input = torch.ops.vk_ops.roi_align_backward(
        grad_output.contiguous(), rois, argmax_y, argmax_x, *ctx.input_shape, *ctx.args
    )
    return grad_input, None, None, None, None, None, None, None


def _roi_pool_setup(ctx, inputs, output):
    input, rois = inputs[:2]
    ctx.save_for_backward(rois, output[1])
    ctx.input_shape = tuple(input.shape)


def _roi_pool_backward(ctx, grad_output, _grad_argmax):
    rois, argmax = ctx.saved_tensors
    grad_input = torch.ops.vk_ops.roi_pool_backward(grad_output.contiguous(), rois, argmax, *ctx.input_shape)
    return grad_input, None, None, None, None


def _focal_setup(ctx, inputs, output):
    input, target, weight, gamma, alpha = inputs
    ctx.save_for_backward(input, target, weight)
    ctx.gamma, ctx.alpha = gamma, alpha


def _sigmoid_focal_backward(ctx, grad_output):
    input, target, weight = ctx.saved_tensors
    local = torch.ops.vk_ops.sigmoid_focal_loss_backward(input, target, weight, ctx.gamma, ctx.alpha)
    # In place: ``local`` is a fresh tensor, and a second (N, C) allocation costs as much as the product.
    return local.mul_(grad_output), None, None, None, None


def _softmax_focal_backward(ctx, grad_output):
    input, target, weight = ctx.saved_tensors
    local = torch.ops.vk_ops.softmax_focal_loss_backward(input, target, weight, ctx.gamma, ctx.alpha)
    return local.mul_(grad_output[:, None]), None, None, None, None


torch.library.register_autograd("vk_ops::roi_align", _roi_align_backward, setup_context=_roi_align_setup)
torch.library.register_autograd("vk_ops::roi_pool", _roi_pool_backward, setup_context=_roi_pool_setup)
torch.library.register_autograd("vk_ops::sigmoid_focal_loss", _sigmoid_focal_backward, setup_context=_focal_setup)
torch.library.register_autograd("vk_ops::softmax_focal_loss", _softmax_focal_backward, setup_context=_focal_setup)
