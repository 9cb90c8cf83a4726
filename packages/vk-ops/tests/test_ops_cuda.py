"""CUDA kernels against the references (run on a GPU machine; skipped elsewhere)."""

import pytest
import torch
import vk_ops
from vk_ops import reference

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not (torch.cuda.is_available() and vk_ops.build_info()["cuda"] and vk_ops.kernels_loaded()),
        reason="needs a CUDA device and a CUDA build of vk-ops",
    ),
]


def boxes_and_scores(n, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 200
    boxes = torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 60], 1).to(dtype)
    return boxes, ((torch.rand(n, generator=g) * 20).round() / 20).to(dtype)


def test_cuda_kernels_are_registered():
    table = vk_ops.available()
    for op in ("nms", "bbox_overlaps", "roi_align", "roi_pool", "sigmoid_focal_loss", "softmax_focal_loss"):
        assert table[op]["cuda"] == "kernel", op


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("n", [0, 1, 2000])
@pytest.mark.parametrize(("offset", "score_threshold", "max_num"), [(0, 0.0, -1), (1, 0.3, 100)])
def test_nms_keep_set_equals_cpu(dtype, n, offset, score_threshold, max_num):
    boxes, scores = boxes_and_scores(n, seed=n, dtype=dtype)
    _, keep = vk_ops.nms(boxes.cuda(), scores.cuda(), 0.5, offset, score_threshold, max_num)
    assert keep.device.type == "cuda"
    assert torch.equal(keep.cpu(), reference.nms(boxes, scores, 0.5, offset, score_threshold, max_num))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("mode", ["iou", "iof", "giou"])
def test_bbox_overlaps(dtype, mode):
    a, _ = boxes_and_scores(300, 1, dtype)
    b, _ = boxes_and_scores(200, 2, dtype)
    got = vk_ops.bbox_overlaps(a.cuda(), b.cuda(), mode).cpu()
    tol = dict(rtol=2e-3, atol=2e-3) if dtype == torch.float16 else {}
    torch.testing.assert_close(got, reference.bbox_overlaps(a.float(), b.float(), mode).to(dtype), **tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("pool_mode", ["avg", "max"])
@pytest.mark.parametrize("sampling_ratio", [0, 2])
def test_roi_align_forward_backward(dtype, pool_mode, sampling_ratio):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 16, 40, 48, generator=g, dtype=torch.float64)
    boxes, _ = boxes_and_scores(200, 3, torch.float64)
    rois = torch.cat([torch.randint(0, 2, (200, 1), generator=g).double(), boxes], 1)
    grad = torch.randn(200, 16, 7, 7, generator=g, dtype=torch.float64)
    a = x.to(dtype).cuda().requires_grad_()
    out = vk_ops.roi_align(a, rois.to(dtype).cuda(), 7, 0.25, sampling_ratio, pool_mode)
    (out * grad.to(dtype).cuda()).sum().backward()
    b = x.to(dtype).requires_grad_()
    want = reference.roi_align(b, rois.to(dtype), 7, 0.25, sampling_ratio, pool_mode)
    (want * grad.to(dtype)).sum().backward()
    tol = dict(rtol=1e-2, atol=1e-2) if dtype == torch.float16 else {}
    torch.testing.assert_close(out.cpu(), want, **tol)
    torch.testing.assert_close(a.grad.cpu(), b.grad, **tol)


def test_roi_pool_and_focal_losses():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 8, 30, 30, generator=g, dtype=torch.float64)
    boxes, _ = boxes_and_scores(100, 4, torch.float64)
    rois = torch.cat([torch.randint(0, 2, (100, 1), generator=g).double(), boxes / 2], 1)
    a = x.cuda().requires_grad_()
    vk_ops.roi_pool(a, rois.cuda(), 5, 0.25).sum().backward()
    b = x.clone().requires_grad_()
    reference.roi_pool(b, rois, 5, 0.25).sum().backward()
    torch.testing.assert_close(a.grad.cpu(), b.grad)
    logits = torch.randn(500, 20, generator=g, dtype=torch.float64)
    target = torch.randint(-1, 21, (500,), generator=g)
    for name in ("sigmoid_focal_loss", "softmax_focal_loss"):
        xa = logits.cuda().requires_grad_()
        getattr(vk_ops, name)(xa, target.cuda()).backward()
        xb = logits.clone().requires_grad_()
        getattr(reference, name)(xb, target).backward()
        torch.testing.assert_close(xa.grad.cpu(), xb.grad, msg=name)
