"""Every shipped one-stage config: build, then loss / predict / tensor on two images of different sizes,
with one image lacking ground truth; plus the data preprocessor's bookkeeping."""

from pathlib import Path

import pytest
import torch
from vk_core.config import Config
from vk_core.structures import InstanceData
from vk_det.models.data_preprocessors import DetDataPreprocessor
from vk_det.registry import MODELS
from vk_det.structures import DetDataSample

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "vk_det" / "configs"
SHIPPED = [
    "retinanet/retinanet_r50_fpn_1x_coco.py",
    "retinanet/retinanet_r18_fpn_1x_coco.py",
    "retinanet/retinanet_r18_fpn_shapes.py",
    "fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py",
    "atss/atss_r50_fpn_1x_coco.py",
]


def _sample(h, w, boxes, labels):
    s = DetDataSample()
    s.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0)))
    s.gt_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), labels=torch.tensor(labels, dtype=torch.long)
    )
    return s


def _batch():
    g = torch.Generator().manual_seed(0)
    return dict(
        inputs=[
            torch.randint(0, 256, (3, 60, 75), dtype=torch.uint8, generator=g),
            torch.randint(0, 256, (3, 48, 90), dtype=torch.uint8, generator=g),
        ],
        data_samples=[_sample(60, 75, [[5, 10, 40, 50], [45, 5, 70, 30]], [1, 3]), _sample(48, 90, [], [])],
    )


def _build(config, init=True):
    cfg = Config.fromfile(str(CONFIGS / config))
    cfg.model.backbone.init_cfg = None  # no download of pretrained weights in tests
    model = MODELS.build(cfg.model)
    if init:
        model.init_weights()
    return model


@pytest.mark.slow
@pytest.mark.parametrize("config", SHIPPED)
def test_shipped_model_loss_predict_tensor(config):
    torch.manual_seed(0)
    # The R50 models keep PyTorch's default init: initialising 30M parameters costs more than the checks.
    model = _build(config, init="r50" not in config)
    model.train()
    data = model.data_preprocessor(_batch(), True)
    assert tuple(data["inputs"].shape) == (2, 3, 64, 96)
    losses = model(**data, mode="loss")
    loss, log_vars = model.parse_losses(losses)
    assert torch.isfinite(loss) and loss.item() > 0
    assert {"loss_cls", "loss_bbox"} <= set(log_vars)
    loss.backward()

    model.eval()
    with torch.no_grad():
        preds = model.test_step(_batch())
        feats = model(data["inputs"], mode="tensor")
    assert len(preds) == 2
    for sample, (h, w) in zip(preds, [(60, 75), (48, 90)]):
        pred = sample.pred_instances
        assert pred.bboxes.shape[1] == 4 and len(pred.scores) == len(pred.labels) <= 100
        if len(pred):
            assert pred.bboxes[:, 2].max() <= w and pred.bboxes[:, 3].max() <= h
    assert len(feats[0]) == 5 and feats[0][0].shape[0] == 2


def test_prediction_with_no_boxes_and_bad_mode():
    model = _build("retinanet/retinanet_r18_fpn_shapes.py")
    model.bbox_head.test_cfg = dict(model.bbox_head.test_cfg, score_thr=1.1)
    model.eval()
    with torch.no_grad():
        preds = model.val_step(_batch())
    assert [tuple(p.pred_instances.bboxes.shape) for p in preds] == [(0, 4), (0, 4)]
    with pytest.raises(RuntimeError, match='Invalid mode "train"'):
        model(torch.zeros(1, 3, 32, 32), mode="train")
    with pytest.raises(ValueError, match="needs one data sample per image: 2 images, 1 samples"):
        model(torch.zeros(2, 3, 32, 32), [_sample(32, 32, [], [])], mode="loss")


def test_det_data_preprocessor_shapes_and_normalisation():
    pre = DetDataPreprocessor(
        mean=[1.0, 2.0, 3.0], std=[2.0, 2.0, 2.0], bgr_to_rgb=True, pad_size_divisor=32, pad_value=7
    )
    img = torch.zeros(3, 40, 50, dtype=torch.uint8)
    img[0] = 9  # B channel in BGR; becomes the last channel after the swap
    samples = [_sample(40, 50, [], []), _sample(70, 20, [], [])]
    out = pre(dict(inputs=[img, torch.zeros(3, 70, 20, dtype=torch.uint8)], data_samples=samples), training=False)
    assert tuple(out["inputs"].shape) == (2, 3, 96, 64)
    assert out["inputs"][0, 2, 0, 0].item() == pytest.approx((9 - 3) / 2)
    assert out["inputs"][0, 0, 0, 0].item() == pytest.approx(-0.5)
    assert out["inputs"][0, 0, 50, 0].item() == 7  # padding is written after normalisation
    metas = [s.metainfo for s in out["data_samples"]]
    assert metas[0]["batch_input_shape"] == (96, 64) and metas[1]["batch_input_shape"] == (96, 64)
    assert metas[0]["pad_shape"] == (64, 64) and metas[1]["pad_shape"] == (96, 32)
    with pytest.raises(ValueError, match="2 images but 1 data samples"):
        pre(dict(inputs=[img, img], data_samples=samples[:1]))
