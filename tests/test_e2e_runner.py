"""End-to-end acceptance tests of the runner through the ``vk`` command line.

The toy task (``vk_core.runner.toy``) keeps every run to seconds; subprocesses use one thread each.
"""

import json
import os
import random
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from vk_core.runner import Runner
from vk_core.runner import checkpoint as ck
from vk_core.runner.toy import toy_config

KILL_HOOK = '''
import os, signal
from vk_core.hooks import Hook
from vk_core.registry import HOOKS


@HOOKS.register_module(force=True)
class KillAtIterHook(Hook):
    """Simulates a crash: SIGKILL right after iteration VK_TEST_KILL_AT (checkpoints are written before)."""

    priority = "LOWEST"

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        kill_at = int(os.environ.get("VK_TEST_KILL_AT", "0"))
        if kill_at and runner.iter + 1 == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
'''


def _write_config(path: Path, cfg: dict) -> Path:
    path.write_text("\n".join(f"{key} = {value!r}" for key, value in cfg.items()) + "\n")
    return path


def _env(extra_path: Path | None = None, **kw) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **kw)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    return env


def _vk(args, env, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "vk_core.cli.main", *args], env=env, capture_output=True, text=True, timeout=300
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"vk {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def _last_metric(work_dir: Path, key: str):
    values = []
    for scalars in work_dir.glob("*/vis_data/scalars.json"):
        values += [json.loads(line)[key] for line in scalars.read_text().splitlines() if key in json.loads(line)]
    return values


@pytest.mark.slow
def test_vk_train_then_vk_test(tmp_path):
    work = tmp_path / "work"
    cfg = _write_config(tmp_path / "toy.py", toy_config(str(work), max_epochs=2))
    _vk(["train", str(cfg), "--seed", "3", "--deterministic"], _env())
    assert (work / "epoch_2.pth").is_file()
    assert (work / "last_checkpoint").read_text() == str(work / "epoch_2.pth")
    assert len(_last_metric(work, "toy/accuracy")) == 2
    out = tmp_path / "preds.pkl"
    proc = _vk(
        ["test", str(cfg), str(work / "epoch_2.pth"), "--out", str(out), "--work-dir", str(tmp_path / "t")], _env()
    )
    metrics = json.loads(proc.stdout.strip().splitlines()[-1])
    assert 0 <= metrics["toy/accuracy"] <= 100
    assert out.is_file()


def _resume_cfg(work: Path, by_epoch: bool) -> dict:
    cfg = toy_config(
        str(work),
        max_epochs=3,
        model=dict(type="ToyClassifier", dropout=0.2),
        param_scheduler=[
            dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=5),
            dict(type="CosineAnnealingLR", by_epoch=True, begin=0, end=3, T_max=3, convert_to_iter_based=True),
        ],
        custom_imports=dict(imports=["vk_core.runner.toy", "killhook"]),
        custom_hooks=[dict(type="EMAHook", momentum=0.1), dict(type="KillAtIterHook")],
        default_hooks=dict(
            checkpoint=dict(type="CheckpointHook", by_epoch=False, interval=3),
            logger=dict(type="LoggerHook", interval=4),
        ),
        randomness=dict(seed=7, deterministic=True),
    )
    if not by_epoch:
        cfg["train_cfg"] = dict(by_epoch=False, max_iters=22, val_interval=10)
        cfg["log_processor"] = dict(by_epoch=False)
    return cfg


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


def _train_in_process(cfg: dict, module_dir: Path | None = None) -> None:
    """The uninterrupted reference run, in this process to save an interpreter start-up."""
    if module_dir is not None:
        sys.path.insert(0, str(module_dir))
        sys.modules.pop("killhook", None)
    try:
        import importlib

        for name in cfg.get("custom_imports", {}).get("imports", []):
            importlib.import_module(name)
        Runner.from_cfg(cfg).train()
    finally:
        if module_dir is not None:
            sys.path.remove(str(module_dir))


def _final_state(path: Path) -> dict:
    ckpt = torch.load(path, weights_only=True)
    return {"state_dict": ckpt["state_dict"], "ema": ckpt["ema_state_dict"], "optimizer": ckpt["optimizer"]["state"]}


def _assert_bitwise_equal(a, b, where="checkpoint"):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), f"{where} differs"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_bitwise_equal(a[k], b[k], f"{where}[{k!r}]")
    else:
        assert a == b, where


