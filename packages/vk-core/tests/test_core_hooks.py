import math

import pytest
import torch
from vk_core.hooks import (
    HOOK_POINTS,
    CheckpointHook,
    EarlyStoppingHook,
    Hook,
    Priority,
    get_priority,
)
from vk_core.runner import Runner
from vk_core.runner.toy import ToyClassifier, toy_config


@pytest.fixture(autouse=True)
def one_thread():
    # tiny models: one thread avoids oversubscribing a shared 2-core machine; the Runner sets process-wide
    # random and determinism state, which must not leak into other tests
    from vk_core.runner.checkpoint import get_rng_state, set_rng_state

    threads = torch.get_num_threads()
    det, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    rng = get_rng_state()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(det, warn_only=warn)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
    set_rng_state(rng)


def test_priorities():
    assert get_priority("NORMAL") == 50 and get_priority(Priority.LOW) == 70 and get_priority(30) == 30
    assert len(HOOK_POINTS) == 22
    with pytest.raises(ValueError, match="between 0 and 100"):
        get_priority(101)
    with pytest.raises(ValueError, match="unknown priority 'URGENT'"):
        get_priority("URGENT")


class Marker(Hook):
    def __init__(self, name, calls=None):
        self.name = name
        self.calls = calls if calls is not None else []

    def before_run(self, runner):
        self.calls.append(self.name)


def _runner(tmp_path, **overrides):
    return Runner.from_cfg(toy_config(str(tmp_path), **overrides))


def test_default_hooks_merge_and_removal(tmp_path):
    runner = _runner(tmp_path, default_hooks=dict(timer=None, logger=dict(interval=7)))
    names = [type(h).__name__ for h in runner.hooks]
    assert names == ["RuntimeInfoHook", "DistSamplerSeedHook", "LoggerHook", "ParamSchedulerHook", "CheckpointHook"]
    assert runner.hooks[2].interval == 7


def test_register_hook_priority_precedence_and_ties(tmp_path):
    runner = _runner(
        tmp_path,
        default_hooks=dict(
            runtime_info=None, timer=None, sampler_seed=None, logger=None, param_scheduler=None, checkpoint=None
        ),
    )
    calls = []
    a, b, c, d = (Marker(n, calls) for n in "abcd")
    b.priority = "HIGHEST"
    runner.register_hook(a)  # NORMAL
    runner.register_hook(b)  # its own priority: HIGHEST
    runner.register_hook(c, priority="VERY_LOW")  # argument wins
    runner.register_hook(d, priority=50)  # ties keep insertion order
    runner.call_hook("before_run")
    assert calls == ["b", "a", "d", "c"]
    assert "before_run:" in runner.get_hooks_info()


class NaNAfter(ToyClassifier):
    def forward(self, inputs, data_samples=None, mode="tensor"):
        out = super().forward(inputs, data_samples, mode)
        if mode == "loss" and self.training:
            self.count = getattr(self, "count", 0) + 1
            if self.count >= 3:
                out["loss_cls"] = out["loss_cls"] * float("nan")
        return out


def test_check_invalid_loss_hook_names_iteration(tmp_path):
    runner = _runner(tmp_path, model=NaNAfter(), custom_hooks=[dict(type="CheckInvalidLossHook", interval=1)])
    with pytest.raises(RuntimeError, match=r"loss is nan at iteration 3 \(epoch 1\)"):
        runner.train()


def test_early_stopping_on_plateau(tmp_path):
    # lr=0 freezes the model: accuracy never improves, so training stops after `patience` validations
    cfg = toy_config(
        str(tmp_path),
        max_epochs=10,
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.0)),
        custom_hooks=[dict(type="EarlyStoppingHook", monitor="toy/accuracy", patience=2)],
        default_hooks=dict(checkpoint=None),
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.epoch == 3  # best at epoch 1, no improvement at 2 and 3
    with pytest.raises(ValueError, match="cannot infer the rule"):
        EarlyStoppingHook(monitor="weird")


def test_save_best_keeps_best_and_last(tmp_path):
    cfg = toy_config(
        str(tmp_path),
        max_epochs=3,
        default_hooks=dict(
            checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=1, save_best="toy/accuracy")
        ),
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    files = sorted(p.name for p in tmp_path.glob("*.pth"))
    best = [f for f in files if f.startswith("best_")]
    assert len(best) == 1 and "epoch_3.pth" in files and "epoch_1.pth" not in files
    assert (tmp_path / "last_checkpoint").read_text().endswith("epoch_3.pth")
    score = runner.message_hub.get_info("best_score/toy/accuracy")
    ckpt = torch.load(tmp_path / best[0], weights_only=True)
    assert ckpt["message_hub"]["runtime_info"]["best_score/toy/accuracy"] == score
    assert math.isfinite(score)


