"""Losses: hand-computed values and the weighted_loss semantics (weight, avg_factor, reduction_override)."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_det.models.losses import (
    CrossEntropyLoss,
    FocalLoss,
    GIoULoss,
    IoULoss,
    L1Loss,
    SmoothL1Loss,
    py_sigmoid_focal_loss,
    weight_reduce_loss,
)


def test_weight_reduce_loss_semantics():
    loss = torch.tensor([1.0, 2.0, 3.0])
    weight = torch.tensor([1.0, 0.0, 2.0])
    assert weight_reduce_loss(loss, weight, "sum").item() == 7.0
    assert weight_reduce_loss(loss, weight, "mean").item() == pytest.approx(7.0 / 3)
    assert weight_reduce_loss(loss, weight, "mean", avg_factor=2.0).item() == pytest.approx(3.5)
    assert torch.equal(weight_reduce_loss(loss, weight, "none", avg_factor=2.0), torch.tensor([1.0, 0.0, 6.0]))
    with pytest.raises(ValueError, match='avg_factor can not be used with reduction="sum"'):
        weight_reduce_loss(loss, weight, "sum", avg_factor=2.0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        weight_reduce_loss(loss, None, "max")


def test_cross_entropy_softmax_matches_torch_and_honours_weights():
    torch.manual_seed(0)
    logits, labels = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 1, 0])
    ce = CrossEntropyLoss(loss_weight=2.0)
    torch.testing.assert_close(ce(logits, labels), 2 * F.cross_entropy(logits, labels))
    w = torch.tensor([1.0, 0, 0, 0, 0, 1.0])
    expected = F.cross_entropy(logits, labels, reduction="none")[[0, 5]].sum() / 4
    torch.testing.assert_close(CrossEntropyLoss()(logits, labels, w, avg_factor=4), expected)
    per = CrossEntropyLoss()(logits, labels, reduction_override="none")
    assert per.shape == (6,)
    with pytest.raises(ValueError, match="reduction_override must be None or one of"):
        ce(logits, labels, reduction_override="avg")


def test_cross_entropy_ignore_index_and_avg_non_ignore():
    logits, labels = torch.zeros(4, 3), torch.tensor([0, 1, -1, -1])
    # Uniform logits: every counted element costs log(3).
    plain = CrossEntropyLoss(ignore_index=-1)(logits, labels)
    assert plain.item() == pytest.approx(math.log(3) * 2 / 4)
    non_ignore = CrossEntropyLoss(ignore_index=-1, avg_non_ignore=True)(logits, labels)
    assert non_ignore.item() == pytest.approx(math.log(3))


def test_binary_cross_entropy_with_integer_labels_uses_background_rows():
    logits = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    labels = torch.tensor([1, 2])  # 2 == num_classes: background, all-zero target row
    loss = CrossEntropyLoss(use_sigmoid=True, reduction="none")(logits, labels)
    assert loss.shape == (2, 2)
    torch.testing.assert_close(loss, torch.full((2, 2), math.log(2)))
    soft = CrossEntropyLoss(use_sigmoid=True)(torch.tensor([2.0]), torch.tensor([1.0]))
    assert soft.item() == pytest.approx(math.log(1 + math.exp(-2.0)))


def test_mask_cross_entropy_picks_each_rois_class():
    pred = torch.zeros(2, 3, 2, 2)
    pred[0, 1] = 10.0
    pred[1, 2] = -10.0
    target = torch.stack([torch.ones(2, 2), torch.zeros(2, 2)])
    loss = CrossEntropyLoss(use_mask=True)(pred, target, torch.tensor([1, 2]))
    assert loss.shape == (1,) and loss.item() == pytest.approx(math.log(1 + math.exp(-10)), rel=1e-2)
    with pytest.raises(ValueError, match="use_sigmoid and use_mask cannot both be True"):
        CrossEntropyLoss(use_sigmoid=True, use_mask=True)


def test_focal_loss_hand_value_and_paths_agree():
    # One positive logit 0: p = 0.5, loss = alpha * (1 - p)^2 * log 2.
    loss = FocalLoss(reduction="sum")(torch.zeros(1, 1), torch.tensor([0]))
    assert loss.item() == pytest.approx(0.25 * 0.25 * math.log(2), rel=1e-5)
    torch.manual_seed(0)
    pred, target = torch.randn(10, 3), torch.tensor([0, 1, 2, 3, 3, 1, 0, 2, 3, 3])
    onehot = F.one_hot(target, 4)[:, :3].float()
    kernel = FocalLoss()(pred, target, avg_factor=4.0)
    dense = FocalLoss()(pred, onehot, avg_factor=4.0)
    torch.testing.assert_close(kernel, dense)
    torch.testing.assert_close(kernel, py_sigmoid_focal_loss(pred, onehot, reduction="sum") / 4.0, rtol=1e-5, atol=1e-6)
    weight = torch.tensor([1.0] * 5 + [0.0] * 5)
    weighted = FocalLoss(reduction="sum")(pred, target, weight)
    torch.testing.assert_close(weighted, FocalLoss(reduction="sum")(pred[:5], target[:5]))
    with pytest.raises(ValueError, match=r"integer targets must have shape \(10,\)"):
        FocalLoss()(pred, target[:4])


def test_smooth_l1_and_l1_values():
    pred = torch.tensor([[0.0, 0.5, 2.0, -1.0]])
    target = torch.zeros(1, 4)
    # beta = 1: 0.5 * d^2 below 1, d - 0.5 above.
    smooth = SmoothL1Loss(beta=1.0, reduction="none")(pred, target)
    torch.testing.assert_close(smooth, torch.tensor([[0.0, 0.125, 1.5, 0.5]]))
    assert L1Loss(reduction="sum")(pred, target).item() == pytest.approx(3.5)
    zero = L1Loss()(pred.requires_grad_(), target, weight=torch.zeros(1, 4))
    assert zero.item() == 0 and zero.requires_grad
    with pytest.raises(ValueError, match="pred and target must have the same shape"):
        L1Loss()(torch.zeros(2, 4), torch.zeros(3, 4))


def test_iou_and_giou_loss_values():
    pred = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]])
    target = torch.tensor([[0.0, 0.0, 2.0, 1.0], [2.0, 0.0, 3.0, 1.0]])
    log_iou = IoULoss(reduction="none")(pred[:1], target[:1])
    assert log_iou.item() == pytest.approx(math.log(2), rel=1e-5)
    assert IoULoss(mode="linear", reduction="none")(pred[:1], target[:1]).item() == pytest.approx(0.5)
    assert IoULoss(mode="square", reduction="none")(pred[:1], target[:1]).item() == pytest.approx(0.75)
    giou = GIoULoss(reduction="none")(pred, target)
    # Disjoint unit boxes 1 apart: IoU 0, enclosing area 3, union 2 -> GIoU -1/3.
    torch.testing.assert_close(giou, torch.tensor([0.5, 4.0 / 3]))
    with pytest.raises(ValueError, match="mode must be one of"):
        IoULoss(mode="cube")


def test_iou_losses_with_no_positive_weight_keep_the_graph():
    pred = torch.rand(3, 4).requires_grad_()
    loss = GIoULoss()(pred, torch.rand(3, 4), weight=torch.zeros(3))
    loss.backward()
    assert loss.item() == 0 and torch.equal(pred.grad, torch.zeros(3, 4))


boxes = st.tuples(st.floats(0, 50), st.floats(0, 50), st.floats(1, 50), st.floats(1, 50)).map(
    lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(boxes, boxes), min_size=1, max_size=8))
def test_giou_loss_is_bounded_and_zero_on_identity(pairs):
    pred = torch.tensor([p for p, _ in pairs])
    target = torch.tensor([t for _, t in pairs])
    loss = GIoULoss(reduction="none")(pred, target)
    assert torch.all(loss >= -1e-5) and torch.all(loss <= 2 + 1e-5)
    assert torch.allclose(GIoULoss(reduction="none")(pred, pred), torch.zeros(len(pairs)), atol=1e-5)
