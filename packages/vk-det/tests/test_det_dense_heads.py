"""Dense heads on small feature maps: losses with and without ground truth, predictions, rescaling, targets."""

import pytest
import torch
from vk_core.structures import InstanceData
from vk_det.models.dense_heads import ATSSHead, FCOSHead, RetinaHead
from vk_det.models.dense_heads.atss_head import centerness_from_anchors
from vk_det.structures import DetDataSample

STRIDES = [8, 16, 32]
TEST_CFG = dict(nms_pre=100, min_bbox_size=0, score_thr=0.0, nms=dict(type="nms", iou_threshold=0.5), max_per_img=20)


def _retina():
    return RetinaHead(
        num_classes=3,
        in_channels=8,
        feat_channels=8,
        stacked_convs=1,
        anchor_generator=dict(
            type="AnchorGenerator", octave_base_scale=4, scales_per_octave=1, ratios=[1.0], strides=STRIDES
        ),
        bbox_coder=dict(type="DeltaXYWHBBoxCoder"),
        loss_cls=dict(type="FocalLoss", use_sigmoid=True),
        loss_bbox=dict(type="L1Loss"),
        train_cfg=dict(
            assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0),
            sampler=dict(type="PseudoSampler"),
            allowed_border=-1,
            pos_weight=-1,
        ),
        test_cfg=TEST_CFG,
    )


def _fcos(**kw):
    return FCOSHead(
        num_classes=3,
        in_channels=8,
        feat_channels=8,
        stacked_convs=1,
        strides=STRIDES,
        regress_ranges=((-1, 32), (32, 64), (64, 1e8)),
        norm_cfg=dict(type="GN", num_groups=4),
        test_cfg=TEST_CFG,
        **kw,
    )


def _atss():
    return ATSSHead(
        num_classes=3,
        in_channels=8,
        feat_channels=8,
        stacked_convs=1,
        norm_cfg=dict(type="GN", num_groups=4),
        anchor_generator=dict(
            type="AnchorGenerator", ratios=[1.0], octave_base_scale=8, scales_per_octave=1, strides=STRIDES
        ),
        bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(type="FocalLoss", use_sigmoid=True),
        loss_bbox=dict(type="GIoULoss", loss_weight=2.0),
        train_cfg=dict(assigner=dict(type="ATSSAssigner", topk=9), allowed_border=-1, pos_weight=-1),
        test_cfg=TEST_CFG,
    )


HEADS = {"retina": _retina, "fcos": _fcos, "atss": _atss}


def _sample(h, w, boxes, labels, scale=(1.0, 1.0)):
    s = DetDataSample()
    s.set_metainfo(dict(img_shape=(h, w), pad_shape=(h, w), ori_shape=(h, w), scale_factor=scale))
    s.gt_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), labels=torch.tensor(labels, dtype=torch.long)
    )
    return s


