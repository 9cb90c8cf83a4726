"""Shipped base configs and one-stage configs: they load by path and by package name, and merge as intended."""

from pathlib import Path

import pytest
from vk_core.config import Config

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "vk_det" / "configs"
MINE = [
    "_base_/datasets/coco_detection.py",
    "_base_/datasets/coco_instance.py",
    "_base_/datasets/voc0712.py",
    "_base_/schedules/schedule_1x.py",
    "_base_/schedules/schedule_2x.py",
    "_base_/default_runtime.py",
    "_base_/models/retinanet_r50_fpn.py",
    "_base_/models/atss_r50_fpn.py",
    "retinanet/retinanet_r50_fpn_1x_coco.py",
    "retinanet/retinanet_r18_fpn_1x_coco.py",
    "retinanet/retinanet_r18_fpn_shapes.py",
    "fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py",
    "atss/atss_r50_fpn_1x_coco.py",
]


@pytest.mark.parametrize("name", MINE)
def test_config_loads_and_round_trips(name, tmp_path):
    cfg = Config.fromfile(str(CONFIGS / name))
    out = tmp_path / "dumped.py"
    cfg.dump(str(out))
    assert Config.fromfile(str(out)).to_dict() == cfg.to_dict()


def test_schedules():
    one = Config.fromfile(str(CONFIGS / "_base_/schedules/schedule_1x.py"))
    two = Config.fromfile(str(CONFIGS / "_base_/schedules/schedule_2x.py"))
    assert one.train_cfg.max_epochs == 12 and one.param_scheduler[1].milestones == [8, 11]
    assert two.train_cfg.max_epochs == 24 and two.param_scheduler[1].milestones == [16, 22]
    assert one.optim_wrapper.optimizer.lr == 0.02


def test_datasets():
    det = Config.fromfile(str(CONFIGS / "_base_/datasets/coco_detection.py"))
    ins = Config.fromfile(str(CONFIGS / "_base_/datasets/coco_instance.py"))
    voc = Config.fromfile(str(CONFIGS / "_base_/datasets/voc0712.py"))
    assert det.val_evaluator.metric == "bbox" and ins.val_evaluator.metric == ["bbox", "segm"]
    assert ins.train_pipeline[1] == dict(type="LoadAnnotations", with_bbox=True, with_mask=True)
    assert voc.train_dataloader.dataset.type == "RepeatDataset" and voc.val_evaluator.eval_mode == "11points"


def test_r18_overrides_only_depth_and_neck():
    r50 = Config.fromfile(str(CONFIGS / "retinanet/retinanet_r50_fpn_1x_coco.py"))
    r18 = Config.fromfile(str(CONFIGS / "retinanet/retinanet_r18_fpn_1x_coco.py"))
    assert r18.model.backbone.depth == 18 and r18.model.neck.in_channels == [64, 128, 256, 512]
    assert r18.model.bbox_head == r50.model.bbox_head
    assert r50.optim_wrapper.optimizer.lr == 0.01 and r50.default_scope == "vk_det"


def test_shapes_config_by_package_name():
    cfg = Config.fromfile("vk_det::retinanet/retinanet_r18_fpn_shapes.py")
    assert cfg.model.bbox_head.num_classes == len(cfg.metainfo.classes) == 4
    assert cfg.train_dataloader.dataset.ann_file == "annotations/instances_train.json"
    assert cfg.val_evaluator.ann_file == "data/shapes/annotations/instances_val.json"
    assert cfg.model.backbone.init_cfg is None and cfg.model.backbone.frozen_stages == -1


def test_fcos_uses_caffe_style_and_gn_head():
    cfg = Config.fromfile(str(CONFIGS / "fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py"))
    assert cfg.model.backbone.style == "caffe" and cfg.model.data_preprocessor.bgr_to_rgb is False
    assert cfg.model.neck.relu_before_extra_convs is True
    assert cfg.optim_wrapper.paramwise_cfg == dict(bias_lr_mult=2.0, bias_decay_mult=0.0)
