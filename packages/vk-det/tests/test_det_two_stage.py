"""Two-stage detectors built from the shipped configs: manifests, and loss/predict/tensor on real batches."""

from pathlib import Path

import numpy as np
import pytest
import torch
import vk_det.models
from vk_core.config import Config
from vk_core.registry import DefaultScope
from vk_core.structures import InstanceData
from vk_det.registry import MODELS
from vk_det.structures import DetDataSample
from vk_det.structures.masks import BitmapMasks

CONFIGS = Path(vk_det.models.__file__).resolve().parents[1] / "configs"
MANIFESTS = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "mmdet"


def _build(cfg_model):
    with DefaultScope.using("vk_det"):
        model = MODELS.build(cfg_model)
    model.init_weights()
    return model


@pytest.mark.parametrize(
    "config,manifest",
    [
        ("rpn/rpn_r50_fpn_1x_coco.py", "rpn_r50_fpn_1x_coco"),
        ("faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py", "faster-rcnn_r50_fpn_1x_coco"),
        ("mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py", "mask-rcnn_r50_fpn_1x_coco"),
    ],
)
def test_state_dict_matches_mmdet_manifest(config, manifest):
    ref = MANIFESTS / f"{manifest}.keys.txt"
    if not ref.exists():
        pytest.skip(f"reference manifest not found at {ref}")
    cfg = Config.fromfile(str(CONFIGS / config))
    with DefaultScope.using("vk_det"):
        model = MODELS.build(cfg.model)  # built only: init_weights would fetch the pretrained backbone
    got = [f"{k} {'x'.join(map(str, v.shape)) or 'scalar'}" for k, v in model.state_dict().items()]
    expected = [line for line in ref.read_text().splitlines() if line.strip()]
    assert got == expected


@pytest.mark.parametrize(
    "config,model_type,num_classes",
    [
        ("faster_rcnn/faster-rcnn_r18_fpn_shapes.py", "FasterRCNN", 4),
        ("mask_rcnn/mask-rcnn_r18_fpn_shapes.py", "MaskRCNN", 4),
        ("faster_rcnn/faster-rcnn_mobilenetv2_fpn_bccd.py", "FasterRCNN", 3),
    ],
)
def test_small_shipped_configs_build(config, model_type, num_classes):
    cfg = Config.fromfile(str(CONFIGS / config))
    with DefaultScope.using("vk_det"):
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == model_type
    assert model.roi_head.bbox_head.fc_cls.out_features == num_classes + 1
    assert cfg.train_dataloader.dataset.metainfo["classes"].__len__() == num_classes
    if model_type == "MaskRCNN":
        assert model.roi_head.mask_head.conv_logits.out_channels == num_classes
        assert "segm" in cfg.val_evaluator.metric


def _small(base: str, num_classes=3):
    """The shipped R50 config, shrunk to ResNet-18 and narrow heads so a CPU step takes well under a second."""
    cfg = Config.fromfile(str(CONFIGS / "_base_" / "models" / base))
    m = cfg.model
    m.backbone.update(depth=18, init_cfg=None, frozen_stages=-1, norm_eval=False)
    m.neck.update(in_channels=[64, 128, 256, 512], out_channels=32)
    m.rpn_head.update(in_channels=32, feat_channels=32)
    if "roi_head" in m:
        m.roi_head.bbox_roi_extractor.out_channels = 32
        m.roi_head.bbox_head.update(in_channels=32, fc_out_channels=64, num_classes=num_classes)
        if "mask_head" in m.roi_head:
            m.roi_head.mask_roi_extractor.out_channels = 32
            m.roi_head.mask_head.update(in_channels=32, conv_out_channels=32, num_classes=num_classes, num_convs=2)
        m.train_cfg.rcnn.sampler.num = 64
    m.train_cfg.rpn_proposal = dict(nms_pre=300, max_per_img=100, nms=dict(type="nms", iou_threshold=0.7), min_bbox_size=0) if "roi_head" in m else None  # fmt: skip
    if m.train_cfg.rpn_proposal is None:
        del m.train_cfg["rpn_proposal"]
    m.test_cfg.rpn.update(nms_pre=300, max_per_img=100)
    return m


