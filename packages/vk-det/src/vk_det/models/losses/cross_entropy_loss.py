"""Cross-entropy losses: softmax, sigmoid (binary per class) and per-class mask BCE."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from vk_det.models._compat import MODELS
from vk_det.models.losses.utils import check_reduction, weight_reduce_loss


def cross_entropy(
    pred,
    label,
    weight=None,
    reduction="mean",
    avg_factor=None,
    class_weight=None,
    ignore_index=-100,
    avg_non_ignore=False,
):
    ignore_index = -100 if ignore_index is None else ignore_index
    loss = F.cross_entropy(pred, label, weight=class_weight, reduction="none", ignore_index=ignore_index)
    if avg_factor is None and avg_non_ignore and reduction == "mean":
        avg_factor = label.numel() - (label == ignore_index).sum().item()
    if weight is not None:
        weight = weight.float()
    return weight_reduce_loss(loss, weight=weight, reduction=reduction, avg_factor=avg_factor)


def _expand_onehot_labels(labels, label_weights, label_channels, ignore_index):
    bin_labels = labels.new_zeros((labels.size(0), label_channels))
    valid_mask = (labels >= 0) & (labels != ignore_index)
    # Labels >= label_channels are background: an all-zero target row.
    inds = torch.nonzero(valid_mask & (labels < label_channels), as_tuple=False).squeeze(-1)
    if inds.numel() > 0:
        bin_labels[inds, labels[inds]] = 1
    valid_mask = valid_mask.view(-1, 1).expand(labels.size(0), label_channels).float()
    if label_weights is None:
        bin_label_weights = valid_mask
    else:
        bin_label_weights = label_weights.view(-1, 1).repeat(1, label_channels) * valid_mask
    return bin_labels, bin_label_weights, valid_mask


def binary_cross_entropy(
    pred,
    label,
    weight=None,
    reduction="mean",
    avg_factor=None,
    class_weight=None,
    ignore_index=-100,
    avg_non_ignore=False,
):
    ignore_index = -100 if ignore_index is None else ignore_index
    if pred.dim() != label.dim():
        label, weight, valid_mask = _expand_onehot_labels(label, weight, pred.size(-1), ignore_index)
    else:
        valid_mask = ((label >= 0) & (label != ignore_index)).float()
        weight = weight * valid_mask if weight is not None else valid_mask
    if avg_factor is None and avg_non_ignore and reduction == "mean":
        avg_factor = valid_mask.sum().item()
    loss = F.binary_cross_entropy_with_logits(pred, label.float(), pos_weight=class_weight, reduction="none")
    return weight_reduce_loss(loss, weight.float(), reduction=reduction, avg_factor=avg_factor)


def mask_cross_entropy(
    pred, target, label, reduction="mean", avg_factor=None, class_weight=None, ignore_index=None, **kwargs
):
    """BCE between each RoI's mask logits for its own class (``pred[i, label[i]]``) and ``target``."""
    if ignore_index is not None:
        raise ValueError("mask_cross_entropy: ignore_index is not supported for masks")
    if reduction != "mean" or avg_factor is not None:
        raise ValueError("mask_cross_entropy: only reduction='mean' without avg_factor is supported")
    num_rois = pred.size(0)
    inds = torch.arange(num_rois, dtype=torch.long, device=pred.device)
    pred_slice = pred[inds, label].squeeze(1)
    return F.binary_cross_entropy_with_logits(pred_slice, target, weight=class_weight, reduction="mean")[None]


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Softmax cross-entropy, or per-class sigmoid BCE (``use_sigmoid``), or mask BCE (``use_mask``).

    ``avg_non_ignore=True`` averages over the non-ignored elements only.
    """

    def __init__(
        self,
        use_sigmoid=False,
        use_mask=False,
        reduction="mean",
        class_weight=None,
        ignore_index=None,
        loss_weight=1.0,
        avg_non_ignore=False,
    ):
        super().__init__()
        if use_sigmoid and use_mask:
            raise ValueError("CrossEntropyLoss: use_sigmoid and use_mask cannot both be True")
        check_reduction("CrossEntropyLoss", reduction, reduction)
        self.use_sigmoid, self.use_mask = use_sigmoid, use_mask
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.class_weight = class_weight
        self.ignore_index = ignore_index
        self.avg_non_ignore = avg_non_ignore
        if use_sigmoid:
            self.cls_criterion = binary_cross_entropy
        elif use_mask:
            self.cls_criterion = mask_cross_entropy
        else:
            self.cls_criterion = cross_entropy

    def extra_repr(self):
        return f"use_sigmoid={self.use_sigmoid}, use_mask={self.use_mask}, avg_non_ignore={self.avg_non_ignore}"

    def forward(
        self, cls_score, label, weight=None, avg_factor=None, reduction_override=None, ignore_index=None, **kwargs
    ):
        reduction = check_reduction("CrossEntropyLoss", reduction_override, self.reduction)
        if ignore_index is None:
            ignore_index = self.ignore_index
        class_weight = None
        if self.class_weight is not None:
            class_weight = cls_score.new_tensor(self.class_weight)
        return self.loss_weight * self.cls_criterion(
            cls_score,
            label,
            weight,
            class_weight=class_weight,
            reduction=reduction,
            avg_factor=avg_factor,
            ignore_index=ignore_index,
            avg_non_ignore=self.avg_non_ignore,
            **kwargs,
        )
