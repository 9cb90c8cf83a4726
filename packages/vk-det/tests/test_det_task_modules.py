"""Task modules: prior generators, box coders, assigners and samplers against hand-computed cases."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_core.structures import InstanceData
from vk_det.models.task_modules import (
    AnchorGenerator,
    ATSSAssigner,
    DeltaXYWHBBoxCoder,
    DistancePointBBoxCoder,
    MaxIoUAssigner,
    MlvlPointGenerator,
    PseudoSampler,
    RandomSampler,
)
from vk_det.registry import TASK_UTILS

S = math.sqrt(2)


def test_anchor_generator_base_anchors_match_hand_values():
    gen = AnchorGenerator(strides=[4], ratios=[0.5, 1.0, 2.0], scales=[8])
    # ratio = h / w; area stays (4 * 8)^2 = 32^2.
    expected = torch.tensor(
        [[-16 * S, -8 * S, 16 * S, 8 * S], [-16.0, -16.0, 16.0, 16.0], [-8 * S, -16 * S, 8 * S, 16 * S]]
    )
    torch.testing.assert_close(gen.base_anchors[0], expected)
    retina = AnchorGenerator(strides=[8, 16], ratios=[1.0], octave_base_scale=4, scales_per_octave=3)
    assert retina.num_base_priors == [3, 3]
    widths = retina.base_anchors[1][:, 2] - retina.base_anchors[1][:, 0]
    torch.testing.assert_close(widths, torch.tensor([64.0, 64 * 2 ** (1 / 3), 64 * 2 ** (2 / 3)]))


def test_anchor_grid_order_and_valid_flags():
    gen = AnchorGenerator(strides=[4], ratios=[1.0], scales=[2])
    anchors = gen.grid_priors([(2, 3)])[0]
    assert anchors.shape == (6, 4)
    # Row-major over locations: (x=4, y=0) comes second, (x=0, y=4) fourth.
    torch.testing.assert_close(anchors[1], torch.tensor([0.0, -4.0, 8.0, 4.0]))
    torch.testing.assert_close(anchors[3], torch.tensor([-4.0, 0.0, 4.0, 8.0]))
    flags = gen.valid_flags([(2, 3)], pad_shape=(4, 8))[0]
    assert flags.tolist() == [True, True, False, False, False, False]
    with pytest.raises(ValueError, match="got 2 feature-map sizes for 1 levels"):
        gen.grid_priors([(2, 3), (1, 1)])
    with pytest.raises(ValueError, match="give either scales or both"):
        AnchorGenerator(strides=[4], ratios=[1.0])


def test_point_generator():
    gen = MlvlPointGenerator([8, 16], offset=0.5)
    pts = gen.grid_priors([(2, 2), (1, 1)], with_stride=True)
    torch.testing.assert_close(pts[0][:, :2], torch.tensor([[4.0, 4.0], [12.0, 4.0], [4.0, 12.0], [12.0, 12.0]]))
    torch.testing.assert_close(pts[1], torch.tensor([[8.0, 8.0, 16.0, 16.0]]))
    assert gen.valid_flags([(2, 2), (1, 1)], (8, 16))[0].tolist() == [True, True, False, False]


def test_delta_coder_hand_values_and_clipping():
    coder = DeltaXYWHBBoxCoder(target_stds=(0.1, 0.1, 0.2, 0.2))
    prior = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    gt = torch.tensor([[5.0, 5.0, 15.0, 25.0]])
    deltas = coder.encode(prior, gt)
    torch.testing.assert_close(deltas, torch.tensor([[5.0, 10.0, 0.0, math.log(2) / 0.2]]))
    torch.testing.assert_close(coder.decode(prior, deltas), gt)
    torch.testing.assert_close(coder.decode(prior, deltas, max_shape=(20, 12)), torch.tensor([[5.0, 5.0, 12.0, 20.0]]))
    assert coder.decode(prior[:0], deltas[:0]).shape == (0, 4)
    with pytest.raises(ValueError, match="must both be \\(N, 4\\)"):
        coder.encode(prior, torch.zeros(2, 4))


coords = st.floats(0, 100, allow_nan=False)
sizes = st.floats(5, 100, allow_nan=False)
box = st.tuples(coords, coords, sizes, sizes).map(lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(box, box), min_size=1, max_size=10))
def test_delta_coder_round_trip(pairs):
    priors = torch.tensor([p for p, _ in pairs], dtype=torch.float64)
    gts = torch.tensor([g for _, g in pairs], dtype=torch.float64)
    coder = DeltaXYWHBBoxCoder(target_means=(0.1, 0, 0, 0.2), target_stds=(0.1, 0.1, 0.2, 0.2))
    # wh_ratio_clip bounds size ratios at 62.5: sizes within 5..100 stay below it.
    decoded = coder.decode(priors.float(), coder.encode(priors, gts).float())
    torch.testing.assert_close(decoded, gts.float(), atol=1e-3, rtol=1e-4)


def test_distance_coder():
    coder = DistancePointBBoxCoder()
    points = torch.tensor([[5.0, 5.0]])
    gt = torch.tensor([[0.0, 2.0, 8.0, 10.0]])
    dist = coder.encode(points, gt)
    torch.testing.assert_close(dist, torch.tensor([[5.0, 3.0, 3.0, 5.0]]))
    torch.testing.assert_close(coder.decode(points, dist), gt)
    torch.testing.assert_close(coder.encode(points, gt, max_dis=4.0), torch.tensor([[3.9, 3.0, 3.0, 3.9]]))
    torch.testing.assert_close(coder.decode(points, dist, max_shape=(6, 6)), torch.tensor([[0.0, 2.0, 6.0, 6.0]]))


def _gt(boxes, labels):
    return InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), labels=torch.tensor(labels))


def test_max_iou_assigner_hand_case():
    priors = torch.tensor([[0, 0, 10, 10], [10, 10, 20, 20], [5, 5, 15, 15], [32, 32, 38, 42]], dtype=torch.float32)
    gt = _gt([[0, 0, 10, 9], [0, 10, 10, 19]], [3, 1])
    assigner = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.4)
    result = assigner.assign(InstanceData(priors=priors), gt)
    # Prior 0: IoU 0.9 with gt 0 -> positive. Prior 1: IoU 0 with both -> negative. Prior 2: IoU < 0.4 -> negative.
    # Prior 3: no overlap -> negative. Gt 1's best prior (low-quality match) is prior 2 (IoU 25/175 > 0).
    assert result.gt_inds.tolist() == [1, 0, 2, 0]
    assert result.labels.tolist() == [3, -1, 1, -1]
    torch.testing.assert_close(result.max_overlaps[0], torch.tensor(0.9))
    no_lq = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.4, match_low_quality=False)
    assert no_lq.assign(InstanceData(priors=priors), gt).gt_inds.tolist() == [1, 0, 0, 0]
    ranged = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=(0.1, 0.4), match_low_quality=False)
    assert ranged.assign(InstanceData(priors=priors), gt).gt_inds.tolist() == [1, -1, 0, -1]


def test_max_iou_assigner_empty_and_ignore():
    priors = torch.tensor([[0, 0, 10, 10], [20, 20, 30, 30]], dtype=torch.float32)
    empty = MaxIoUAssigner(0.5, 0.4).assign(InstanceData(priors=priors), _gt([], []))
    assert empty.gt_inds.tolist() == [0, 0] and empty.labels.tolist() == [-1, -1] and empty.num_gts == 0
    assigner = MaxIoUAssigner(0.5, 0.4, ignore_iof_thr=0.5)
    ignore = InstanceData(bboxes=torch.tensor([[19.0, 19.0, 31.0, 31.0]]))
    result = assigner.assign(InstanceData(priors=priors), _gt([[0, 0, 10, 10]], [0]), ignore)
    assert result.gt_inds.tolist() == [1, -1]


def test_atss_assigner_selects_centre_candidates():
    # One level of 4 x 4 anchors, 8 px each; one ground truth covering the 2 x 2 top-left block.
    xs = torch.arange(4.0) * 8
    grid = torch.stack(torch.meshgrid(xs, xs, indexing="xy"), -1).reshape(-1, 2)
    priors = torch.cat([grid, grid + 8], 1)
    gt = _gt([[0, 0, 16, 16]], [2])
    result = ATSSAssigner(topk=4).assign(InstanceData(priors=priors), [16], gt)
    # The 4 nearest anchors all lie inside; IoUs are all 0.25, so the mean+std threshold keeps every one.
    assert sorted(torch.nonzero(result.gt_inds > 0).flatten().tolist()) == [0, 1, 4, 5]
    assert set(result.labels[result.gt_inds > 0].tolist()) == {2}
    empty = ATSSAssigner(topk=4).assign(InstanceData(priors=priors), [16], _gt([], []))
    assert torch.all(empty.gt_inds == 0)
    with pytest.raises(ValueError, match="sum to 10, but there are 16 priors"):
        ATSSAssigner(topk=4).assign(InstanceData(priors=priors), [10], gt)


def test_samplers():
    torch.manual_seed(0)
    priors = torch.rand(200, 4) * 50
    priors[:, 2:] += priors[:, :2] + 5
    gt = _gt([[0, 0, 30, 30], [20, 20, 60, 60]], [0, 1])
    assign = MaxIoUAssigner(0.5, 0.3).assign(InstanceData(priors=priors), gt)
    pseudo = PseudoSampler().sample(assign, InstanceData(priors=priors), gt)
    assert pseudo.pos_inds.numel() == int((assign.gt_inds > 0).sum())
    assert pseudo.avg_factor == max(pseudo.pos_inds.numel(), 1)
    torch.testing.assert_close(pseudo.pos_gt_bboxes, gt.bboxes[assign.gt_inds[pseudo.pos_inds] - 1])
    sampler = RandomSampler(num=32, pos_fraction=0.25, add_gt_as_proposals=True)
    assign = MaxIoUAssigner(0.5, 0.3).assign(InstanceData(priors=priors), gt)
    res = sampler.sample(assign, InstanceData(priors=priors), gt)
    assert res.pos_inds.numel() <= 8 and res.pos_inds.numel() + res.neg_inds.numel() == 32
    assert res.pos_is_gt[:2].tolist() == [1, 1] and res.pos_inds[:2].tolist() == [0, 1]
    assert len(res.priors) == 32


def test_sampler_without_ground_truth():
    priors = torch.tensor([[0.0, 0.0, 4.0, 4.0], [4.0, 4.0, 8.0, 8.0]])
    assign = MaxIoUAssigner(0.5, 0.4).assign(InstanceData(priors=priors), _gt([], []))
    res = PseudoSampler().sample(assign, InstanceData(priors=priors), _gt([], []))
    assert res.pos_inds.numel() == 0 and res.neg_inds.tolist() == [0, 1] and res.pos_gt_bboxes.shape == (0, 4)


def test_task_modules_are_registered():
    for name in ("AnchorGenerator", "MlvlPointGenerator", "DeltaXYWHBBoxCoder", "DistancePointBBoxCoder"):
        assert TASK_UTILS.get(name) is not None
    assigner = TASK_UTILS.build(dict(type="MaxIoUAssigner", pos_iou_thr=0.5, neg_iou_thr=0.4))
    assert isinstance(assigner, MaxIoUAssigner)