@pytest.mark.slow
@pytest.mark.parametrize("by_epoch", [True, False], ids=["epoch_based", "iter_based"])
def test_sigkill_then_resume_is_bitwise_exact(tmp_path, by_epoch, one_thread):
    (tmp_path / "killhook.py").write_text(KILL_HOOK)
    total = 24 if by_epoch else 22
    last = "iter_24.pth" if by_epoch else "iter_22.pth"
    _train_in_process(_resume_cfg(tmp_path / "ref", by_epoch), tmp_path)

    kill_at = random.Random(1234 + by_epoch).randint(5, total - 2)
    if kill_at % 8 == 0:
        kill_at += 1  # keep the crash mid-epoch
    cfg = _write_config(tmp_path / "run.py", _resume_cfg(tmp_path / "run", by_epoch))
    crashed = _vk(["train", str(cfg)], _env(tmp_path, VK_TEST_KILL_AT=str(kill_at)), check=False)
    assert crashed.returncode == -signal.SIGKILL
    latest = (tmp_path / "run" / "last_checkpoint").read_text()
    assert latest.endswith(f"iter_{kill_at // 3 * 3}.pth")
    assert not (tmp_path / "run" / last).exists()

    _vk(["train", str(cfg), "--resume"], _env(tmp_path))
    _assert_bitwise_equal(_final_state(tmp_path / "ref" / last), _final_state(tmp_path / "run" / last))


def test_failed_checkpoint_write_keeps_previous(tmp_path, monkeypatch, one_thread):
    runner = Runner.from_cfg(toy_config(str(tmp_path), max_epochs=3))
    calls = {"n": 0}
    real_save = ck._torch_save

    def flaky(obj, f):
        calls["n"] += 1
        if calls["n"] == 2:
            f.write(b"half a checkpoint")
            raise OSError("no space left on device (injected)")
        real_save(obj, f)

    monkeypatch.setattr(ck, "_torch_save", flaky)
    with pytest.raises(OSError, match="injected"):
        runner.train()
    assert (tmp_path / "last_checkpoint").read_text() == str(tmp_path / "epoch_1.pth")
    assert torch.load(tmp_path / "epoch_1.pth", weights_only=True)["meta"]["epoch"] == 1
    assert sorted(p.name for p in tmp_path.glob("*.pth*")) == ["epoch_1.pth"]
    assert not list(tmp_path.glob(".*.tmp"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_processes_match_one_process(tmp_path, one_thread):
    def cfg(work, batch_size):
        return toy_config(
            str(work),
            max_epochs=2,
            batch_size=batch_size,
            randomness=dict(seed=5, deterministic=True),
            default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=2)),
        )

    _train_in_process(cfg(tmp_path / "single", 8))
    double = _write_config(tmp_path / "double.py", cfg(tmp_path / "double", 4))
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(_free_port()),
        "-m",
        "vk_core.cli.main",
        "train",
        str(double),
        "--launcher",
        "pytorch",
    ]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    a = torch.load(tmp_path / "single" / "epoch_2.pth", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "double" / "epoch_2.pth", weights_only=True)["state_dict"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-5, rtol=0, msg=f"{key} differs")
    assert _last_metric(tmp_path / "single", "toy/accuracy") == _last_metric(tmp_path / "double", "toy/accuracy")


def test_cli_in_process_amp_cfg_options_and_errors(tmp_path, capsys):
    from vk_core.cli.main import main as vk_main

    cfg = _write_config(tmp_path / "toy.py", toy_config(str(tmp_path / "unused"), max_epochs=2))
    work = tmp_path / "work"
    args = ["train", str(cfg), "--work-dir", str(work), "--amp", "--cfg-options", "train_cfg.max_epochs=1"]
    assert vk_main(args) == 0
    ckpt = torch.load(work / "epoch_1.pth", weights_only=True)
    assert ckpt["meta"]["epoch"] == 1 and not (work / "epoch_2.pth").exists()
    assert "AmpOptimWrapper" in (work / "toy.py").read_text()
    assert vk_main(["test", str(cfg), str(work / "epoch_1.pth"), "--work-dir", str(tmp_path / "t")]) == 0
    assert "toy/accuracy" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="neither a file nor a config shipped"):
        vk_main(["train", "no_such_config_anywhere"])
    with pytest.raises(SystemExit, match=r"must end in \.pkl"):
        vk_main(["test", str(cfg), str(work / "epoch_1.pth"), "--out", "x.json"])
