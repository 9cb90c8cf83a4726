"""The ops trace: torch.compile(fullgraph=True) and torch.export of a function calling batched_nms and
roi_align (data-dependent NMS output sizes included)."""

import pytest
import torch
import vk_ops

pytestmark = pytest.mark.skipif(not vk_ops.kernels_loaded(), reason="kernels not loaded (references do not trace)")


def detect(boxes, scores, labels, features, iou_threshold: float = 0.5):
    dets, keep = vk_ops.batched_nms(boxes, scores, labels, dict(type="nms", iou_threshold=iou_threshold))
    rois = torch.cat([torch.zeros_like(dets[:, :1]), dets[:, :4]], dim=1)
    pooled = vk_ops.roi_align(features, rois, (4, 4), spatial_scale=0.25, sampling_ratio=2)
    return dets, keep, pooled


def inputs(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 50
    boxes = torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 30 + 1], 1)
    scores = torch.rand(n, generator=g)
    labels = torch.randint(0, 3, (n,), generator=g)
    features = torch.randn(1, 8, 24, 24, generator=g)
    return boxes, scores, labels, features


def assert_same(got, want):
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b)


@pytest.mark.slow
def test_torch_compile_fullgraph_matches_eager():
    torch._dynamo.reset()
    compiled = torch.compile(detect, fullgraph=True, backend="aot_eager")
    for seed in (0, 1):  # a second input with a different number of kept boxes reuses the graph
        args = inputs(seed=seed)
        assert_same(compiled(*args), detect(*args))


@pytest.mark.slow
def test_torch_export_runs_on_new_inputs():
    class Detect(torch.nn.Module):
        def forward(self, boxes, scores, labels, features):
            return detect(boxes, scores, labels, features)

    exported = torch.export.export(Detect(), inputs(seed=0))
    targets = {n.target for n in exported.graph.nodes if n.op == "call_function"}
    assert torch.ops.vk_ops.nms.default in targets and torch.ops.vk_ops.roi_align.default in targets
    for seed in (0, 1):  # same shapes, different data: the number of kept boxes differs
        args = inputs(seed=seed)
        assert_same(exported.module()(*args), detect(*args))
