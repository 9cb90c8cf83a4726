import json
from pathlib import Path

import pytest
from vk_core.cli.main import main
from vk_core.config import Config, find_config

DATA = Path(__file__).resolve().parent / "data" / "configs"


def test_print_config_applies_cfg_options_and_reloads_equal(capsys):
    assert main(["print-config", str(DATA / "config_c.py"), "--cfg-options", "b.b1=[5]", "c=(1,(2,3))"]) == 0
    out = capsys.readouterr().out
    assert out == "a = 1\nb = dict(b1=[5], b2=1)\nc = (1, (2, 3))\n"
    assert Config.fromstring(out, ".py").to_dict() == {"a": 1, "b": {"b1": [5], "b2": 1}, "c": (1, (2, 3))}


def test_print_config_json_and_yaml(capsys):
    assert main(["print-config", str(DATA / "config_c.py"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"a": 1, "b": {"b1": [0, 1, 2], "b2": 1}, "c": [1, 2]}
    assert main(["print-config", str(DATA / "config_c.py"), "--format", "yaml"]) == 0
    assert Config.fromstring(capsys.readouterr().out, ".yaml").c == (1, 2)


def test_print_config_diff(capsys):
    c, d = str(DATA / "config_c.py"), str(DATA / "config_d.py")
    assert main(["print-config", c, "--diff", d]) == 1
    out = capsys.readouterr().out
    assert "-b = dict(b1=[0, 1, 2], b2=1)\n+b = dict(b2=None, b3=0.1)\n" in out
    assert main(["print-config", c, "--diff", c]) == 0
    assert "no difference" in capsys.readouterr().out


def test_print_config_errors_are_messages_not_tracebacks(capsys, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("a = (\n")
    assert main(["print-config", str(bad)]) == 2
    assert f"{bad}, line 1: invalid Python syntax" in capsys.readouterr().err
    assert main(["print-config", "no_such_config_anywhere_xyz"]) == 2
    assert "neither a file nor a config shipped" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["print-config", str(DATA / "config_c.py"), "--cfg-options", "a=[1,2"])
    assert exc.value.code == 2
    assert "cannot parse 'a=[1,2': '[' is never closed" in capsys.readouterr().err


def test_find_config_by_shipped_name(tmp_path, monkeypatch):
    import vk_core.registry.registry as regmod

    monkeypatch.syspath_prepend(str(tmp_path))
    cfg_dir = tmp_path / "vk_test_shipper" / "configs"
    (cfg_dir / "retina").mkdir(parents=True)
    (cfg_dir / "_base_").mkdir()
    (tmp_path / "vk_test_shipper" / "__init__.py").write_text("")
    (cfg_dir / "retina" / "retina_r50.py").write_text("a = 1\n")
    (cfg_dir / "_base_" / "runtime.py").write_text("b = 1\n")
    monkeypatch.setattr(regmod, "_scope_modules", {"vk_test_shipper": "vk_test_shipper"})
    expected = str(cfg_dir / "retina" / "retina_r50.py")
    assert find_config("retina_r50") == expected
    assert find_config("retina/retina_r50.py") == expected
    assert find_config("vk_test_shipper::retina/retina_r50.py") == expected
    with pytest.raises(FileNotFoundError, match=r"did you mean vk_test_shipper::retina/retina_r50.py"):
        find_config("retina_r5")
    with pytest.raises(FileNotFoundError):
        find_config("runtime")  # _base_ files are not runnable configs


def test_registry_command_lists_a_registry(capsys):
    from vk_det.registry import RUNNERS

    class VkTestListedRunner:
        pass

    RUNNERS.register_module(module=VkTestListedRunner)
    try:
        assert main(["registry", "vk_det", "RUNNERS"]) == 0
        out = capsys.readouterr().out
        assert "vk_det RUNNERS (runner)" in out and "VkTestListedRunner" in out
        assert main(["registry", "vk_det", "runner"]) == 0
        assert "VkTestListedRunner" in capsys.readouterr().out
    finally:
        RUNNERS.module_dict.pop("VkTestListedRunner")


def test_registry_command_rejects_unknown_names(capsys):
    assert main(["registry", "vk_dte"]) == 2
    assert "unknown scope 'vk_dte'; did you mean 'vk_det'" in capsys.readouterr().out
    assert main(["registry", "vk_det", "MODLES"]) == 2
    assert "unknown registry 'MODLES'; did you mean 'MODELS'" in capsys.readouterr().out
