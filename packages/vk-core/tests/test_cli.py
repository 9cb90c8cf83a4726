import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
import vk_core
from vk_core.cli import main as cli_main


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"vk-core {vk_core.__version__}"


def test_console_script_runs_env_as_json():
    vk = __import__("shutil").which("vk", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert vk is not None, "the vk console script is not installed next to this Python"
    out = subprocess.run([vk, "env", "--json"], capture_output=True, text=True, check=True).stdout
    env = json.loads(out)
    assert env["packages"]["vk-core"] == vk_core.__version__
    assert env["system"]["torch"]
    if env["packages"]["vk-ops"] is not None:
        assert "bbox_overlaps" in env["vk_ops"]["available"]
        assert env["vk_ops"]["build_info"]["version"] == env["packages"]["vk-ops"]


def _fake_entry_point(name, obj=None, error=None):
    def load():
        if error is not None:
            raise error
        return obj

    return SimpleNamespace(name=name, value=f"fake.{name}", load=load)


def test_plugin_commands_are_discovered_and_broken_ones_reported(monkeypatch, capsys):
    calls = []
    plugin = SimpleNamespace(
        HELP="a plug-in command",
        add_arguments=lambda parser: parser.add_argument("--times", type=int, default=1),
        run=lambda args: calls.append(args.times) or 3,
    )
    eps = [
        _fake_entry_point("hello", plugin),
        _fake_entry_point("broken", error=ImportError("no module named fake_dep")),
    ]
    monkeypatch.setattr(cli_main, "entry_points", lambda group: eps)
    assert cli_main.main(["hello", "--times", "2"]) == 3
    assert calls == [2]
    assert cli_main.main(["broken"]) == 2
    err = capsys.readouterr().err
    assert "broken" in err and "no module named fake_dep" in err


def test_plugin_missing_attributes_is_reported(monkeypatch, capsys):
    monkeypatch.setattr(cli_main, "entry_points", lambda group: [_fake_entry_point("half", SimpleNamespace(HELP="x"))])
    assert cli_main.main(["half"]) == 2
    assert "lacks add_arguments, run" in capsys.readouterr().err


def test_import_vk_core_needs_no_other_vk_package():
    # Block the other vk packages at import time: vk_core and its CLI must still import.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'vk_ops', 'vk_det', 'vk_seg'}:\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import vk_core, vk_core.cli.main\n"
        "print(vk_core.__version__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == vk_core.__version__
