import json
import re
import shutil

import pytest
import torch
from vk_core.hooks import Hook
from vk_core.runner import EpochBasedTrainLoop, IterBasedTrainLoop, Runner
from vk_core.runner.toy import toy_config


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


def test_train_val_test_and_work_dir_layout(tmp_path):
    runner = Runner.from_cfg(toy_config(str(tmp_path), max_epochs=2))
    runner.train()
    metrics = runner.test()
    assert set(metrics) == {"toy/accuracy"} and 0 <= metrics["toy/accuracy"] <= 100
    log_dir = tmp_path / runner.timestamp
    log_text = (log_dir / f"{runner.timestamp}.log").read_text()
    assert re.search(
        r"Epoch\(train\) \[1\]\[2/8\]  lr: 1\.0000e-01  eta: \d+:\d\d:\d\d  time: \d\.\d{4}  data_time: \d\.\d{4}  "
        r"loss: \d\.\d{4}  loss_cls: \d\.\d{4}",
        log_text,
    )
    assert re.search(r"Epoch\(val\) \[2\]\[4/4\]  toy/accuracy: \d+\.\d{4}", log_text)
    records = [json.loads(x) for x in (log_dir / "vis_data" / "scalars.json").read_text().splitlines()]
    train = [r for r in records if "loss" in r]
    assert [r["step"] for r in train] == [2, 4, 6, 8, 10, 12, 14, 16]
    assert train[-1]["lr"] == pytest.approx(0.01)  # MultiStepLR milestone 1
    assert [r["step"] for r in records if "toy/accuracy" in r] == [1, 2]
    assert (log_dir / "vis_data" / "config.py").is_file()
    assert (tmp_path / "last_checkpoint").read_text() == str(tmp_path / "epoch_2.pth")
    ckpt = torch.load(tmp_path / "epoch_2.pth", weights_only=True)
    assert {"meta", "state_dict", "optimizer", "param_schedulers", "message_hub", "loop", "rng_state"} <= set(ckpt)
    assert ckpt["meta"]["epoch"] == 2 and ckpt["meta"]["iter"] == 16 and ckpt["meta"]["seed"] == 0


def test_unconsumed_config_keys_are_reported(tmp_path):
    cfg = toy_config(str(tmp_path), model_wrapper=dict(find_unused_parameters=True), train_pipeline=[])
    with pytest.warns(UserWarning, match="'model_wrapper' is not used by the Runner; did you mean 'model_wrapper_cfg'"):
        Runner.from_cfg(cfg)


def test_incomplete_component_groups_are_errors(tmp_path):
    cfg = toy_config(str(tmp_path))
    cfg.pop("val_evaluator")
    with pytest.raises(ValueError, match=r"'val_dataloader', 'val_cfg'\] given without \['val_evaluator'\]"):
        Runner.from_cfg(cfg)
    with pytest.raises(KeyError, match="unknown randomness keys"):
        Runner.from_cfg(toy_config(str(tmp_path), randomness=dict(sed=1)))


class CountVal(Hook):
    def __init__(self):
        self.at = []

    def after_val_epoch(self, runner, metrics=None):
        self.at.append(runner.iter)


