import pytest
import torch
import vk_ops
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_ops import _loader, reference


def random_boxes(n, generator, dtype=torch.float32, degenerate=False):
    xy = torch.rand(n, 2, generator=generator, dtype=torch.float64) * 100
    wh = torch.rand(n, 2, generator=generator, dtype=torch.float64) * 50
    if degenerate:
        wh[::2] = 0
    return torch.cat([xy, xy + wh], dim=1).to(dtype)


def test_documented_example():
    b1 = torch.tensor([[0.0, 0.0, 10.0, 10.0], [10.0, 10.0, 20.0, 20.0], [32.0, 32.0, 38.0, 42.0]])
    b2 = torch.tensor([[0.0, 0.0, 10.0, 20.0], [0.0, 10.0, 10.0, 19.0], [10.0, 10.0, 20.0, 20.0]])
    expected = torch.tensor([[0.5, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    torch.testing.assert_close(vk_ops.bbox_overlaps(b1, b2), expected)


def test_hand_computed_iof_giou_and_offset():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]], dtype=torch.float64)
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0]], dtype=torch.float64)
    # intersection 1, areas 4 and 4, union 7, enclosing box 3x3 = 9
    assert vk_ops.bbox_overlaps(a, b, "iou").item() == pytest.approx(1 / 7)
    assert vk_ops.bbox_overlaps(a, b, "iof").item() == pytest.approx(1 / 4)
    assert vk_ops.bbox_overlaps(a, b, "giou").item() == pytest.approx(1 / 7 - (9 - 7) / 9)
    # offset=1: widths grow by one pixel: intersection 2x2=4, areas 9 and 9
    assert vk_ops.bbox_overlaps(a, b, offset=1).item() == pytest.approx(4 / 14)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mode", ["iou", "iof", "giou"])
@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("n", [0, 1, 97])
def test_matches_reference(dtype, mode, aligned, offset, n):
    g = torch.Generator().manual_seed(n + offset)
    a = random_boxes(n, g, dtype, degenerate=True)
    b = random_boxes(n if aligned else n + 3, g, dtype)
    got = vk_ops.bbox_overlaps(a, b, mode, aligned, offset)
    want = reference.bbox_overlaps(a, b, mode, aligned, offset)
    assert got.shape == ((n,) if aligned else (n, n + 3))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[st.floats(0, 100, allow_nan=False)] * 4), min_size=1, max_size=12))
def test_iou_is_symmetric_bounded_and_one_on_itself(raw):
    boxes = torch.tensor(
        [[min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)] for x1, y1, x2, y2 in raw], dtype=torch.float64
    )
    iou = vk_ops.bbox_overlaps(boxes, boxes)
    torch.testing.assert_close(iou, iou.T)
    assert bool(((iou >= 0) & (iou <= 1 + 1e-12)).all())
    giou = vk_ops.bbox_overlaps(boxes, boxes, "giou")
    assert bool(((giou >= -1 - 1e-12) & (giou <= iou + 1e-12)).all())
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    nondegenerate = areas > 1e-3
    torch.testing.assert_close(iou.diagonal()[nondegenerate], torch.ones(int(nondegenerate.sum()), dtype=torch.float64))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((torch.zeros(3, 5), torch.zeros(2, 4)), r"bboxes1 must have shape \(N, 4\), got \(3, 5\)"),
        ((torch.zeros(3, 4), [[0, 0, 1, 1]]), "bboxes2 must be a torch.Tensor, got list"),
        ((torch.zeros(3, 4), torch.zeros(2, 4), "dice"), "mode must be one of"),
        ((torch.zeros(3, 4), torch.zeros(2, 4), "iou", True), r"aligned=True needs as many boxes in bboxes1 \(3\)"),
        ((torch.zeros(3, 4), torch.zeros(2, 4), "iou", False, 2), "offset must be 0 or 1, got 2"),
        ((torch.zeros(3, 4), torch.zeros(2, 4, dtype=torch.float64)), "bboxes1 is torch.float32"),
    ],
)
def test_bad_input_names_the_argument(args, message):
    with pytest.raises((ValueError, TypeError), match=message):
        vk_ops.bbox_overlaps(*args)


def test_kernel_is_registered_with_the_dispatcher():
    if not vk_ops.build_info()["kernels"]:
        pytest.skip("reference-only build (VK_OPS_KERNELS=OFF)")
    assert vk_ops.kernels_loaded()
    assert vk_ops.available()["bbox_overlaps"]["cpu"] == "kernel"
    boxes = torch.tensor([[0.0, 0.0, 4.0, 4.0]])
    assert torch.ops.vk_ops.bbox_overlaps(boxes, boxes).item() == 1.0


def test_library_built_for_another_torch_is_not_loaded():
    info = dict(vk_ops.build_info(), kernels=True, torch_version="2.4.1+cpu")
    with pytest.warns(RuntimeWarning, match=r"built for torch 2\.4\.1\+cpu but torch 2\.13\.0.* is installed") as rec:
        loaded, reason = _loader.load(info, torch_version="2.13.0+cpu")
    assert not loaded
    assert "pip install --no-build-isolation" in reason
    assert len(rec) == 1


def test_reference_only_build_is_not_an_error():
    loaded, reason = _loader.load(dict(vk_ops.build_info(), kernels=False))
    assert not loaded and "references only" in reason


def test_fake_kernel_gives_shapes_for_torch_compile():
    if not vk_ops.kernels_loaded():
        pytest.skip("kernels not loaded")
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        a, b = torch.empty(5, 4), torch.empty(7, 4)
        assert torch.ops.vk_ops.bbox_overlaps(a, b).shape == (5, 7)
        assert torch.ops.vk_ops.bbox_overlaps(a, a, "iou", True).shape == (5,)


@pytest.mark.parametrize("mode", ["iou", "iof", "giou"])
def test_reference_takes_batch_dimensions_and_gives_gradients(mode):
    g = torch.Generator().manual_seed(3)
    xy = torch.rand(2, 5, 2, generator=g) * 50
    a = torch.cat([xy, xy + torch.rand(2, 5, 2, generator=g) * 30 + 1], -1).requires_grad_()
    xy = torch.rand(2, 3, 2, generator=g) * 50
    b = torch.cat([xy, xy + torch.rand(2, 3, 2, generator=g) * 30 + 1], -1)
    batched = reference.bbox_overlaps(a, b, mode)
    assert batched.shape == (2, 5, 3)
    for i in range(2):
        torch.testing.assert_close(batched[i], reference.bbox_overlaps(a[i], b[i], mode))
        torch.testing.assert_close(batched[i], vk_ops.bbox_overlaps(a[i].detach(), b[i], mode))
    batched.sum().backward()
    assert a.grad is not None and torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0