def _batch(with_masks: bool, gts=((2, 0), (0, 0))):
    """Two images of different sizes (uint8 CHW as PackDetInputs gives); the second may have no objects."""
    rng = np.random.default_rng(0)
    inputs, samples = [], []
    for (h, w), (n, _) in zip([(96, 128), (80, 100)], gts):
        inputs.append(torch.from_numpy(rng.integers(0, 255, (3, h, w), dtype=np.uint8)))
        s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(2 * h, 2 * w), scale_factor=(0.5, 0.5)))
        boxes = torch.tensor([[10.0, 12.0, 50.0, 60.0], [60.0, 20.0, 90.0, 70.0]])[:n]
        gt = InstanceData(bboxes=boxes, labels=torch.tensor([0, 2])[:n])
        if with_masks:
            masks = np.zeros((n, h, w), dtype=np.uint8)
            for i, (x1, y1, x2, y2) in enumerate(boxes.long().tolist()):
                masks[i, y1:y2, x1:x2] = 1
            gt.masks = BitmapMasks(masks, h, w)
        s.gt_instances = gt
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def _loss_total(losses):
    return sum(sum(v) if isinstance(v, list | tuple) else v for k, v in losses.items() if "loss" in k)


@pytest.mark.slow
@pytest.mark.parametrize("base", ["faster-rcnn_r50_fpn.py", "mask-rcnn_r50_fpn.py"])
def test_two_stage_modes_on_batch_of_two_sizes(base):
    torch.manual_seed(0)
    with_masks = base.startswith("mask")
    model = _build(_small(base))
    data = model.data_preprocessor(_batch(with_masks), training=True)
    losses = model(**data, mode="loss")
    expected = {"loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox", "acc"} | (
        {"loss_mask"} if with_masks else set()
    )
    assert set(losses) == expected
    total = _loss_total(losses)
    assert torch.isfinite(total)
    total.backward()
    assert model.roi_head.bbox_head.fc_cls.weight.grad is not None
    assert model.rpn_head.rpn_cls.weight.grad is not None

    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(_batch(with_masks), training=False)
        preds = model(**data, mode="predict")
        outs = model(data["inputs"], data["data_samples"], mode="tensor")
    assert len(preds) == 2
    for sample, (h, w) in zip(preds, [(192, 256), (160, 200)]):
        p = sample.pred_instances
        assert p.bboxes.shape[1] == 4 and len(p.scores) == len(p.labels) == len(p.bboxes) <= 100
        if len(p.bboxes):  # boxes are in original-image coordinates
            assert float(p.bboxes[:, 2].max()) <= w + 1e-3 and float(p.bboxes[:, 3].max()) <= h + 1e-3
        if with_masks:
            assert p.masks.shape == (len(p.bboxes), h, w) and p.masks.dtype == torch.bool
    roi_outs = outs[0]
    assert roi_outs[0].shape[1] == 4 and roi_outs[1].shape[1] == 12
    if with_masks:
        assert roi_outs[2].shape[1:] == (3, 28, 28)


@pytest.mark.slow
def test_two_stage_batch_without_any_gt_and_prediction_without_boxes():
    model = _build(_small("mask-rcnn_r50_fpn.py"))
    data = model.data_preprocessor(_batch(True, gts=((0, 0), (0, 0))), training=True)
    losses = model(**data, mode="loss")
    assert torch.isfinite(_loss_total(losses))
    assert float(losses["loss_bbox"]) == 0.0 and float(losses["loss_mask"]) == 0.0

    # A score threshold no box can pass: every image gets empty boxes and empty (0, H, W) masks.
    model.roi_head.test_cfg.score_thr = 1.1
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(_batch(True), training=False)
        preds = model(**data, mode="predict")
    for sample, hw in zip(preds, [(192, 256), (160, 200)]):
        assert sample.pred_instances.bboxes.shape == (0, 4)
        assert sample.pred_instances.masks.shape == (0, *hw)


def test_rpn_detector_modes():
    model = _build(_small("rpn_r50_fpn.py"))
    data = model.data_preprocessor(_batch(False), training=True)
    losses = model(**data, mode="loss")
    assert set(losses) == {"loss_rpn_cls", "loss_rpn_bbox"}
    assert torch.isfinite(_loss_total(losses))
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(_batch(False), training=False), mode="predict")
    assert all(len(p.pred_instances.bboxes) <= 100 and (p.pred_instances.labels == 0).all() for p in preds)


def test_rpn_checkpoint_loads_into_faster_rcnn_rpn_head():
    rpn = _build(_small("rpn_r50_fpn.py"))
    frcnn = _build(_small("faster-rcnn_r50_fpn.py"))
    state = {k: v for k, v in rpn.state_dict().items()}
    missing, unexpected = frcnn.load_state_dict(state, strict=False)
    assert not unexpected and all(k.startswith("roi_head.") for k in missing)
    assert torch.equal(frcnn.rpn_head.rpn_cls.weight, rpn.bbox_head.rpn_cls.weight)


def test_two_stage_config_errors():
    m = _small("faster-rcnn_r50_fpn.py")
    del m.test_cfg["rpn"]
    with pytest.raises(KeyError, match="test_cfg.rpn is required"):
        _build(m)
