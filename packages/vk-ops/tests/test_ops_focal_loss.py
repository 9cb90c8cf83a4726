import math

import pytest
import torch
import vk_ops
from vk_ops import reference


def logits(n, c, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g, dtype=torch.float64) * 2
    # Background (== C) rows for the sigmoid loss, ignored (-1) rows for softmax are both in the mix.
    t = torch.randint(-1, c + 1, (n,), generator=g)
    return x.to(dtype), t


def test_sigmoid_focal_hand_computed():
    x = torch.zeros(1, 2, dtype=torch.float64)
    t = torch.tensor([0])
    loss = vk_ops.sigmoid_focal_loss(x, t, 2.0, 0.25, reduction="none")
    # p = 0.5: positive -0.25 * 0.5^2 * log 0.5, negative -0.75 * 0.5^2 * log 0.5
    torch.testing.assert_close(loss, torch.tensor([[0.0625 * math.log(2), 0.1875 * math.log(2)]], dtype=torch.float64))
    assert vk_ops.sigmoid_focal_loss(x, t).item() == pytest.approx(0.25 * math.log(2))  # mean divides by N = 1


def test_softmax_focal_hand_computed():
    x = torch.zeros(2, 4, dtype=torch.float64)
    t = torch.tensor([1, -1])
    loss = vk_ops.softmax_focal_loss(x, t, 2.0, 0.25, reduction="none")
    # p_t = 1/4: -0.25 * 0.75^2 * log(0.25); the -1 row is ignored
    torch.testing.assert_close(loss, torch.tensor([0.25 * 0.5625 * math.log(4), 0.0], dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("with_weight", [False, True])
@pytest.mark.parametrize("n", [0, 1, 64])
def test_focal_losses_match_reference(dtype, reduction, with_weight, n):
    x, t = logits(n, 6, seed=n, dtype=dtype)
    w = torch.rand(6, dtype=dtype) if with_weight else None
    for op, ref in (
        (vk_ops.sigmoid_focal_loss, reference.sigmoid_focal_loss),
        (vk_ops.softmax_focal_loss, reference.softmax_focal_loss),
    ):
        got = op(x, t, 1.5, 0.3, w, reduction)
        want = ref(x, t, 1.5, 0.3, w, reduction)
        assert got.dtype == dtype
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6, equal_nan=True)  # mean of 0 rows is nan


@pytest.mark.parametrize("with_weight", [False, True])
def test_focal_gradients(with_weight):
    x, t = logits(12, 5, seed=2)
    w = torch.rand(5, dtype=torch.float64) if with_weight else None
    for op, ref in (
        (vk_ops.sigmoid_focal_loss, reference.sigmoid_focal_loss),
        (vk_ops.softmax_focal_loss, reference.softmax_focal_loss),
    ):
        xx = x.clone().requires_grad_()
        assert torch.autograd.gradcheck(lambda v, op=op: op(v, t, 2.0, 0.25, w, "none"), (xx,))
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        op(a, t, 2.0, 0.25, w, "mean").backward()
        ref(b, t, 2.0, 0.25, w, "mean").backward()
        torch.testing.assert_close(a.grad, b.grad)


def test_modules_and_validation():
    x, t = logits(8, 3, seed=4)
    m = vk_ops.SigmoidFocalLoss(2.0, 0.25, reduction="sum")
    assert "gamma=2.0" in repr(m)
    torch.testing.assert_close(m(x, t), vk_ops.sigmoid_focal_loss(x, t, 2.0, 0.25, None, "sum"))
    torch.testing.assert_close(vk_ops.SoftmaxFocalLoss(2.0, 0.25)(x, t), vk_ops.softmax_focal_loss(x, t))
    with pytest.raises(ValueError, match="target must be int64 class indices"):
        vk_ops.sigmoid_focal_loss(x, t.int())
    with pytest.raises(ValueError, match=r"target must be an \(N,\) = \(8,\)"):
        vk_ops.sigmoid_focal_loss(x, t[:3])
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        vk_ops.softmax_focal_loss(x, t, weight=torch.ones(4, dtype=torch.float64))
    with pytest.raises(ValueError, match="reduction must be one of"):
        vk_ops.softmax_focal_loss(x, t, reduction="avg")
