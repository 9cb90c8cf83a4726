import argparse
import copy
import os
import pickle
import re
import sys
import textwrap
from pathlib import Path

import pytest
from vk_core.config import (
    Config,
    ConfigDict,
    ConfigError,
    ConfigSyntaxError,
    DictAction,
    OptionParseError,
    RenderError,
    parse_option,
)

DATA = Path(__file__).resolve().parent / "data" / "configs"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# --------------------------------------------------------------------------- upstream tutorial examples
def test_config_from_dict_and_attribute_access():
    cfg = Config(dict(a=1, b=dict(b1=[0, 1])))
    assert cfg.a == 1 and cfg.b == {"b1": [0, 1]} and cfg.b.b1 == [0, 1]
    assert isinstance(cfg.b, ConfigDict) and cfg["b"]["b1"] == [0, 1]
    assert repr(cfg) == "Config [path: None]: {'a': 1, 'b': {'b1': [0, 1]}}"


def test_inherit_without_overlap():
    cfg = Config.fromfile(DATA / "config_b.py")
    assert cfg.to_dict() == dict(a=1, b=dict(b1=[0, 1, 2], b2=None), c=(1, 2), d="string")
    assert cfg.filename == str(DATA / "config_b.py")


def test_inherit_with_overlap():
    cfg = Config.fromfile(DATA / "config_c.py")
    assert cfg.to_dict() == dict(a=1, b=dict(b1=[0, 1, 2], b2=1), c=(1, 2))


def test_inherit_with_delete():
    cfg = Config.fromfile(DATA / "config_d.py")
    assert cfg.to_dict() == dict(a=1, b=dict(b2=None, b3=0.1), c=(1, 2))


def test_inherit_from_multiple_bases():
    cfg = Config.fromfile(DATA / "config_f.py")
    assert cfg.to_dict() == dict(a=1, b=dict(b1=[0, 1, 2], b2=None), c=(1, 2), d="string")
    assert "config_a.py" in cfg.text and "config_e.py" in cfg.text


def test_reference_base_variables():
    cfg = Config.fromfile(DATA / "config_g.py")
    assert cfg.pretty_text == "item1 = 'a'\nitem2 = dict(item3='b')\nitem = dict(a='a', b='b')\n"


def test_predefined_variables():
    cfg = Config.fromfile(DATA / "config_pre.py")
    assert cfg.b == "./work_dir/config_pre" and cfg.c == ".py" and cfg.d == "config_pre.py"
    assert cfg.e == str(DATA)
    raw = Config.fromfile(DATA / "config_pre.py", use_predefined_variables=False)
    assert raw.b == "./work_dir/{{ fileBasenameNoExtension }}"


def test_deprecation_warns():
    with pytest.warns(UserWarning, match=r"deprecated_cfg.py will be deprecated.*use expected_cfg.py.*pull/1275"):
        cfg = Config.fromfile(DATA / "deprecated_cfg.py")
    assert cfg.to_dict() == {"x": 1}


def test_yaml_and_json_with_bases_and_references():
    cfg = Config.fromfile(DATA / "child.yaml")
    assert cfg.a == 1 and cfg.b == {"b1": [0, 1, 2], "b2": 1}
    assert cfg.copied == [{"type": "LoadImage"}, {"type": "Resize", "scale": [1, 2]}]
    assert cfg.scale == [1, 2] and cfg.name == "child"
    cfg.copied[0]["type"] = "changed"  # a reference is a copy, not an alias
    assert cfg.pipeline[0]["type"] == "LoadImage"
    j = Config.fromfile(DATA / "child.json")
    assert j.to_dict() == dict(a=1, b=dict(b1=[0, 1, 2], b2="json"), dup=[0, 1, 2])


