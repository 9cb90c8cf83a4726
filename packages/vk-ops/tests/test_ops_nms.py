import numpy as np
import pytest
import torch
import vk_ops
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_ops import _dispatch, reference

DOC_BOXES = np.array(
    [
        [49.1, 32.4, 51.0, 35.9],
        [49.3, 32.9, 51.0, 35.3],
        [49.2, 31.8, 51.0, 35.4],
        [35.1, 11.5, 39.1, 15.7],
        [35.6, 11.8, 39.3, 14.2],
        [35.3, 11.5, 39.9, 14.5],
        [35.2, 11.7, 39.7, 15.7],
    ],
    dtype=np.float32,
)
DOC_SCORES = np.array([0.9, 0.9, 0.5, 0.5, 0.5, 0.4, 0.3], dtype=np.float32)


def random_boxes(n, seed, dtype=torch.float32, scale=100.0, degenerate=False):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * scale
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * scale / 3
    if degenerate:
        wh[::3] = 0
    scores = torch.rand(n, generator=g, dtype=torch.float64)
    # Coarse scores so that ties occur and the tie rule is exercised.
    scores = (scores * 20).round() / 20
    return torch.cat([xy, xy + wh], 1).to(dtype), scores.to(dtype)


def test_documented_example_numpy_in_numpy_out():
    dets, keep = vk_ops.nms(DOC_BOXES, DOC_SCORES, 0.6)
    assert isinstance(dets, np.ndarray) and isinstance(keep, np.ndarray)
    assert keep.tolist() == [0, 3, 4]
    assert dets.dtype == np.float32 and dets.shape == (3, 5)
    np.testing.assert_array_equal(dets[:, :4], DOC_BOXES[[0, 3, 4]])
    np.testing.assert_array_equal(dets[:, 4], DOC_SCORES[[0, 3, 4]])


def test_threshold_is_strict_and_ties_keep_input_order():
    # IoU of the first two boxes is exactly 0.5: suppression needs IoU > threshold.
    boxes = torch.tensor([[0.0, 0.0, 4.0, 1.0], [0.0, 0.0, 2.0, 1.0], [10.0, 10.0, 11.0, 11.0]])
    scores = torch.tensor([0.5, 0.5, 0.5])
    assert vk_ops.nms(boxes, scores, 0.5)[1].tolist() == [0, 1, 2]
    assert vk_ops.nms(boxes, scores, 0.49)[1].tolist() == [0, 2]
    # Equal scores: the earlier box wins, whichever order the boxes come in.
    assert vk_ops.nms(boxes[[1, 0, 2]], scores, 0.49)[1].tolist() == [0, 2]


