"""With no kernels (another torch's build, VK_OPS_KERNELS=OFF), every public op still works through its
reference and gives the kernel's answers."""

import warnings

import torch
import vk_ops
from vk_ops import _dispatch, _loader


def _run_all():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(40, 2, generator=g, dtype=torch.float64) * 50
    boxes = torch.cat([xy, xy + torch.rand(40, 2, generator=g, dtype=torch.float64) * 20], 1)
    scores = torch.rand(40, generator=g, dtype=torch.float64)
    feats = torch.randn(1, 3, 16, 16, generator=g, dtype=torch.float64)
    rois = torch.cat([torch.zeros(10, 1, dtype=torch.float64), boxes[:10] / 4], 1)
    logits = torch.randn(12, 4, generator=g, dtype=torch.float64)
    target = torch.randint(0, 5, (12,), generator=g)
    return [
        vk_ops.nms(boxes, scores, 0.3)[1],
        vk_ops.batched_nms(boxes, scores, torch.arange(40) % 3, dict(iou_threshold=0.3))[1],
        vk_ops.soft_nms(boxes, scores, 0.3, method="gaussian")[0],
        torch.cat(vk_ops.nms_match(torch.cat([boxes, scores[:, None]], 1), 0.3)),
        vk_ops.bbox_overlaps(boxes, boxes, "giou"),
        vk_ops.roi_align(feats, rois, 3, 1.0, 2),
        vk_ops.roi_align(feats, rois, 3, 1.0, 0, "max", False),
        vk_ops.roi_pool(feats, rois, 3),
        vk_ops.sigmoid_focal_loss(logits, target, reduction="none"),
        vk_ops.softmax_focal_loss(logits, target, reduction="none"),
    ]


def test_every_op_runs_on_references_without_kernels(monkeypatch):
    with_kernels = _run_all()
    monkeypatch.setattr(_dispatch, "_CHOICES", {key: False for key in _dispatch._CHOICES})
    monkeypatch.setattr(_dispatch, "_WARNED", set())
    monkeypatch.setattr(_loader, "_KERNELS_LOADED", False)  # as after the torch-mismatch warning at import
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the build-wide reason was warned at import; no per-op warning spam
        fallback = _run_all()
    assert not any(_dispatch.use_kernel(op, "cpu") for op in _dispatch.REFERENCES)
    for got, want in zip(fallback, with_kernels, strict=True):
        torch.testing.assert_close(got, want)
