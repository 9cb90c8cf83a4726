import functools
import http.server
import random
import threading
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn
from vk_core.runner import checkpoint as ck


class Net(nn.Module):
    def __init__(self, out=3):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2, out)


def test_save_is_weights_only_loadable(tmp_path):
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net.fc.weight.sum().backward()
    opt.step()
    checkpoint = {
        "meta": {"epoch": 1, "classes": ("a", "b"), "np": np.float32(2.5), "arr": np.arange(3)},
        "state_dict": ck.weights_to_cpu(net.state_dict()),
        "optimizer": opt.state_dict(),
        "rng_state": ck.get_rng_state(),
    }
    path = tmp_path / "a.pth"
    ck.save_checkpoint(checkpoint, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded["meta"]["classes"] == ("a", "b") and loaded["meta"]["np"] == 2.5
    assert torch.equal(loaded["meta"]["arr"], torch.arange(3))
    assert torch.equal(loaded["state_dict"]["fc.weight"], net.fc.weight)
    assert not list(tmp_path.glob(".*tmp"))


def test_save_rejects_arbitrary_objects(tmp_path):
    with pytest.raises(TypeError, match=r"checkpoint x.pth\['meta'\]\['obj'\] holds a .*object"):
        ck.save_checkpoint({"meta": {"obj": object()}}, tmp_path / "x.pth")
    assert not (tmp_path / "x.pth").exists()


def test_failed_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "latest.pth"
    ck.save_checkpoint({"v": torch.tensor(1)}, path)

    def broken(obj, f):
        f.write(b"partial garbage")
        raise OSError("disk full (injected)")

    monkeypatch.setattr(ck, "_torch_save", broken)
    with pytest.raises(OSError, match="injected"):
        ck.save_checkpoint({"v": torch.tensor(2)}, path)
    assert torch.load(path, weights_only=True)["v"].item() == 1
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pth"]


def test_rng_state_round_trip():
    state = ck.get_rng_state()
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.random(), np.random.rand(), torch.rand(1)
    ck.set_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_data_rng_state_round_trip(tmp_path):
    from vk_core.dataset.rng import data_rng, seed_data_rng

    seed_data_rng(3)
    state = ck.get_rng_state()
    ck.save_checkpoint({"rng": state}, tmp_path / "r.pth")
    expected = data_rng().random(3)
    ck.set_rng_state(torch.load(tmp_path / "r.pth", weights_only=True)["rng"])
    assert np.array_equal(data_rng().random(3), expected)


def test_load_checkpoint_revise_keys_and_report(tmp_path, caplog):
    src = Net()
    state = OrderedDict((f"module.backbone.{k}", v) for k, v in src.state_dict().items())
    state["module.backbone.extra"] = torch.zeros(1)
    ck.save_checkpoint({"state_dict": state}, tmp_path / "w.pth")
    dst = Net()
    ck.load_checkpoint(dst, tmp_path / "w.pth", revise_keys=[(r"^module\.", ""), (r"^backbone\.", "")])
    assert torch.equal(dst.conv.weight, src.conv.weight)

    other = Net(out=5)
    with pytest.raises(RuntimeError, match=r"size mismatch.*fc.weight checkpoint \(3, 2\) vs model \(5, 2\)"):
        ck.load_checkpoint(other, tmp_path / "w.pth", strict=True, revise_keys=[(r"^module\.backbone\.", "")])
    result = ck.load_state_dict(other, {"conv.weight": src.conv.weight, "junk": torch.ones(1)}, logger="silent")
    assert result["unexpected_keys"] == ["junk"]
    assert "fc.weight" in result["missing_keys"] and "conv.bias" in result["missing_keys"]
    with pytest.raises(ValueError, match=r"revise_keys\[0\]"):
        ck.load_checkpoint(dst, tmp_path / "w.pth", revise_keys=["bad"])
    with pytest.raises(FileNotFoundError, match="nope.pth does not exist"):
        ck.load_checkpoint(dst, tmp_path / "nope.pth")


def test_http_checkpoint_cached_under_vk_home(tmp_path, monkeypatch):
    serve_dir = tmp_path / "srv"
    serve_dir.mkdir()
    src = Net()
    ck.save_checkpoint({"state_dict": src.state_dict()}, serve_dir / "net.pth")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(serve_dir))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("VK_HOME", str(tmp_path / "home"))
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/net.pth"
        dst = Net()
        ck.load_checkpoint(dst, url)
        assert torch.equal(dst.fc.weight, src.fc.weight)
        cached = tmp_path / "home" / "checkpoints" / "net.pth"
        assert cached.is_file()
        (serve_dir / "net.pth").unlink()  # the second load must come from the cache
        ck.load_checkpoint(Net(), url)
    finally:
        server.shutdown()
        server.server_close()


def test_register_scheme_and_torchvision_alias_errors(tmp_path):
    ck.save_checkpoint({"state_dict": Net().state_dict()}, tmp_path / "m.pth")
    calls = []

    @ck.CheckpointLoader.register_scheme("mem://", force=True)
    def load_mem(filename, map_location=None):
        calls.append(filename)
        return torch.load(tmp_path / "m.pth", weights_only=True)

    ck.load_checkpoint(Net(), "mem://m")
    assert calls == ["mem://m"]
    with pytest.raises(KeyError, match="already handled"):
        ck.CheckpointLoader.register_scheme("mem://", load_mem)
    with pytest.raises(KeyError, match="did you mean"):
        ck.load_checkpoint(Net(), "torchvision://resnet5")


def test_safetensors_export_and_load(tmp_path):
    net = Net()
    ck.save_safetensors(net, tmp_path / "w.safetensors")
    dst = Net()
    ck.load_checkpoint(dst, tmp_path / "w.safetensors", strict=True)
    for k, v in net.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v)


def test_find_latest_checkpoint(tmp_path):
    assert ck.find_latest_checkpoint(tmp_path) is None
    ck.save_checkpoint({"a": 1}, tmp_path / "epoch_1.pth")
    ck.write_last_checkpoint(tmp_path, tmp_path / "epoch_1.pth")
    assert ck.find_latest_checkpoint(tmp_path) == str(tmp_path / "epoch_1.pth")
    (tmp_path / "epoch_1.pth").unlink()
    assert ck.find_latest_checkpoint(tmp_path) is None