def test_merge_from_dict_upstream_examples():
    cfg = Config(dict(model=dict(backbone=dict(type="ResNet"))))
    cfg.merge_from_dict({"model.backbone.depth": 50, "model.backbone.with_cp": True})
    assert cfg.to_dict() == {"model": {"backbone": {"type": "ResNet", "depth": 50, "with_cp": True}}}
    cfg = Config(dict(pipeline=[dict(type="LoadImage"), dict(type="LoadAnnotations")]))
    cfg.merge_from_dict(dict(pipeline={"0": dict(type="SelfLoadImage")}), allow_list_keys=True)
    assert cfg.to_dict() == {"pipeline": [{"type": "SelfLoadImage"}, {"type": "LoadAnnotations"}]}


def test_merge_from_dict_with_list_indices_and_errors():
    cfg = Config(dict(pipeline=[dict(type="A"), dict(type="B", scale=(1, 1))], a=1))
    cfg.merge_from_dict({"pipeline.1.scale": [1, 2], "pipeline.-2.x": None, "new.key": "v"})
    assert cfg.pipeline == [dict(type="A", x=None), dict(type="B", scale=[1, 2])]
    assert cfg.new == {"key": "v"}
    with pytest.raises(ConfigError, match=r"pipeline.5: index 5 is out of range for a list of 2 items"):
        cfg.merge_from_dict({"pipeline.5.type": "C"})
    with pytest.raises(ConfigError, match=r"pipeline is a list of 2 items.*must be an index, got 'x'"):
        cfg.merge_from_dict({"pipeline.x": 1})
    with pytest.raises(ConfigError, match=r"'a' is a dict here but an int in the base config.*set 'a' itself"):
        cfg.merge_from_dict({"a.b": 1})
    assert cfg.a == 1  # a failed merge leaves the config unchanged
    with pytest.raises(ConfigError, match="dotted key"):
        cfg.merge_from_dict({"a..b": 1})


def test_merge_from_dict_resolves_new_references():
    cfg = Config(dict(lr=0.1, optim=dict(lr=0.5)))
    cfg.merge_from_dict({"optim.lr": "${lr}"})
    assert cfg.optim.lr == 0.1


# --------------------------------------------------------------------------- ConfigDict
def test_config_dict_attribute_access_and_missing_key_suggestion():
    cd = ConfigDict(model=dict(backbone=dict(depth=50)), items=[dict(a=1)])
    assert cd.model.backbone.depth == 50 and isinstance(cd["items"][0], ConfigDict)
    cd.new = dict(x=1)
    assert isinstance(cd.new, ConfigDict) and cd["new"].x == 1
    with pytest.raises(AttributeError, match=r"no attribute 'modle'; did you mean 'model'"):
        cd.modle  # noqa: B018
    with pytest.raises(KeyError):
        cd["modle"]
    del cd.new
    assert "new" not in cd


def test_config_dict_update_is_recursive_and_copies_work():
    cd = ConfigDict(model=dict(backbone=dict(depth=50, style="pytorch")))
    cd.update(model=dict(backbone=dict(depth=101)), extra=1)
    assert cd.to_dict() == {"model": {"backbone": {"depth": 101, "style": "pytorch"}}, "extra": 1}
    deep = copy.deepcopy(cd)
    deep.model.backbone.depth = 18
    assert cd.model.backbone.depth == 101 and isinstance(deep, ConfigDict)
    assert pickle.loads(pickle.dumps(cd)) == cd
    assert type(cd.to_dict()["model"]) is dict


def test_config_is_picklable_deepcopyable_and_dict_like():
    cfg = Config.fromfile(DATA / "config_c.py")
    again = pickle.loads(pickle.dumps(cfg))
    assert again == cfg and again.filename == cfg.filename and again.text == cfg.text
    deep = copy.deepcopy(cfg)
    deep.b.b2 = 99
    assert cfg.b.b2 == 1
    assert sorted(cfg.keys()) == ["a", "b", "c"] and len(cfg) == 3 and "a" in cfg
    assert cfg.get("zz", 5) == 5
    with pytest.raises(AttributeError, match=r"has no key 'bb'; did you mean 'b'"):
        cfg.bb  # noqa: B018
    with pytest.raises(KeyError, match="reserved"):
        Config(dict(filename=1))
    private = Config(dict(_backend=1))
    assert private._backend == 1 and pickle.loads(pickle.dumps(private))._backend == 1