def test_offset_score_threshold_and_max_num():
    boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 2.0, 1.0], [5.0, 5.0, 6.0, 6.0], [8.0, 8.0, 9.0, 9.0]])
    scores = torch.tensor([0.9, 0.8, 0.3, 0.7])
    # offset=0: the first two only touch (IoU 0); offset=1 makes them 2x2 boxes sharing a 1x2 strip: IoU 1/3.
    assert vk_ops.nms(boxes, scores, 0.3)[1].tolist() == [0, 1, 3, 2]
    assert vk_ops.nms(boxes, scores, 0.3, offset=1)[1].tolist() == [0, 3, 2]
    # score_threshold drops score <= 0.3 and indices still refer to the inputs.
    assert vk_ops.nms(boxes, scores, 0.3, score_threshold=0.3)[1].tolist() == [0, 1, 3]
    dets, keep = vk_ops.nms(boxes, scores, 0.3, max_num=2)
    assert keep.tolist() == [0, 1]
    torch.testing.assert_close(dets[:, 4], torch.tensor([0.9, 0.8]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("n", [0, 1, 300])
@pytest.mark.parametrize(("offset", "score_threshold", "max_num"), [(0, 0.0, -1), (1, 0.0, -1), (0, 0.4, 50)])
def test_keep_set_equals_reference(dtype, n, offset, score_threshold, max_num):
    boxes, scores = random_boxes(n, seed=n + offset, dtype=dtype, degenerate=True)
    dets, keep = vk_ops.nms(boxes, scores, 0.45, offset, score_threshold, max_num)
    want = reference.nms(boxes, scores, 0.45, offset, score_threshold, max_num)
    assert torch.equal(keep, want)
    assert keep.dtype == torch.long and dets.dtype == dtype and dets.shape == (keep.numel(), 5)
    if n:
        assert keep.numel() > 0


def test_many_boxes_equal_reference():
    boxes, scores = random_boxes(3000, seed=7, scale=1000.0)
    scores = torch.rand(3000, generator=torch.Generator().manual_seed(1))
    assert torch.equal(vk_ops.nms(boxes, scores, 0.5)[1], reference.nms(boxes, scores, 0.5))


box_lists = st.lists(
    st.tuples(
        st.floats(0, 50, allow_nan=False),
        st.floats(0, 50, allow_nan=False),
        st.floats(0, 30, allow_nan=False),
        st.floats(0, 30, allow_nan=False),
        st.integers(0, 10),
    ),
    min_size=1,
    max_size=40,
)


def plain_iou(boxes):
    # NMS's IoU: no epsilon in the union (bbox_overlaps clamps it, which differs on near-empty boxes).
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    wh = torch.minimum(boxes[:, None, 2:], boxes[None, :, 2:]) - torch.maximum(boxes[:, None, :2], boxes[None, :, :2])
    inter = wh.clamp(min=0).prod(-1)
    return inter / (area[:, None] + area[None, :] - inter)


@settings(max_examples=60, deadline=None)
@given(box_lists, st.sampled_from([0.1, 0.3, 0.5, 0.7]))
def test_nms_invariants(raw, thr):
    boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h, _ in raw], dtype=torch.float64)
    scores = torch.tensor([s / 10 for *_, s in raw], dtype=torch.float64)
    _, keep = vk_ops.nms(boxes, scores, thr)
    iou = plain_iou(boxes).nan_to_num(0.0).tolist()  # 0/0 (two empty boxes) never suppresses
    kept = keep.tolist()
    # Kept boxes never overlap each other above the threshold.
    for a in range(len(kept)):
        for b in range(a + 1, len(kept)):
            assert iou[kept[a]][kept[b]] <= thr
    # Every dropped box overlaps a kept box that precedes it (higher score, or equal score and lower index).
    rank = {i: (-scores[i].item(), i) for i in range(len(raw))}
    for j in set(range(len(raw))) - set(kept):
        assert any(iou[k][j] > thr and rank[k] < rank[j] for k in kept)
    # Kept boxes come out in visiting order.
    assert [rank[k] for k in kept] == sorted(rank[k] for k in kept)
    assert torch.equal(keep, reference.nms(boxes, scores, thr))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: vk_ops.nms(torch.zeros(3, 5), torch.zeros(3), 0.5), r"boxes must have shape \(N, 4\), got \(3, 5\)"),
        (lambda: vk_ops.nms(torch.zeros(3, 4), torch.zeros(2), 0.5), r"scores must have shape \(3,\)"),
        (lambda: vk_ops.nms(torch.zeros(3, 4), torch.zeros(3, dtype=torch.float64), 0.5), "share one floating dtype"),
        (lambda: vk_ops.nms(torch.zeros(3, 4), torch.zeros(3), 0.5, offset=2), "offset must be 0 or 1, got 2"),
        (lambda: vk_ops.nms([[0, 0, 1, 1]], torch.zeros(1), 0.5), "boxes must be a torch.Tensor or numpy.ndarray"),
        (lambda: vk_ops.soft_nms(torch.zeros(1, 4), torch.zeros(1), method="hard"), "method must be one of"),
        (lambda: vk_ops.nms_match(torch.zeros(2, 4), 0.5), r"dets must have shape \(N, 5\)"),
        (lambda: vk_ops.batched_nms(torch.zeros(2, 4), torch.zeros(2), torch.zeros(3), None), "idxs must have shape"),
        (
            lambda: vk_ops.batched_nms(torch.zeros(2, 4), torch.zeros(2), torch.zeros(2), dict(type="fancy")),
            "nms_cfg\\['type'\\] must be one of",
        ),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_batched_nms_class_offset_and_agnostic():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    idxs = torch.tensor([0, 1, 1])
    cfg = dict(type="nms", iou_threshold=0.5)
    dets, keep = vk_ops.batched_nms(boxes, scores, idxs, cfg)
    assert keep.tolist() == [0, 1]  # box 2 is suppressed by box 1 (same class), not box 0
    torch.testing.assert_close(dets, torch.tensor([[0.0, 0.0, 10.0, 10.0, 0.9], [0.0, 0.0, 10.0, 10.0, 0.8]]))
    assert vk_ops.batched_nms(boxes, scores, idxs, cfg, class_agnostic=True)[1].tolist() == [0]
    assert vk_ops.batched_nms(boxes, scores, idxs, dict(cfg, class_agnostic=True))[1].tolist() == [0]


