"""RoI heads on plain tensors: targets, losses and predictions against hand-computed values."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from vk_core.structures import InstanceData
from vk_det.models.roi_heads import FCNMaskHead, SingleRoIExtractor
from vk_det.models.roi_heads.utils import multiclass_nms
from vk_det.registry import MODELS
from vk_det.structures import DetDataSample
from vk_det.structures.masks import BitmapMasks

C = 8  # feature channels of the toy heads


def _bbox_head(num_classes=3, **kw):
    cfg = dict(
        type="Shared2FCBBoxHead",
        in_channels=C,
        fc_out_channels=16,
        roi_feat_size=7,
        num_classes=num_classes,
        bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4, target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(type="CrossEntropyLoss", use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type="L1Loss", loss_weight=1.0),
    )
    cfg.update(kw)
    return MODELS.build(cfg)


def _roi_head(with_mask=True, num_classes=3):
    extractor = dict(
        type="SingleRoIExtractor",
        roi_layer=dict(type="RoIAlign", output_size=7, sampling_ratio=0),
        out_channels=C,
        featmap_strides=[4, 8, 16, 32],
    )
    cfg = dict(
        type="StandardRoIHead",
        bbox_roi_extractor=extractor,
        bbox_head=dict(
            type="Shared2FCBBoxHead",
            in_channels=C,
            fc_out_channels=16,
            num_classes=num_classes,
            bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4, target_stds=[0.1, 0.1, 0.2, 0.2]),
            loss_bbox=dict(type="L1Loss", loss_weight=1.0),
        ),
        train_cfg=dict(
            assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0.5),
            sampler=dict(type="RandomSampler", num=64, pos_fraction=0.25, neg_pos_ub=-1, add_gt_as_proposals=True),
            mask_size=28,
            pos_weight=-1,
        ),
        test_cfg=dict(score_thr=0.0, nms=dict(type="nms", iou_threshold=0.5), max_per_img=20, mask_thr_binary=0.5),
    )
    if with_mask:
        cfg["mask_roi_extractor"] = dict(extractor, roi_layer=dict(type="RoIAlign", output_size=14, sampling_ratio=0))
        cfg["mask_head"] = dict(type="FCNMaskHead", num_convs=1, in_channels=C, conv_out_channels=C,
                                num_classes=num_classes)  # fmt: skip
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _feats(batch, h, w, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(batch, C, h // s, w // s, generator=g) for s in (4, 8, 16, 32))


def _sample(h, w, boxes, labels, ori=None, scale=(1.0, 1.0)):
    s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=ori or (h, w), scale_factor=scale, pad_shape=(h, w)))
    boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    masks = np.zeros((len(boxes), h, w), dtype=np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes.round().long().tolist()):
        masks[i, y1:y2, x1:x2] = 1
    s.gt_instances = InstanceData(
        bboxes=boxes, labels=torch.tensor(labels, dtype=torch.long), masks=BitmapMasks(masks, h, w)
    )
    return s


def _proposals(boxes):
    boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    return InstanceData(bboxes=boxes, scores=torch.ones(len(boxes)), labels=torch.zeros(len(boxes), dtype=torch.long))


# ------------------------------------------------------------------------------------------- extractor
def test_map_roi_levels_follows_fpn_scale_rule():
    ext = SingleRoIExtractor(dict(type="RoIAlign", output_size=7, sampling_ratio=0), C, [4, 8, 16, 32])
    sizes = [10, 111, 112, 223, 224, 447, 448, 2000]
    rois = torch.tensor([[0, 0, 0, s, s] for s in sizes], dtype=torch.float32)
    assert ext.map_roi_levels(rois, 4).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert ext.map_roi_levels(rois, 2).tolist() == [0, 0, 1, 1, 1, 1, 1, 1]


def test_extractor_pools_each_roi_from_its_level():
    ext = SingleRoIExtractor(dict(type="RoIAlign", output_size=2, sampling_ratio=2), 1, [4, 8])
    # Level 0 is constant 1, level 1 constant 5: the pooled value tells which level an RoI used.
    feats = (torch.ones(2, 1, 32, 32), torch.full((2, 1, 16, 16), 5.0))
    rois = torch.tensor([[0, 8, 8, 40, 40], [1, 0, 0, 120, 120], [1, 10, 10, 20, 20]], dtype=torch.float32)
    out = ext(feats, rois)
    assert out.shape == (3, 1, 2, 2)
    assert torch.allclose(out[:, 0, 0, 0], torch.tensor([1.0, 5.0, 1.0]))
    assert ext(feats, torch.zeros(0, 5)).shape == (0, 1, 2, 2)
    with pytest.raises(ValueError, match=r"rois must have shape \(n, 5\)"):
        ext(feats, torch.zeros(3, 4))


def test_extractor_rejects_unknown_layer():
    with pytest.raises(KeyError, match="'NoSuchPool' is not an op class in vk_ops"):
        SingleRoIExtractor(dict(type="NoSuchPool", output_size=7), C, [4])


# ------------------------------------------------------------------------------------------- bbox head
def test_bbox_head_state_dict_names_and_predictor_shapes():
    head = _bbox_head(num_classes=3)
    shapes = {k: tuple(v.shape) for k, v in head.state_dict().items()}
    assert shapes == {
        "fc_cls.weight": (4, 16),
        "fc_cls.bias": (4,),
        "fc_reg.weight": (12, 16),
        "fc_reg.bias": (12,),
        "shared_fcs.0.weight": (16, C * 49),
        "shared_fcs.0.bias": (16,),
        "shared_fcs.1.weight": (16, 16),
        "shared_fcs.1.bias": (16,),
    }
    agnostic = _bbox_head(num_classes=3, reg_class_agnostic=True)
    assert agnostic.fc_reg.out_features == 4
    cls_score, bbox_pred = head(torch.randn(5, C, 7, 7))
    assert cls_score.shape == (5, 4) and bbox_pred.shape == (5, 12)


def test_bbox_head_targets_and_loss_match_hand_computation():
    head = _bbox_head(num_classes=3)

    class Res:  # the SamplingResult fields the head reads
        pos_priors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 25.0, 15.0]])
        neg_priors = torch.tensor([[50.0, 50.0, 60.0, 60.0]])
        pos_gt_bboxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 25.0, 25.0]])
        pos_gt_labels = torch.tensor([2, 0])

    labels, label_w, targets, target_w = head.get_targets([Res()], dict(pos_weight=-1))
    assert labels.tolist() == [2, 0, 3]  # background is num_classes
    assert label_w.tolist() == [1.0, 1.0, 1.0]
    # Second positive: same width, height 10 -> 20 and centre y 10 -> 15: dy = 0.5 / 0.1, dh = log 2 / 0.2.
    expected = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.0, 0.5 / 0.1, 0.0, math.log(2.0) / 0.2], [0, 0, 0, 0]])
    assert torch.allclose(targets, expected, atol=1e-5)
    assert target_w.tolist() == [[1.0] * 4, [1.0] * 4, [0.0] * 4]

    cls_score = torch.randn(3, 4)
    bbox_pred = torch.randn(3, 12)
    rois = torch.cat([torch.zeros(3, 1), torch.cat([Res.pos_priors, Res.neg_priors])], 1)
    losses = head.loss(cls_score, bbox_pred, rois, labels, label_w, targets, target_w)
    assert torch.allclose(losses["loss_cls"], F.cross_entropy(cls_score, labels))
    pos_pred = torch.stack([bbox_pred[0, 8:12], bbox_pred[1, 0:4]])
    # L1 summed over the positives' 4 coordinates, averaged over all 3 sampled RoIs.
    assert torch.allclose(losses["loss_bbox"], (pos_pred - targets[:2]).abs().sum() / 3)
    assert torch.isclose(losses["acc"], (cls_score.argmax(1) == labels).float().mean() * 100)


def test_bbox_head_loss_without_positives_is_zero_but_connected():
    head = _bbox_head(num_classes=3)
    bbox_pred = torch.randn(2, 12, requires_grad=True)
    labels = torch.tensor([3, 3])
    losses = head.loss(torch.randn(2, 4), bbox_pred, torch.zeros(2, 5), labels, torch.ones(2),
                       torch.zeros(2, 4), torch.zeros(2, 4))  # fmt: skip
    assert losses["loss_bbox"].item() == 0.0 and losses["loss_bbox"].requires_grad


def test_bbox_head_predict_decodes_rescales_and_nms():
    head = _bbox_head(num_classes=2)
    roi = torch.tensor([[0, 10.0, 10.0, 50.0, 30.0], [0, 12.0, 10.0, 52.0, 30.0], [0, 100.0, 100.0, 140.0, 150.0]])
    # Class 0 scores high on the first two (overlapping) RoIs; class 1 on the third.
    cls_score = torch.tensor([[4.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 5.0, 0.0]])
    meta = dict(img_shape=(120, 130), ori_shape=(240, 260), scale_factor=(0.5, 0.5))
    cfg = dict(score_thr=0.3, nms=dict(type="nms", iou_threshold=0.5), max_per_img=10)
    res = head.predict_by_feat((roi,), (cls_score,), (torch.zeros(3, 8),), [meta], rcnn_test_cfg=cfg, rescale=True)[0]
    # Zero deltas return the RoIs, clipped to the 130 x 120 input, then mapped back (x 2) to the original image.
    expected = torch.tensor([[200.0, 200.0, 260.0, 240.0], [20.0, 20.0, 100.0, 60.0]])
    order = res.scores.argsort(descending=True)
    assert res.labels[order].tolist() == [1, 0]
    assert torch.allclose(res.bboxes[order], expected)
    p = F.softmax(cls_score, -1)
    assert torch.allclose(res.scores[order], torch.stack([p[2, 1], p[0, 0]]))

    raw = head.predict_by_feat((roi,), (cls_score,), (torch.zeros(3, 8),), [meta], rcnn_test_cfg=None)[0]
    assert raw.bboxes.shape == (3, 8) and raw.scores.shape == (3, 3)

    empty = head.predict_by_feat((torch.zeros(0, 5),), (torch.zeros(0, 3),), (torch.zeros(0, 8),), [meta], cfg)[0]
    assert empty.bboxes.shape == (0, 4) and empty.scores.shape == (0,) and empty.labels.shape == (0,)


def test_multiclass_nms_per_class_and_max_num():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    scores = torch.tensor([[0.9, 0.8, 0.0], [0.7, 0.6, 0.0], [0.01, 0.95, 0.0]])
    nms = dict(type="nms", iou_threshold=0.5)
    dets, labels = multiclass_nms(boxes, scores, 0.05, nms)
    # Box 1 is suppressed by box 0 within each class; classes do not suppress each other.
    got = sorted(zip(dets[:, -1].tolist(), labels.tolist(), dets[:, 0].tolist()), reverse=True)
    assert [(round(s, 2), c, x) for s, c, x in got] == [(0.95, 1, 50.0), (0.9, 0, 0.0), (0.8, 1, 0.0)]
    dets, labels = multiclass_nms(boxes, scores, 0.05, nms, max_num=1)
    assert dets.shape == (1, 5) and labels.tolist() == [1]
    dets, labels = multiclass_nms(boxes, scores, 0.99, nms)
    assert dets.shape == (0, 5) and labels.shape == (0,)


# ------------------------------------------------------------------------------------------- mask head
def test_mask_head_targets_crop_gt_mask_to_proposals():
    head = FCNMaskHead(num_convs=1, in_channels=C, conv_out_channels=C, num_classes=2)
    masks = np.zeros((1, 40, 40), dtype=np.uint8)
    masks[0, 10:30, 10:20] = 1  # left half of the box (10, 10, 30, 30)

    class Res:
        pos_priors = torch.tensor([[10.0, 10.0, 30.0, 30.0], [10.0, 10.0, 20.0, 30.0]])
        pos_assigned_gt_inds = torch.tensor([0, 0])
        pos_gt_labels = torch.tensor([1, 1])

    gt = InstanceData(bboxes=torch.zeros(1, 4), labels=torch.tensor([1]), masks=BitmapMasks(masks, 40, 40))
    t = head.get_targets([Res()], [gt], dict(mask_size=4))
    assert t.shape == (2, 4, 4)
    assert t[0].tolist() == [[1.0, 1.0, 0.0, 0.0]] * 4
    assert t[1].tolist() == [[1.0] * 4] * 4

    preds = torch.zeros(2, 2, 4, 4)
    preds[:, 1] = 10.0 * (2 * t - 1)  # confident and right on the label channel
    loss = head.loss_and_target(preds, [Res()], [gt], dict(mask_size=4))["loss_mask"]["loss_mask"]
    assert torch.allclose(loss, F.binary_cross_entropy_with_logits(preds[:, 1], t))


def test_mask_head_predict_pastes_into_original_image():
    head = FCNMaskHead(num_convs=0, in_channels=C, num_classes=2, upsample_cfg=dict(type=None))
    logits = torch.full((1, 2, 14, 14), -10.0)
    logits[0, 1] = 10.0  # class 1 channel says "all foreground"
    res = InstanceData(bboxes=torch.tensor([[10.0, 4.0, 20.0, 14.0]]), labels=torch.tensor([1]),
                       scores=torch.ones(1))  # fmt: skip
    meta = dict(img_shape=(20, 40), ori_shape=(40, 80), scale_factor=(0.5, 0.5))
    out = head.predict_by_feat((logits,), [res], [meta], dict(mask_thr_binary=0.5), rescale=True)[0]
    expected = torch.zeros(1, 40, 80, dtype=torch.bool)
    expected[0, 8:28, 20:40] = True
    assert torch.equal(out.masks, expected)
    assert out.bboxes.tolist() == [[20.0, 8.0, 40.0, 28.0]]  # rescaled in place as in MMDetection
    none = InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long), scores=torch.zeros(0))
    out = head.predict_by_feat((logits[:0],), [none], [meta], dict(mask_thr_binary=0.5), rescale=True)[0]
    assert out.masks.shape == (0, 40, 80)


def test_mask_head_validates_config():
    with pytest.raises(ValueError, match="upsample_cfg type must be one of"):
        FCNMaskHead(upsample_cfg=dict(type="pixel_magic"))
    with pytest.raises(ValueError, match="conv_kernel_size must be odd"):
        FCNMaskHead(conv_kernel_size=2)


# ------------------------------------------------------------------------------------------- standard roi head
def test_standard_roi_head_loss_predict_tensor_and_empty_cases():
    torch.manual_seed(0)
    head = _roi_head(with_mask=True)
    x = _feats(2, 64, 96)
    samples = [
        _sample(64, 96, [[10, 10, 40, 50], [50, 5, 90, 30]], [0, 2]),
        _sample(64, 96, [], []),  # an image without ground truth
    ]
    proposals = [_proposals([[12, 8, 42, 48], [0, 0, 20, 20]]), _proposals([[5, 5, 30, 30]])]
    losses = head.loss(x, proposals, samples)
    assert set(losses) == {"loss_cls", "loss_bbox", "acc", "loss_mask"}
    total = losses["loss_cls"] + losses["loss_bbox"] + losses["loss_mask"]
    assert torch.isfinite(total)
    total.backward()
    assert head.bbox_head.fc_cls.weight.grad is not None and head.mask_head.conv_logits.weight.grad is not None

    results = head.predict(x, proposals, samples, rescale=True)
    assert len(results) == 2
    for r in results:
        assert r.bboxes.shape[1] == 4 and r.masks.shape[1:] == (64, 96) and len(r.masks) == len(r.labels)

    # No proposal anywhere: empty boxes and masks, no crash.
    empty = head.predict(x, [_proposals([]), _proposals([])], samples, rescale=True)
    assert all(len(r.bboxes) == 0 and r.masks.shape == (0, 64, 96) for r in empty)

    outs = head.forward(x, proposals)
    assert outs[0].shape == (3, 4) and outs[1].shape == (3, 12) and outs[2].shape == (3, 3, 28, 28)


def test_standard_roi_head_loss_when_the_batch_has_no_gt():
    head = _roi_head(with_mask=True)
    x = _feats(1, 64, 64)
    losses = head.loss(x, [_proposals([[0, 0, 30, 30], [10, 10, 50, 40]])], [_sample(64, 64, [], [])])
    assert losses["loss_bbox"].item() == 0.0 and losses["loss_mask"].item() == 0.0
    assert torch.isfinite(losses["loss_cls"]) and losses["loss_cls"].item() > 0