# --------------------------------------------------------------------------- pure-Python configs
def test_read_base_config_edits_bases_and_dumps_and_reloads(tmp_path):
    import collections

    cfg = Config.fromfile(DATA / "lazy" / "child.py")
    assert cfg.model.backbone == dict(type="ResNet", depth=101, norm=dict(type="BN"))
    assert cfg.model.head == dict(num_classes=3, act=dict(type=collections.Counter))
    assert cfg.optim_wrapper.optimizer.type is collections.OrderedDict and cfg.optim_wrapper.optimizer.lr == 0.01
    assert cfg.total == 24 and "epochs" in cfg and "max_epochs" not in cfg and "_private" not in cfg
    assert "ReLU" not in cfg and "read_base" not in cfg  # imported names are not config keys
    text = cfg.pretty_text
    assert "from collections import Counter" in text and "from collections import OrderedDict" in text
    assert Config.fromstring(text, ".py") == cfg
    cfg.dump(tmp_path / "dumped.py")
    assert Config.fromfile(tmp_path / "dumped.py") == cfg
    with pytest.raises(RenderError, match=r"model.head.act.type.*cannot be written to JSON"):
        cfg.dump(tmp_path / "dumped.json")


def test_read_base_errors(tmp_path):
    write(tmp_path, "base.py", "a = 1\n")
    bad = write(
        tmp_path, "bad.py", "from vk_core.config import read_base\nwith read_base():\n    from .base import b\n"
    )
    with pytest.raises(ConfigError, match=r"bad.py, line 3: base config .*base.py has no variable 'b'"):
        Config.fromfile(bad)
    missing = write(
        tmp_path, "missing.py", "from vk_core.config import read_base\nwith read_base():\n    from .nope import *\n"
    )
    with pytest.raises(FileNotFoundError, match=r"missing.py, line 3: base config module .nope not found"):
        Config.fromfile(missing)
    both = write(tmp_path, "both.py", "_base_ = './base.py'\nwith read_base():\n    from .base import *\n")
    with pytest.raises(ConfigError, match="not both"):
        Config.fromfile(both)