def test_batched_nms_none_only_sorts():
    boxes, scores = random_boxes(20, seed=3)
    dets, keep = vk_ops.batched_nms(boxes, scores, torch.zeros(20, dtype=torch.long), None)
    assert keep.tolist() == torch.sort(scores, descending=True, stable=True).indices.tolist()
    torch.testing.assert_close(dets[:, 4], scores[keep])


def _per_class_reference(boxes, scores, idxs, thr):
    kept = []
    for c in idxs.unique():
        members = (idxs == c).nonzero()[:, 0]
        kept.append(members[reference.nms(boxes[members], scores[members], thr)])
    kept = torch.cat(kept)
    return kept[torch.sort(scores[kept], descending=True, stable=True).indices]


@pytest.mark.parametrize("split_thr", [10000, 50])
def test_batched_nms_equals_per_class_nms(split_thr):
    boxes, scores = random_boxes(400, seed=11)
    scores = torch.rand(400, generator=torch.Generator().manual_seed(2))
    idxs = torch.randint(0, 80, (400,), generator=torch.Generator().manual_seed(3))
    dets, keep = vk_ops.batched_nms(boxes, scores, idxs, dict(iou_threshold=0.3, split_thr=split_thr))
    assert torch.equal(keep, _per_class_reference(boxes, scores, idxs, 0.3))
    torch.testing.assert_close(dets[:, :4], boxes[keep])
    _, top = vk_ops.batched_nms(boxes, scores, idxs, dict(iou_threshold=0.3, split_thr=split_thr, max_num=10))
    assert torch.equal(top, keep[:10])


def test_batched_nms_empty_and_soft():
    dets, keep = vk_ops.batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0), dict(iou_threshold=0.5))
    assert dets.shape == (0, 5) and keep.shape == (0,)
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 9.0]])
    dets, keep = vk_ops.batched_nms(
        boxes, torch.tensor([0.9, 0.8]), torch.zeros(2), dict(type="soft_nms", iou_threshold=0.5, method="linear")
    )
    assert keep.tolist() == [0, 1]
    torch.testing.assert_close(dets[:, 4], torch.tensor([0.9, 0.8 * 0.1]))


def test_soft_nms_documented_example():
    boxes = np.array(
        [[4.0, 3.0, 5.0, 3.0], [4.0, 3.0, 5.0, 4.0], [3.0, 1.0, 3.0, 1.0], [3.0, 1.0, 3.0, 1.0], [3.0, 1.0, 3.0, 1.0],
         [3.0, 1.0, 3.0, 1.0]],
        dtype=np.float32,
    )  # fmt: skip
    scores = np.array([0.9, 0.9, 0.5, 0.5, 0.4, 0.0], dtype=np.float32)
    dets, inds = vk_ops.soft_nms(boxes, scores, 0.6, sigma=0.5)
    assert isinstance(dets, np.ndarray) and len(inds) == len(dets) == 5