def _feats(h=64, w=96):
    torch.manual_seed(0)
    return [torch.randn(2, 8, h // s, w // s) for s in STRIDES]


@pytest.mark.parametrize("name", sorted(HEADS))
def test_loss_with_and_without_ground_truth(name):
    torch.manual_seed(0)
    head = HEADS[name]()
    head.init_weights()
    head.train()
    samples = [_sample(64, 96, [[8, 8, 40, 40], [50, 10, 90, 60]], [0, 2]), _sample(56, 80, [], [])]
    feats = _feats()
    losses = head.loss(feats, samples)
    total = sum(sum(v) if isinstance(v, list) else v for v in losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is not None for p in head.parameters() if p.requires_grad)
    bbox = losses["loss_bbox"]
    assert float(sum(b.detach() for b in bbox) if isinstance(bbox, list) else bbox.detach()) > 0
    # Only the empty image: no box loss, but a (negative-only) classification loss.
    empty = head.loss(feats, [_sample(64, 96, [], []), _sample(56, 80, [], [])])
    cls = empty["loss_cls"]
    bbox = empty["loss_bbox"]
    assert float(sum(cls) if isinstance(cls, list) else cls) > 0
    assert float(sum(bbox) if isinstance(bbox, list) else bbox) == 0


@pytest.mark.parametrize("name", sorted(HEADS))
def test_predict_fields_rescale_and_empty(name):
    head = HEADS[name]()
    head.init_weights()
    head.eval()
    samples = [_sample(64, 96, [], [], scale=(2.0, 2.0)), _sample(56, 80, [], [])]
    with torch.no_grad():
        results = head.predict(_feats(), samples, rescale=False)
        rescaled = head.predict(_feats(), samples, rescale=True)
    assert len(results) == 2
    for res in results:
        assert res.bboxes.shape[1] == 4 and 0 < len(res) <= 20
        assert res.scores.shape == res.labels.shape == (len(res),)
        assert torch.all(res.labels < 3) and torch.all(res.scores[:-1] >= res.scores[1:])
        assert torch.all(res.bboxes[:, 0::2] <= 96) and torch.all(res.bboxes[:, 1::2] <= 64)
    torch.testing.assert_close(rescaled[0].bboxes * 2, results[0].bboxes)
    torch.testing.assert_close(rescaled[1].bboxes, results[1].bboxes)
    head.test_cfg = dict(TEST_CFG, score_thr=1.0)
    with torch.no_grad():
        none = head.predict(_feats(), samples)
    assert [r.bboxes.shape for r in none] == [(0, 4), (0, 4)]


def test_fcos_targets_regress_ranges_and_centerness():
    head = _fcos()
    points = head.prior_generator.grid_priors([(8, 12), (4, 6), (2, 3)])
    gt = InstanceData(bboxes=torch.tensor([[0.0, 0.0, 24.0, 24.0]]), labels=torch.tensor([1]))
    labels, targets = head.get_targets(points, [gt])
    # Level 0 (stride 8): points at 4, 12, 20 inside the box; max distance 20 < 32 -> positive.
    pos0 = torch.nonzero(labels[0] == 1).flatten().tolist()
    assert pos0 == [0, 1, 2, 12, 13, 14, 24, 25, 26]
    torch.testing.assert_close(targets[0][13], torch.tensor([12.0, 12.0, 12.0, 12.0]))
    # Level 1 (stride 16): point (8, 8) has max distance 16, outside (32, 64] -> background.
    assert torch.all(labels[1] == 3)
    ctr = FCOSHead.centerness_target(torch.tensor([[12.0, 12.0, 12.0, 12.0], [4.0, 12.0, 20.0, 12.0]]))
    torch.testing.assert_close(ctr, torch.tensor([1.0, 0.2**0.5]))
    norm = _fcos(norm_on_bbox=True)
    _, normed = norm.get_targets(points, [gt])
    torch.testing.assert_close(normed[0][13], torch.tensor([1.5, 1.5, 1.5, 1.5]))


def test_fcos_center_sampling_shrinks_positives():
    head = _fcos(center_sampling=True, center_sample_radius=0.5)
    points = head.prior_generator.grid_priors([(8, 12), (4, 6), (2, 3)])
    gt = InstanceData(bboxes=torch.tensor([[0.0, 0.0, 24.0, 24.0]]), labels=torch.tensor([1]))
    labels, _ = head.get_targets(points, [gt])
    # Centre (12, 12), radius 0.5 * 8 = 4: only the point (12, 12) is strictly inside.
    assert torch.nonzero(labels[0] == 1).flatten().tolist() == [13]


def test_atss_centerness_target():
    anchors = torch.tensor([[0.0, 0.0, 8.0, 8.0]])
    gts = torch.tensor([[0.0, 0.0, 16.0, 8.0]])
    # Centre (4, 4): l/r = 4/12, t/b = 4/4.
    torch.testing.assert_close(centerness_from_anchors(anchors, gts), torch.tensor([(1 / 3) ** 0.5]))


def test_head_argument_errors():
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        RetinaHead(num_classes=0, in_channels=8)
    with pytest.raises(ValueError, match="2 regress_ranges for 3 strides"):
        FCOSHead(3, 8, strides=STRIDES, regress_ranges=((-1, 64), (64, 1e8)), norm_cfg=None)