def test_read_base_with_absolute_package_imports(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    write(tmp_path, "vk_test_abs_cfgs/__init__.py", "")
    write(tmp_path, "vk_test_abs_cfgs/configs/_base_/rt.py", "log_level = 'INFO'\nhooks = dict(a=1)\n")
    child = write(
        tmp_path,
        "child.py",
        """
        from vk_core.config import read_base

        with read_base():
            from vk_test_abs_cfgs.configs._base_.rt import *
        hooks.b = 2
        """,
    )
    assert Config.fromfile(child).to_dict() == {"log_level": "INFO", "hooks": {"a": 1, "b": 2}}


def test_config_is_a_mapping_for_build_functions():
    from collections.abc import Mapping

    from vk_core.registry import Registry

    cfg = Config(dict(type="Point", x=1))
    assert isinstance(cfg, Mapping) and dict(cfg) == {"type": "Point", "x": 1}
    reg = Registry("thing", scope="t")
    reg.register_module(name="Point", module=lambda x: ("built", x))
    assert reg.build(cfg) == ("built", 1)
    assert Config(cfg).to_dict() == cfg.to_dict()


def test_type_given_as_class_in_plain_py_config(tmp_path):
    import collections

    path = write(
        tmp_path,
        "c.py",
        "import collections as c\nfrom collections import deque\nmodel = dict(type=deque, act=c.Counter)\n",
    )
    cfg = Config.fromfile(path)
    assert list(cfg.keys()) == ["model"] and cfg.model.type is collections.deque
    assert Config.fromstring(cfg.pretty_text, ".py") == cfg


def test_imports_inside_blocks_are_not_config_keys(tmp_path):
    path = write(
        tmp_path,
        "c.py",
        """
        try:
            from collections import OrderedDict
        except ImportError:
            from collections import OrderedDict as OD
        if True:
            from collections import Counter
        def helper():
            return 3
        value = helper()
        kind = Counter
        """,
    )
    cfg = Config.fromfile(path)
    assert sorted(cfg.keys()) == ["kind", "value"] and cfg.value == 3


def test_classes_defined_in_a_config_cannot_be_dumped(tmp_path):
    path = write(tmp_path, "c.py", "class Local:\n    pass\nmodel = dict(type=Local)\n")
    cfg = Config.fromfile(path)
    with pytest.raises(RenderError, match=r"model.type.*does not import back"):
        cfg.pretty_text  # noqa: B018


# --------------------------------------------------------------------------- other features
def test_environment_variables(tmp_path, monkeypatch):
    path = write(tmp_path, "env.py", "root = '{{$VK_TEST_ROOT:/data/coco/}}'\nn = {{$VK_TEST_N:3}}\n")
    monkeypatch.delenv("VK_TEST_ROOT", raising=False)
    monkeypatch.delenv("VK_TEST_N", raising=False)
    assert Config.fromfile(path).to_dict() == {"root": "/data/coco/", "n": 3}
    monkeypatch.setenv("VK_TEST_ROOT", "/mnt/x")
    monkeypatch.setenv("VK_TEST_N", "7")
    assert Config.fromfile(path).to_dict() == {"root": "/mnt/x", "n": 7}
    path = write(tmp_path, "env2.py", "a = 1\nroot = '{{$VK_TEST_UNSET_VAR}}'\n")
    monkeypatch.delenv("VK_TEST_UNSET_VAR", raising=False)
    with pytest.raises(ConfigError, match=r"env2.py, line 2: environment variable 'VK_TEST_UNSET_VAR' is not set"):
        Config.fromfile(path)


def test_interpolation(tmp_path):
    path = write(
        tmp_path,
        "i.py",
        """
        data_root = 'data/coco/'
        num_classes = 3
        img = '${data_root}train2017/'
        head = dict(num_classes='${num_classes}', other='${head.num_classes}', cost='$${literal}')
        pipe = [dict(scale=(1, 2)), dict(scale='${pipe.0.scale}')]
        """,
    )
    cfg = Config.fromfile(path)
    assert cfg.img == "data/coco/train2017/"
    assert cfg.head == dict(num_classes=3, other=3, cost="${literal}")
    assert cfg.pipe[1].scale == (1, 2)
    bad = write(tmp_path, "bad.py", "a = dict(b=1)\nc = '${a.x}'\n")
    with pytest.raises(ConfigError, match=r"bad.py: c: \$\{a.x\} cannot be resolved: a has no 'x'"):
        Config.fromfile(bad)
    cyc = write(tmp_path, "cyc.py", "a = '${b}'\nb = '${a}'\n")
    with pytest.raises(ConfigError, match="reference cycle"):
        Config.fromfile(cyc)


def test_custom_imports(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    write(tmp_path, "vk_test_custom_mod.py", "LOADED = True\n")
    path = write(
        tmp_path, "c.py", "custom_imports = dict(imports=['vk_test_custom_mod'], allow_failed_imports=False)\n"
    )
    try:
        Config.fromfile(path)
        assert "vk_test_custom_mod" in sys.modules
    finally:
        sys.modules.pop("vk_test_custom_mod", None)
    bad = write(tmp_path, "bad.py", "custom_imports = dict(imports=['vk_no_such_module_q'])\n")
    with pytest.raises(ImportError, match=r"bad.py: custom_imports: failed to import 'vk_no_such_module_q'"):
        Config.fromfile(bad)
    ok = write(tmp_path, "ok.py", "custom_imports = dict(imports=['vk_no_such_module_q'], allow_failed_imports=True)\n")
    with pytest.warns(UserWarning, match="vk_no_such_module_q"):
        Config.fromfile(ok)
    assert Config.fromfile(bad, import_custom_modules=False).custom_imports.imports == ["vk_no_such_module_q"]


def test_package_config_paths(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    write(tmp_path, "vk_test_cfgpkg/__init__.py", "")
    write(tmp_path, "vk_test_cfgpkg/configs/_base_/rt.py", "log_level = 'INFO'\n")
    write(tmp_path, "vk_test_cfgpkg/configs/det/net.py", "_base_ = '../_base_/rt.py'\nmodel = dict(type='Net')\n")
    child = write(tmp_path, "child.py", "_base_ = 'vk_test_cfgpkg::det/net.py'\nmodel = dict(depth=1)\n")
    cfg = Config.fromfile(child)
    assert cfg.to_dict() == {"log_level": "INFO", "model": {"type": "Net", "depth": 1}}
    assert Config.fromfile("vk_test_cfgpkg::det/net.py").model.type == "Net"
    with pytest.raises(ConfigError, match="no installed package named 'vk_no_pkg_zz'"):
        Config.fromfile("vk_no_pkg_zz::a.py")


def test_fromstring_formats():
    assert Config.fromstring("a: [1, 2]\nb: !!python/tuple [1, 2]\n", ".yaml").to_dict() == {"a": [1, 2], "b": (1, 2)}
    assert Config.fromstring('{"a": 1}', "json").a == 1
    assert Config.fromstring("a = (1,)\n", ".py").a == (1,)
    with pytest.raises(ConfigError, match="unsupported file_format '.txt'"):
        Config.fromstring("a=1", ".txt")


def test_dump_each_format_round_trips(tmp_path):
    cfg = Config.fromfile(DATA / "config_c.py")
    for ext in (".py", ".json", ".yaml", ".yml"):
        cfg.dump(tmp_path / f"out{ext}")
        back = Config.fromfile(tmp_path / f"out{ext}")
        expected = cfg.to_dict() if ext != ".json" else {**cfg.to_dict(), "c": [1, 2]}
        assert back.to_dict() == expected, ext
    assert cfg.dump() == cfg.pretty_text
    assert Config.fromfile(DATA / "child.yaml").dump().startswith("a: 1\n")
    with pytest.raises(ConfigError, match="use a .py, .json, .yaml or .yml"):
        cfg.dump(tmp_path / "out.txt")


def test_pretty_text_layout():
    model = dict(
        type="MaskRCNN",
        backbone=dict(type="ResNet", depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=1),
        neck=dict(type="FPN", in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=5),
        weird={"a-b": 1, 2: "int key"},
        empty=dict(),
        one=(1,),
        inf=float("inf"),
    )
    cfg = Config(dict(model=model))
    expected = (
        "model = dict(\n"
        "    type='MaskRCNN',\n"
        "    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=1),\n"
        "    neck=dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=5),\n"
        "    weird={'a-b': 1, 2: 'int key'},\n"
        "    empty=dict(),\n"
        "    one=(1,),\n"
        "    inf=float('inf'),\n"
        ")\n"
    )
    assert cfg.pretty_text == expected
    assert Config.fromstring(expected, ".py") == cfg
    with pytest.raises(RenderError, match="top-level key 'a-b' is not a Python identifier"):
        Config({"a-b": 1}).pretty_text  # noqa: B018


def test_diff():
    a = Config(dict(model=dict(depth=50), lr=0.1))
    b = Config(dict(model=dict(depth=101), lr=0.1))
    text = Config.diff(a, b, "a.py", "b.py")
    assert "-model = dict(depth=50)" in text and "+model = dict(depth=101)" in text
    assert text.startswith("--- a.py\n+++ b.py\n")
    assert Config.diff(a, copy.deepcopy(a)) == ""


# --------------------------------------------------------------------------- bad input
def test_python_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad.py", "a = 1\nb = dict(x=1,\nc = 3\n")
    with pytest.raises(ConfigSyntaxError, match=r"bad.py, line 2: invalid Python syntax") as exc:
        Config.fromfile(path)
    assert exc.value.lineno == 2 and exc.value.filename == str(path)


def test_runtime_error_in_python_config_points_to_the_line(tmp_path):
    path = write(tmp_path, "boom.py", "a = 1\nb = undefined_name + 1\n")
    with pytest.raises(NameError) as exc:
        Config.fromfile(path)
    frames = [(f.filename, f.lineno) for f in __import__("traceback").extract_tb(exc.value.__traceback__)]
    assert (str(path), 2) in frames


def test_json_and_yaml_syntax_errors_name_file_and_line(tmp_path):
    path = write(tmp_path, "bad.json", '{\n  "a": 1,\n  "b": [1, 2\n}\n')
    with pytest.raises(ConfigSyntaxError, match=r"bad.json, line 4, column 1: invalid JSON"):
        Config.fromfile(path)
    path = write(tmp_path, "bad.yaml", "a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(ConfigSyntaxError, match=r"bad.yaml, line \d+: invalid YAML") as exc:
        Config.fromfile(path)
    assert exc.value.lineno in (2, 3)
    path = write(tmp_path, "list.yaml", "- 1\n- 2\n")
    with pytest.raises(ConfigError, match="top level of a config must be a mapping, got list"):
        Config.fromfile(path)


def test_missing_base_names_path_tried_and_asking_file(tmp_path):
    path = write(tmp_path, "child.py", "x = 1\n_base_ = ['./nope.py']\n")
    with pytest.raises(FileNotFoundError) as exc:
        Config.fromfile(path)
    msg = str(exc.value)
    assert f"{path}, line 2: base config './nope.py' not found" in msg
    assert str(tmp_path / "nope.py") in msg
    with pytest.raises(FileNotFoundError, match="config file not found"):
        Config.fromfile(tmp_path / "absent.py")


def test_base_cycle_prints_the_cycle(tmp_path):
    a = write(tmp_path, "a.py", "_base_ = './b.py'\n")
    b = write(tmp_path, "b.py", "_base_ = './c.yaml'\n")
    c = write(tmp_path, "c.yaml", "_base_: ./a.py\n")
    with pytest.raises(ConfigError) as exc:
        Config.fromfile(a)
    assert str(exc.value) == f"cycle of _base_ configs: {a} -> {b} -> {c} -> {a}"


def test_two_bases_with_one_key_names_both_files(tmp_path):
    one = write(tmp_path, "one.py", "a = 1\nshared = 1\n")
    two = write(tmp_path, "two.py", "b = 1\nshared = 2\n")
    child = write(tmp_path, "child.py", "_base_ = ['./one.py', './two.py']\n")
    with pytest.raises(ConfigError, match=f"key 'shared' is defined by two base configs, {one} and {two}"):
        Config.fromfile(child)


def test_delete_misuse_and_merge_conflicts_explain_the_fix(tmp_path):
    write(tmp_path, "base.py", "a = [1, 2]\nb = dict(x=1)\nn = None\n")
    conflict = write(tmp_path, "conflict.py", "_base_ = './base.py'\na = dict(x=1)\n")
    with pytest.raises(ConfigError, match=r"'a' is a dict here but a list in the base config.*_delete_=True"):
        Config.fromfile(conflict)
    replaced = write(tmp_path, "replaced.py", "_base_ = './base.py'\na = dict(_delete_=True, x=1)\nn = dict(y=2)\n")
    assert Config.fromfile(replaced).to_dict() == {"a": {"x": 1}, "b": {"x": 1}, "n": {"y": 2}}
    top = write(tmp_path, "top.py", "_base_ = './base.py'\n_delete_ = True\n")
    with pytest.raises(ConfigError, match="_delete_ belongs inside a dict"):
        Config.fromfile(top)
    in_list = write(tmp_path, "in_list.py", "_base_ = './base.py'\na = [dict(_delete_=True, x=1)]\n")
    with pytest.raises(ConfigError, match=r"a\[0\] has _delete_, which has no effect inside a list"):
        Config.fromfile(in_list)
    not_bool = write(tmp_path, "not_bool.py", "_base_ = './base.py'\nb = dict(_delete_='yes')\n")
    with pytest.raises(ConfigError, match=r"b._delete_ must be True or False, got 'yes'"):
        Config.fromfile(not_bool)


def test_bad_variable_references_name_file_and_line(tmp_path):
    write(tmp_path, "base.py", "item = dict(a=1)\n")
    bad = write(tmp_path, "bad.py", "_base_ = './base.py'\n\nx = {{ _base_.item.b }}\n")
    with pytest.raises(
        ConfigError, match=r"bad.py, line 3: \{\{_base_.item.b\}\} cannot be resolved: _base_.item has no key 'b'"
    ):
        Config.fromfile(bad)
    nobase = write(tmp_path, "nobase.py", "x = {{ _base_.item }}\n")
    with pytest.raises(ConfigError, match=r"nobase.py, line 1: .*this file has no _base_"):
        Config.fromfile(nobase)
    typo = write(tmp_path, "typo.py", "a = 1\nb = '{{ fileDirnam }}'\n")
    with pytest.raises(
        ConfigError, match=r"typo.py, line 2: unknown variable \{\{fileDirnam\}\}; did you mean 'fileDirname'"
    ):
        Config.fromfile(typo)
    part = write(tmp_path, "part.py", "_base_ = './base.py'\nx = 'p{{ _base_.item }}'\n")
    with pytest.raises(ConfigError, match="must be a whole value"):
        Config.fromfile(part)


def test_bad_base_value_and_extension(tmp_path):
    path = write(tmp_path, "c.py", "_base_ = 3\n")
    with pytest.raises(ConfigError, match=r"c.py, line 1: _base_ must be a path or a list of paths, got 3"):
        Config.fromfile(path)
    path = write(tmp_path, "c.txt", "a = 1\n")
    with pytest.raises(ConfigError, match="unsupported config extension '.txt'"):
        Config.fromfile(path)


# --------------------------------------------------------------------------- DictAction
def parse_args(*options):
    parser = argparse.ArgumentParser()
    parser.add_argument("--cfg-options", nargs="+", action=DictAction)
    return parser.parse_args(["--cfg-options", *options]).cfg_options


def test_dict_action_grammar():
    got = parse_args("a.b=1", "c=[1,2]", "d=(1,(2,3))", "e=None", "f=true", "g=x,y", "h=1.5", "i='1, 2'", "j=a=b")
    assert got == {
        "a.b": 1,
        "c": [1, 2],
        "d": (1, (2, 3)),
        "e": None,
        "f": True,
        "g": ["x", "y"],
        "h": 1.5,
        "i": "1, 2",
        "j": "a=b",
    }
    assert parse_args("a=1,2,3")["a"] == [1, 2, 3]
    assert parse_args("a=[(1,2),(3,4)]")["a"] == [(1, 2), (3, 4)]
    assert parse_args("a=[]", "b=()", "c=False", "d=[ 1 , [2, 'x y'] ]") == dict(a=[], b=(), c=False, d=[1, [2, "x y"]])
    assert parse_args("a=1", "a=2") == {"a": 2}
    assert parse_args('s="007"')["s"] == "007"


@pytest.mark.parametrize(
    ("option", "why"),
    [
        ("novalue", "expected KEY=VALUE"),
        ("=1", "the key '' is empty"),
        ("a..b=1", "empty part"),
        ("a=[1,2", "'\\[' is never closed"),
        ("a=(1,2]", "'\\(' is never closed"),
        ("a=1]", "'\\]' closes nothing"),
        ("a='x", "quote ' is never closed"),
        ("a=1,,2", "a value is missing"),
        ("a=x[1]", "cannot follow 'x'"),
    ],
)
def test_dict_action_errors_say_which_option_and_why(option, why):
    with pytest.raises(OptionParseError, match=re.escape(f"cannot parse {option!r}: ") + ".*" + why):
        parse_option(option)
    parser = argparse.ArgumentParser()
    parser.add_argument("--cfg-options", nargs="+", action=DictAction)
    with pytest.raises(SystemExit):
        parser.parse_args(["--cfg-options", option])


def test_cfg_options_merge_into_a_loaded_config():
    cfg = Config.fromfile(DATA / "child.yaml")
    cfg.merge_from_dict(parse_args("pipeline.1.scale=(3,4)", "b.b1=[9]", "a=None"))
    assert cfg.pipeline[1].scale == (3, 4) and cfg.b.b1 == [9] and cfg.a is None


def test_importing_config_stays_cheap():
    import subprocess

    code = "import sys, vk_core.config; print('torch' in sys.modules, 'yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert os.environ.get("VK_NO_SUCH_ENV") is None