def test_iter_based_loop_with_dynamic_intervals(tmp_path):
    counter = CountVal()
    cfg = toy_config(
        str(tmp_path),
        train_cfg=dict(by_epoch=False, max_iters=20, val_interval=4, dynamic_intervals=[(12, 6)]),
        default_hooks=dict(checkpoint=dict(type="CheckpointHook", by_epoch=False, interval=10)),
        log_processor=dict(by_epoch=False),
        custom_hooks=[counter],
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert isinstance(runner.train_loop, IterBasedTrainLoop)
    counter = next(h for h in runner.hooks if isinstance(h, CountVal))  # from_cfg deep-copies the config
    assert counter.at == [4, 8, 12, 18, 20]
    assert runner.iter == 20 and runner.epoch == 2  # 8 batches per pass: passes 0, 1 done, 2 in progress
    assert sorted(p.name for p in tmp_path.glob("*.pth")) == ["iter_10.pth", "iter_20.pth"]


def _final_weights(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


@pytest.mark.parametrize("by_epoch", [True, False])
def test_in_process_resume_mid_epoch_is_exact(tmp_path, by_epoch):
    def cfg(wd, **kw):
        c = toy_config(
            str(wd),
            max_epochs=2,
            model=dict(type="ToyClassifier", dropout=0.3),
            custom_hooks=[dict(type="EMAHook", momentum=0.2)],
            param_scheduler=[
                dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=4),
                dict(type="CosineAnnealingLR", by_epoch=True, begin=0, end=2, T_max=2, convert_to_iter_based=True),
            ],
            default_hooks=dict(checkpoint=dict(type="CheckpointHook", by_epoch=False, interval=5)),
            **kw,
        )
        if not by_epoch:
            c["train_cfg"] = dict(by_epoch=False, max_iters=16, val_interval=6)
        return c

    full = Runner.from_cfg(cfg(tmp_path / "a"))
    full.train()
    expected = _final_weights(full)
    shutil.rmtree(tmp_path / "a" / full.timestamp)
    resumed = Runner.from_cfg(cfg(tmp_path / "b", load_from=str(tmp_path / "a" / "iter_5.pth"), resume=True))
    resumed.train()
    got = _final_weights(resumed)
    assert all(torch.equal(expected[k], got[k]) for k in expected)


def test_resume_true_picks_latest_and_load_from_loads_weights(tmp_path):
    Runner.from_cfg(toy_config(str(tmp_path), max_epochs=1)).train()
    runner = Runner.from_cfg(toy_config(str(tmp_path), max_epochs=2, resume=True))
    runner.train()
    log = (tmp_path / runner.timestamp / f"{runner.timestamp}.log").read_text()
    marker = f"resumed from {tmp_path / 'epoch_1.pth'}: epoch 1, iter 8"
    assert marker in log
    after = log.split(marker, 1)[1]
    assert "Epoch(train) [1]" not in after and "Epoch(train) [2][8/8]" in after
    tester = Runner.from_cfg(toy_config(str(tmp_path / "t"), load_from=str(tmp_path / "epoch_2.pth")))
    tester.test()
    ref = torch.load(tmp_path / "epoch_2.pth", weights_only=True)["state_dict"]
    assert torch.equal(tester.model.state_dict()["net.0.weight"], ref["net.0.weight"])


def test_auto_scale_lr(tmp_path):
    cfg = toy_config(
        str(tmp_path), max_epochs=1, param_scheduler=None, auto_scale_lr=dict(enable=True, base_batch_size=16)
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.optim_wrapper.param_groups[0]["lr"] == pytest.approx(0.05)  # 0.1 * 8 / 16


def test_loop_types_and_bf16_test(tmp_path):
    runner = Runner.from_cfg(toy_config(str(tmp_path), test_cfg=dict(fp16="bfloat16")))
    assert isinstance(runner.build_train_loop(dict(by_epoch=True, max_epochs=3)), EpochBasedTrainLoop)
    assert isinstance(runner.build_train_loop(dict(by_epoch=False, max_iters=3)), IterBasedTrainLoop)
    assert "toy/accuracy" in runner.test()
    with pytest.raises(ValueError, match="max_epochs must be a positive int"):
        runner.build_train_loop(dict(by_epoch=True, max_epochs=0))


def test_same_seed_same_weights(tmp_path):
    a = Runner.from_cfg(toy_config(str(tmp_path / "a"), max_epochs=1))
    a.train()
    b = Runner.from_cfg(toy_config(str(tmp_path / "b"), max_epochs=1))
    b.train()
    wa, wb = _final_weights(a), _final_weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_set_random_seed():
    from vk_core.runner import set_random_seed

    assert set_random_seed(11) == 11
    first = torch.rand(2)
    set_random_seed(11, diff_rank_seed=True)  # rank 0 of 1: unchanged
    assert torch.equal(torch.rand(2), first)
    drawn = set_random_seed(None)
    assert isinstance(drawn, int) and 0 <= drawn < 2**31
    set_random_seed(1, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.benchmark
    with pytest.raises(TypeError, match="randomness.seed must be an int"):
        set_random_seed("1")


def test_dataloader_with_workers_freezes_gc(tmp_path):
    """Objects alive when worker processes fork are frozen, so a collection in a worker does not copy their pages."""
    import gc

    runner = Runner.from_cfg(toy_config(str(tmp_path)))
    loader_cfg = dict(dataset=dict(type="ToyDataset", num_samples=8), batch_size=4)
    gc.unfreeze()
    try:
        runner.build_dataloader(dict(loader_cfg, num_workers=0))
        assert gc.get_freeze_count() == 0
        runner.build_dataloader(dict(loader_cfg, num_workers=1))
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
