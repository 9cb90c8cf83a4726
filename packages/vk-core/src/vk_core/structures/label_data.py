"""LabelData: image-level labels and scores (classification), with one-hot/index conversions."""

from __future__ import annotations

import torch

from .base_data_element import BaseDataElement


class LabelData(BaseDataElement):
    """A BaseDataElement for labels; adds conversions between class indices and one-hot vectors."""

    @staticmethod
    def label_to_onehot(label: torch.Tensor, num_classes: int) -> torch.Tensor:
        """Class indices (1-D long tensor) to a one-hot vector of length ``num_classes`` (dtype of ``label``)."""
        if not isinstance(label, torch.Tensor):
            raise TypeError(f"label_to_onehot: label must be a tensor, got {type(label).__name__}")
        if label.dim() > 1 or label.is_floating_point():
            raise ValueError(
                f"label_to_onehot: label must be a 1-D integer tensor, got {label.dtype} {tuple(label.shape)}"
            )
        if label.numel() and (int(label.max()) >= num_classes or int(label.min()) < 0):
            raise ValueError(f"label_to_onehot: labels {label.tolist()} out of range [0, {num_classes})")
        onehot = label.new_zeros((num_classes,))
        onehot[label.flatten()] = 1
        return onehot

    @staticmethod
    def onehot_to_label(onehot: torch.Tensor) -> torch.Tensor:
        """A one-hot (or multi-hot) vector to the indices of its non-zero entries."""
        if not isinstance(onehot, torch.Tensor) or onehot.dim() != 1:
            raise ValueError(f"onehot_to_label: expected a 1-D tensor, got {getattr(onehot, 'shape', type(onehot))}")
        if onehot.numel() and (int(onehot.max()) > 1 or int(onehot.min()) < 0):
            raise ValueError("onehot_to_label: values must be 0 or 1")
        return onehot.nonzero().flatten()
