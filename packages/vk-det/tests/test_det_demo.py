import pytest
from vk_det.demo import build_cfg, parse_args


def test_build_cfg_points_everything_at_the_data_root(tmp_path):
    args = parse_args(["--quick", "--minutes", "2", "--epochs", "3"])
    cfg = build_cfg(args, str(tmp_path / "shapes"), str(tmp_path / "work"))
    root = str(tmp_path / "shapes") + "/"
    assert cfg.train_dataloader["dataset"]["data_root"] == root
    assert cfg.test_dataloader["dataset"]["data_root"] == root
    assert cfg.val_evaluator["ann_file"] == root + "annotations/instances_val.json"
    assert cfg.train_cfg["max_epochs"] == 3 and cfg.work_dir == str(tmp_path / "work")
    assert cfg.custom_hooks[-1] == dict(type="TrainTimeLimitHook", max_minutes=2.0)
    assert cfg.default_hooks["checkpoint"]["interval"] == 1
    resize = [s for s in cfg.train_dataloader["dataset"]["pipeline"] if s["type"] == "Resize"][0]
    assert resize["scale"] == (320, 320)  # quick mode shrinks images only in main(), which sets image_size


def test_time_limit_hook_validates_and_stops():
    from vk_det.engine import TrainTimeLimitHook

    with pytest.raises(ValueError, match="max_minutes"):
        TrainTimeLimitHook(0)

    class Loop:
        stop_training = False

    class Runner:
        train_loop = Loop()

    hook = TrainTimeLimitHook(max_minutes=1e-9)
    hook.before_train(Runner)
    hook.after_train_iter(Runner, 0)
    assert Runner.train_loop.stop_training


def test_num_class_check_hook_names_the_head():
    import torch
    from vk_det.engine import NumClassCheckHook

    class Head(torch.nn.Module):
        num_classes = 3

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bbox_head = Head()

    class DS:
        metainfo = dict(classes=("a", "b"))

    class Loader:
        dataset = DS()

    class Runner:
        model = Model()
        train_dataloader = Loader()

    with pytest.raises(ValueError, match=r"bbox_head.num_classes = 3 but the train dataset has 2 classes"):
        NumClassCheckHook().before_train_epoch(Runner)