def test_soft_nms_hand_computed_decay():
    boxes = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0], [10.0, 10.0, 11.0, 11.0]], dtype=torch.float64)
    scores = torch.tensor([0.9, 0.8, 0.5], dtype=torch.float64)
    # IoU(0, 1) = 2 / 6 = 1/3.
    dets, inds = vk_ops.soft_nms(boxes, scores, 0.3, method="linear")
    assert inds.tolist() == [0, 1, 2]  # 0.8 decays to 0.533, still above 0.5
    torch.testing.assert_close(dets[:, 4], torch.tensor([0.9, 0.8 * (1 - 1 / 3), 0.5], dtype=torch.float64))
    dets, _ = vk_ops.soft_nms(boxes, scores, 0.3, sigma=0.5, method="gaussian")
    assert dets[1, 4].item() == pytest.approx(0.8 * np.exp(-(1 / 9) / 0.5))
    _, inds = vk_ops.soft_nms(boxes, scores, 0.3, method="naive")
    assert inds.tolist() == [0, 2]


@pytest.mark.parametrize("method", ["naive", "linear", "gaussian"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_soft_nms_equals_reference(method, dtype):
    boxes, scores = random_boxes(60, seed=5, dtype=dtype)
    dets, inds = vk_ops.soft_nms(boxes, scores, 0.3, 0.5, 0.05, method, offset=0)
    want_dets, want_inds = reference.soft_nms(boxes, scores, 0.3, 0.5, 0.05, method, 0)
    assert torch.equal(inds, want_inds)
    torch.testing.assert_close(dets, want_dets)


def test_nms_match_groups():
    dets = np.array(
        [[0, 0, 10, 10, 0.9], [0, 0, 10, 9, 0.95], [50, 50, 60, 60, 0.5], [0, 0, 10, 5, 0.3], [50, 50, 60, 59, 0.6]],
        dtype=np.float32,
    )
    groups = vk_ops.nms_match(dets, 0.5)
    # IoUs with box 1 (area 90): box 0 = 0.9, box 3 = 50/90 -> same group; boxes 4 and 2 form the second group.
    assert [g.tolist() for g in groups] == [[1, 0, 3], [4, 2]]
    assert all(isinstance(g, np.ndarray) for g in groups)
    t_groups = vk_ops.nms_match(torch.from_numpy(dets), 0.5)
    assert [g.tolist() for g in t_groups] == [[1, 0, 3], [4, 2]] and t_groups[0].dtype == torch.long
    assert vk_ops.nms_match(np.zeros((0, 5), np.float32), 0.5) == []


def test_nms_match_equals_reference():
    boxes, scores = random_boxes(200, seed=9)
    dets = torch.cat([boxes, scores[:, None]], 1)
    flat, sizes = torch.ops.vk_ops.nms_match(dets, 0.4) if vk_ops.kernels_loaded() else (None, None)
    want_flat, want_sizes = reference.nms_match(dets, 0.4)
    if flat is not None:
        assert torch.equal(flat, want_flat) and torch.equal(sizes, want_sizes)
    assert sorted(want_flat.tolist()) == list(range(200))
    groups = vk_ops.nms_match(dets, 0.4)
    assert [g.tolist() for g in groups] == [g.tolist() for g in torch.split(want_flat, want_sizes.tolist())]


def test_missing_kernel_falls_back_to_reference_with_one_warning(monkeypatch):
    monkeypatch.setitem(_dispatch._CHOICES, ("nms", "cpu"), False)
    monkeypatch.setattr(_dispatch, "_WARNED", set())
    monkeypatch.setattr(_dispatch._loader, "_KERNELS_LOADED", True)
    with pytest.warns(RuntimeWarning, match="vk_ops.nms: no cpu kernel in this build") as record:
        _, keep = vk_ops.nms(DOC_BOXES, DOC_SCORES, 0.6)
        vk_ops.nms(DOC_BOXES, DOC_SCORES, 0.6)
    assert keep.tolist() == [0, 3, 4]
    assert len([w for w in record if "no cpu kernel" in str(w.message)]) == 1


def test_every_op_has_a_kernel_in_a_kernel_build():
    if not vk_ops.kernels_loaded():
        pytest.skip("reference-only build")
    table = vk_ops.available()
    for op in ("nms", "soft_nms", "nms_match", "roi_align", "roi_pool", "sigmoid_focal_loss", "softmax_focal_loss"):
        assert table[op]["cpu"] == "kernel", op
