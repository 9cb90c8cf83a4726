"""RPNHead: layers, losses and proposals (hand-checked with zero deltas, where proposals are anchors)."""

import pytest
import torch
from vk_core.structures import InstanceData
from vk_det.models.dense_heads.rpn_head import RPNHead
from vk_det.registry import MODELS
from vk_det.structures import DetDataSample

C = 8
STRIDES = [4, 8, 16, 32, 64]


def _head(**test_cfg):
    cfg = dict(nms_pre=1000, max_per_img=100, nms=dict(type="nms", iou_threshold=0.7), min_bbox_size=0)
    cfg.update(test_cfg)
    head = MODELS.build(
        dict(
            type="RPNHead",
            in_channels=C,
            feat_channels=C,
            anchor_generator=dict(type="AnchorGenerator", scales=[8], ratios=[0.5, 1.0, 2.0], strides=STRIDES),
            bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4, target_stds=[1.0] * 4),
            loss_cls=dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=1.0),
            loss_bbox=dict(type="L1Loss", loss_weight=1.0),
            train_cfg=dict(
                assigner=dict(
                    type="MaxIoUAssigner",
                    pos_iou_thr=0.7,
                    neg_iou_thr=0.3,
                    min_pos_iou=0.3,
                    match_low_quality=True,
                    ignore_iof_thr=-1,
                ),  # fmt: skip
                sampler=dict(type="RandomSampler", num=256, pos_fraction=0.5, neg_pos_ub=-1, add_gt_as_proposals=False),
                allowed_border=-1,
                pos_weight=-1,
            ),
            test_cfg=cfg,
        )
    )
    head.init_weights()
    return head


def _samples(h, w, boxes_per_img):
    out = []
    for boxes in boxes_per_img:
        s = DetDataSample(metainfo=dict(img_shape=(h, w), pad_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0)))
        b = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        s.gt_instances = InstanceData(bboxes=b, labels=torch.zeros(len(b), dtype=torch.long))
        out.append(s)
    return out


def _feats(n, h, w):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(n, C, -(-h // s), -(-w // s), generator=g) for s in STRIDES]


def test_rpn_head_layer_names_and_shapes():
    head = _head()
    assert {k: tuple(v.shape) for k, v in head.state_dict().items()} == {
        "rpn_conv.weight": (C, C, 3, 3),
        "rpn_conv.bias": (C,),
        "rpn_cls.weight": (3, C, 1, 1),
        "rpn_cls.bias": (3,),
        "rpn_reg.weight": (12, C, 1, 1),
        "rpn_reg.bias": (12,),
    }
    with pytest.raises(ValueError, match="num_classes must be 1"):
        RPNHead(in_channels=C, num_classes=3)


def test_rpn_loss_keys_and_no_gt_image():
    head = _head()
    x = _feats(2, 64, 96)
    losses, proposals = head.loss_and_predict(x, _samples(64, 96, [[[10, 10, 40, 50]], []]))
    assert set(losses) == {"loss_rpn_cls", "loss_rpn_bbox"}
    total = sum(sum(v) if isinstance(v, list | tuple) else v for v in losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert head.rpn_reg.weight.grad.abs().sum() > 0
    assert len(proposals) == 2 and all(p.bboxes.shape[1] == 4 for p in proposals)
    assert not proposals[0].bboxes.requires_grad  # proposals are detached from the RPN

    only_empty = head.loss(x[:], _samples(64, 96, [[], []]))
    bbox = only_empty["loss_rpn_bbox"]
    assert float(sum(bbox) if isinstance(bbox, list | tuple) else bbox) == 0.0


def test_rpn_proposals_from_zero_deltas_are_the_best_anchors():
    head = _head(max_per_img=5)
    torch.nn.init.zeros_(head.rpn_reg.weight)
    torch.nn.init.zeros_(head.rpn_reg.bias)
    h, w = 64, 64
    anchors = head.prior_generator.grid_priors([(-(-h // s), -(-w // s)) for s in STRIDES])
    # Raw score maps: level 1 (stride 8), location (y=2, x=3), base anchor 1 (ratio 1) is the most confident.
    cls = [torch.full((1, 3, -(-h // s), -(-w // s)), -5.0) for s in STRIDES]
    cls[1][0, 1, 2, 3] = 5.0
    reg = [torch.zeros(1, 12, *c.shape[-2:]) for c in cls]
    meta = dict(img_shape=(h, w), pad_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0))
    res = head.predict_by_feat(cls, reg, batch_img_metas=[meta])[0]
    # Anchors are ordered (y, x, base anchor) within a level: index (2 * 8 + 3) * 3 + 1.
    expected = anchors[1][(2 * 8 + 3) * 3 + 1].clamp(0, 64)
    assert torch.allclose(res.bboxes[0], expected)
    assert res.scores[0].item() == pytest.approx(torch.sigmoid(torch.tensor(5.0)).item())
    assert len(res) == 5 and res.labels.tolist() == [0] * 5
    assert torch.all(res.scores[:-1] >= res.scores[1:])


def test_rpn_min_bbox_size_and_rescale():
    head = _head(min_bbox_size=1000)  # nothing is that large: no proposal survives
    h, w = 64, 64
    cls = [torch.zeros(1, 3, -(-h // s), -(-w // s)) for s in STRIDES]
    reg = [torch.zeros(1, 12, *c.shape[-2:]) for c in cls]
    meta = dict(img_shape=(h, w), pad_shape=(h, w), ori_shape=(2 * h, 2 * w), scale_factor=(0.5, 0.5))
    res = head.predict_by_feat(cls, reg, batch_img_metas=[meta])[0]
    assert res.bboxes.shape == (0, 4) and res.scores.shape == (0,) and res.labels.shape == (0,)

    head = _head(max_per_img=3)
    plain = head.predict_by_feat(cls, reg, batch_img_metas=[meta])[0]
    scaled = head.predict_by_feat(cls, reg, batch_img_metas=[meta], rescale=True)[0]
    assert torch.allclose(scaled.bboxes, plain.bboxes * 2)