def test_checkpoint_hook_arguments(tmp_path):
    with pytest.raises(ValueError, match="exactly one"):
        CheckpointHook(filename_tmpl="e.pth")
    with pytest.raises(ValueError, match="2 rules for 1 save_best keys"):
        CheckpointHook(save_best=["acc"], rule=["greater", "less"])
    CheckpointHook(save_best=["acc"], rule=["greater"])
    CheckpointHook(save_best="acc", rule="greater")
    hook = CheckpointHook(save_best="auto")
    assert hook._infer_rule("coco/bbox_mAP") == "greater" and hook._infer_rule("val_loss") == "less"


def test_checkpoint_out_dir_joins_work_dir_name(tmp_path):
    work = tmp_path / "work_dir" / "cur_exp"
    cfg = toy_config(
        str(work),
        max_epochs=1,
        default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=1, out_dir=str(tmp_path / "tmp"))),
    )
    Runner.from_cfg(cfg).train()
    assert (tmp_path / "tmp" / "cur_exp" / "epoch_1.pth").is_file()


def test_ema_hook_swaps_for_validation_and_checkpoint(tmp_path):
    cfg = toy_config(str(tmp_path), max_epochs=1, custom_hooks=[dict(type="EMAHook", momentum=0.5)])
    runner = Runner.from_cfg(cfg)
    runner.train()
    ckpt = torch.load(tmp_path / "epoch_1.pth", weights_only=True)
    ema_hook = next(h for h in runner.hooks if type(h).__name__ == "EMAHook")
    raw = runner.model.state_dict()["net.0.weight"]
    avg = ema_hook.ema_model.module.state_dict()["net.0.weight"]
    assert not torch.equal(raw, avg)
    assert torch.equal(ckpt["state_dict"]["net.0.weight"], avg)  # inference weights are the average
    assert torch.equal(ckpt["ema_state_dict"]["module.net.0.weight"], raw)  # raw weights kept for resume


def test_profiler_hook_writes_trace(tmp_path):
    cfg = toy_config(
        str(tmp_path),
        max_epochs=1,
        default_hooks=dict(checkpoint=None),
        custom_hooks=[dict(type="ProfilerHook", by_epoch=False, profile_times=2)],
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert (tmp_path / runner.timestamp / "profiler_trace.json").stat().st_size > 0


def test_logger_progress_bar(tmp_path):
    cfg = toy_config(
        str(tmp_path),
        max_epochs=1,
        default_hooks=dict(logger=dict(type="LoggerHook", interval=4, progress=True), checkpoint=None),
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.test()["toy/accuracy"] >= 0


def test_naive_visualization_hook_records_images(tmp_path):
    from types import SimpleNamespace

    from vk_core.hooks import NaiveVisualizationHook
    from vk_core.structures import BaseDataElement
    from vk_core.visualization import Visualizer

    vis = Visualizer.get_instance("naive_vis_test", vis_backends=[dict(type="LocalVisBackend")], save_dir=str(tmp_path))
    hook = NaiveVisualizationHook(interval=2)
    runner = SimpleNamespace(visualizer=vis)
    sample = BaseDataElement(metainfo=dict(img_path="/data/cat.jpg"))
    batch = {"inputs": [torch.rand(3, 4, 5) * 255, torch.rand(8)], "data_samples": [sample, sample]}
    hook.after_test_iter(runner, 0, batch, outputs=None)  # not due: interval 2
    hook.after_test_iter(runner, 1, batch, outputs=None)
    images = sorted(p.name for p in (tmp_path / "vis_image").glob("*.png"))
    assert images == ["cat_1.png"]  # the 1-D input is not an image and is skipped


def test_sync_buffers_and_empty_cache_hooks_run_single_process(tmp_path):
    cfg = toy_config(
        str(tmp_path),
        max_epochs=1,
        default_hooks=dict(checkpoint=None),
        custom_hooks=[dict(type="SyncBuffersHook"), dict(type="EmptyCacheHook", after_iter=True)],
    )
    Runner.from_cfg(cfg).train()
