import subprocess
import sys
import textwrap
import types

import pytest
import vk_core.registry as vreg
from vk_core.registry import (
    MODELS,
    PARAM_SCHEDULERS,
    ROOT_REGISTRIES,
    DefaultScope,
    Registry,
    build_from_cfg,
    build_scheduler_from_cfg,
    import_scope,
)


@pytest.fixture(autouse=True)
def no_default_scope():
    """Other tests in the session (runners) may leave a default scope set; these tests start without one."""
    saved = dict(DefaultScope._instances)
    DefaultScope._instances.clear()
    yield
    DefaultScope._instances.clear()
    DefaultScope._instances.update(saved)


def make_tree():
    """The MMEngine tutorial's hierarchy: a root with two sibling package scopes."""
    root = Registry("model", scope="rootpkg")
    det = Registry("model", parent=root, scope="detpkg")
    cls = Registry("model", parent=root, scope="clspkg")
    return root, det, cls


class Point:
    def __init__(self, x=0, y=0):
        self.x, self.y = x, y


# --------------------------------------------------------------------------- registration
def test_register_as_decorator_call_and_alias_names():
    reg = Registry("thing", scope="t")

    @reg.register_module()
    class A:
        pass

    @reg.register_module(name=["B1", "B2"])
    def b():
        return 2

    reg.register_module(module=Point)
    assert reg.get("A") is A and reg.get("B1") is b and reg.get("B2") is b and reg.get("Point") is Point
    assert len(reg) == 4 and "A" in reg and "Missing" not in reg
    assert sorted(reg.keys()) == ["A", "B1", "B2", "Point"]


def test_duplicate_name_is_an_error_unless_forced():
    reg = Registry("thing", scope="t")
    reg.register_module(module=Point)
    reg.register_module(module=Point)  # the same object again is harmless

    class Point2:
        pass

    with pytest.raises(KeyError, match=r"'Point' is already registered in the 'thing' registry.*force=True"):
        reg.register_module(name="Point", module=Point2)
    reg.register_module(name="Point", module=Point2, force=True)
    assert reg.get("Point") is Point2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(module=3), "only classes and functions"),
        (dict(name=5, module=Point), "name must be None, a str or a list of str"),
        (dict(force=1, module=Point), "force must be a bool"),
        (dict(name=["ok", ""], module=Point), "non-empty str"),
    ],
)
def test_register_bad_input(kwargs, message):
    with pytest.raises(TypeError, match=message):
        Registry("thing", scope="t").register_module(**kwargs)


def test_constructor_validation():
    with pytest.raises(TypeError, match="non-empty str"):
        Registry("")
    with pytest.raises(ValueError, match="without dots"):
        Registry("x", scope="a.b")
    with pytest.raises(TypeError, match="parent must be a Registry"):
        Registry("x", parent={})
    with pytest.raises(TypeError, match="locations must be module names"):
        Registry("x", locations=[3])
    root = Registry("x", scope="r")
    Registry("x", parent=root, scope="c")
    with pytest.raises(ValueError, match="already has a child with scope 'c'"):
        Registry("x", parent=root, scope="c")


def test_scope_is_inferred_from_the_calling_package():
    assert Registry("x").scope == __name__.split(".")[0]


# --------------------------------------------------------------------------- building
def test_build_with_args_default_args_and_type_as_class_or_callable():
    reg = Registry("thing", scope="t")
    reg.register_module(module=Point)
    p = reg.build(dict(type="Point", x=1), default_args=dict(x=9, y=2))
    assert (p.x, p.y) == (1, 2)
    p = build_from_cfg(dict(y=3), reg, default_args=dict(type="Point"))
    assert (p.x, p.y) == (0, 3)
    assert reg.build(dict(type=Point, x=4)).x == 4
    assert reg.build(dict(type=lambda a: a * 2, a=21)) == 42


def test_build_does_not_mutate_cfg():
    reg = Registry("thing", scope="t")
    reg.register_module(module=Point)
    cfg = dict(type="Point", x=1, _scope_="t")
    reg.build(cfg)
    assert cfg == dict(type="Point", x=1, _scope_="t")


def test_build_bad_input_errors():
    reg = Registry("thing", scope="t")
    with pytest.raises(TypeError, match="cfg must be a dict"):
        reg.build([1])
    with pytest.raises(KeyError, match="needs the key 'type'"):
        reg.build(dict(x=1))
    with pytest.raises(TypeError, match="'type' must be a registered name"):
        reg.build(dict(type=3))
    with pytest.raises(TypeError, match="default_args must be a dict"):
        build_from_cfg(dict(type=Point), reg, default_args=[1])
    with pytest.raises(TypeError, match="registry must be a Registry"):
        build_from_cfg(dict(type=Point), object())


def test_constructor_errors_keep_their_type_and_say_what_was_built():
    reg = Registry("thing", scope="t")
    reg.register_module(module=Point)
    with pytest.raises(TypeError) as exc:
        reg.build(dict(type="Point", z=1))
    assert "z" in str(exc.value)
    assert any("Point" in note and "'thing' registry" in note for note in getattr(exc.value, "__notes__", []))


def test_unknown_key_names_key_registry_scopes_and_close_matches():
    root, det, _ = make_tree()
    root.register_module(name="ResNet", module=Point)
    det.register_module(name="RetinaNet", module=Point)
    with pytest.raises(KeyError) as exc:
        det.build(dict(type="ResNett"))
    msg = exc.value.args[0]
    assert "'ResNett' is not registered in the 'model' registry" in msg
    assert "scopes searched: detpkg -> rootpkg" in msg
    assert "Did you mean: 'ResNet'" in msg


def test_unknown_scope_is_explained():
    root, det, _ = make_tree()
    with pytest.raises(KeyError) as exc:
        det.build(dict(type="clspkk.Foo"))
    msg = exc.value.args[0]
    assert "no scope 'clspkk'" in msg and "did you mean 'clspkg'" in msg


def test_custom_build_function_receives_the_registry_and_children_inherit_it():
    calls = []

    def build_func(cfg, *args, registry, **kwargs):
        calls.append((registry.scope, cfg["type"], args, kwargs))
        return "built"

    root = Registry("thing", build_func=build_func, scope="r")
    child = Registry("thing", parent=root, scope="c")
    assert root.build(dict(type="X"), 1, k=2) == "built"
    assert child.build(dict(type="Y")) == "built"
    assert calls == [("r", "X", (1,), {"k": 2}), ("c", "Y", (), {})]


def test_models_builds_a_list_as_sequential():
    import torch.nn as nn

    seq = MODELS.build([dict(type=nn.Linear, in_features=2, out_features=3), dict(type=nn.ReLU)])
    assert isinstance(seq, nn.Sequential) and len(seq) == 2
    assert isinstance(seq[0], nn.Linear) and seq[0].out_features == 3


# --------------------------------------------------------------------------- hierarchy and scopes
def test_child_finds_parent_names_parent_reaches_child_with_scope_prefix():
    root, det, cls = make_tree()

    @root.register_module()
    class Base:
        pass

    @det.register_module()
    class Det:
        pass

    @cls.register_module()
    class Cls:
        pass

    assert det.get("Base") is Base  # child falls back to its parent
    assert root.get("Det") is None  # a parent does not see its children's names ...
    assert root.get("detpkg.Det") is Det  # ... unless the scope is named
    assert det.get("clspkg.Cls") is Cls  # sibling scope through the common root
    assert det.get("rootpkg.Base") is Base
    assert det.get("detpkg.Det") is Det
    assert cls.get("Det") is None
    assert root.root is root and cls.root is root and det.parent is root
    assert set(root.children) == {"detpkg", "clspkg"}


def test_default_scope_selects_the_registry_used_by_a_root_build():
    root, det, cls = make_tree()
    det.register_module(name="Net", module=lambda: "det")
    cls.register_module(name="Net", module=lambda: "cls")
    root.register_module(name="Net", module=lambda: "root")
    assert DefaultScope.get_current_instance() is None
    assert root.build(dict(type="Net")) == "root"
    with DefaultScope.using("detpkg"):
        assert DefaultScope.get_current_instance().scope_name == "detpkg"
        assert root.build(dict(type="Net")) == "det"
        with DefaultScope.overwrite_default_scope("clspkg"):
            assert root.build(dict(type="Net")) == "cls"
        assert root.build(dict(type="Net")) == "det"
        # _scope_ in a config overrides the default scope for that object only
        assert root.build(dict(type="Net", _scope_="clspkg")) == "cls"
    assert DefaultScope.get_current_instance() is None


def test_an_ancestor_default_scope_does_not_hide_a_child_registrys_names():
    root, det, _ = make_tree()
    det.register_module(name="DetOnly", module=lambda: "det only")
    with DefaultScope.using("rootpkg"):
        assert det.build(dict(type="DetOnly")) == "det only"
        with pytest.raises(KeyError, match="scopes searched: rootpkg"):
            root.build(dict(type="DetOnly"))


def test_scope_propagates_to_nested_builds():
    root, det, _ = make_tree()
    det.register_module(name="Leaf", module=lambda: "det leaf")
    root.register_module(name="Leaf", module=lambda: "root leaf")

    def outer(child):
        return root.build(child)

    root.register_module(name="Outer", module=outer)
    assert root.build(dict(type="Outer", child=dict(type="Leaf"), _scope_="detpkg")) == "det leaf"
    assert root.build(dict(type="Outer", child=dict(type="Leaf"))) == "root leaf"


def test_default_scope_instances():
    with pytest.raises(ValueError, match="pass scope_name"):
        DefaultScope.get_instance("never-made")
    with pytest.raises(TypeError, match="scope_name must be a non-empty str"):
        DefaultScope("x", "")
    try:
        a = DefaultScope.get_instance("test-a", scope_name="detpkg")
        assert DefaultScope.get_instance("test-a") is a
        assert DefaultScope.check_instance_created("test-a")
        assert DefaultScope.get_current_instance() is a
        b = DefaultScope.get_instance("test-b", scope_name="clspkg")
        assert DefaultScope.get_current_instance() is b
        assert DefaultScope.get_instance("test-a", scope_name="detpkg") is a  # asked again: current again
        assert DefaultScope.get_current_instance() is a
        with pytest.warns(UserWarning, match="had scope 'detpkg'; it now has scope 'other'"):
            c = DefaultScope.get_instance("test-a", scope_name="other")
        assert DefaultScope.current_scope_name() == "other" and c.instance_name == "test-a"
    finally:
        DefaultScope._instances.pop("test-a", None)
        DefaultScope._instances.pop("test-b", None)
    assert DefaultScope.get_current_instance() is None


def test_unknown_default_scope_warns_and_falls_back():
    reg = Registry("thing", scope="t")
    reg.register_module(module=Point)
    with DefaultScope.using("no_such_scope_pkg_q"), pytest.warns(UserWarning, match="no_such_scope_pkg_q"):
        assert isinstance(reg.build(dict(type="Point")), Point)


# --------------------------------------------------------------------------- lazy locations
def _write_module(tmp_path, name, body):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))


def test_locations_are_imported_on_the_first_miss_only(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry("thing", scope="lazyscope", locations=["vk_test_lazy_models"])
    holder = types.ModuleType("vk_test_holder")
    holder.LAZY_REG = reg
    monkeypatch.setitem(sys.modules, "vk_test_holder", holder)
    _write_module(
        tmp_path,
        "vk_test_lazy_models",
        """
        import vk_test_holder as t
        COUNT = 1
        @t.LAZY_REG.register_module()
        class Lazy:
            pass
        """,
    )
    reg.register_module(name="Eager", module=Point)
    assert reg.get("Eager") is Point
    assert "vk_test_lazy_models" not in sys.modules  # a hit does not import locations
    try:
        assert reg.get("Lazy").__name__ == "Lazy"
        assert "vk_test_lazy_models" in sys.modules
        assert reg.get("Still missing") is None  # imported once, a second miss is just a miss
    finally:
        sys.modules.pop("vk_test_lazy_models", None)


def test_import_error_in_a_location_surfaces_with_the_module_name(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    _write_module(tmp_path, "vk_test_broken_loc", "import vk_no_such_dependency_zz\n")
    reg = Registry("thing", scope="t", locations=["vk_test_broken_loc"])
    with pytest.raises(ImportError, match="could not import its location module 'vk_test_broken_loc'.*vk_no_such"):
        reg.get("Anything")
    with pytest.raises(ImportError, match="vk_test_broken_loc"):  # retried, not swallowed, next time
        reg.get("Anything")
    missing = Registry("thing", scope="t2", locations=["vk_test_absent_location_module"])
    with pytest.raises(ImportError, match="'vk_test_absent_location_module'"):
        missing.build(dict(type="X"))


def test_scope_prefix_imports_a_scope_package(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    pkg = tmp_path / "vk_test_plugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "registry.py").write_text(
        textwrap.dedent(
            """
            import vk_test_holder as t
            MODELS = t.PLUGIN_ROOT.__class__("model", parent=t.PLUGIN_ROOT, scope="vk_test_plugin")
            MODELS.register_module(name="PluginNet", module=dict)
            """
        )
    )
    root = Registry("model", scope="r")
    holder = types.ModuleType("vk_test_holder")
    holder.PLUGIN_ROOT = root
    monkeypatch.setitem(sys.modules, "vk_test_holder", holder)
    try:
        assert root.get("vk_test_plugin.PluginNet") is dict
        assert root.build(dict(type="vk_test_plugin.PluginNet", a=1)) == {"a": 1}
    finally:
        sys.modules.pop("vk_test_plugin.registry", None)
        sys.modules.pop("vk_test_plugin", None)
    assert import_scope("vk_no_such_scope_at_all") is False


# --------------------------------------------------------------------------- schedulers
class FakeScheduler:
    def __init__(self, optimizer, begin=0, end=10, by_epoch=True):
        self.args = dict(optimizer=optimizer, begin=begin, end=end, by_epoch=by_epoch)

    @classmethod
    def build_iter_from_epoch(cls, *, epoch_length, begin=0, end=10, by_epoch=True, **kwargs):
        return cls(begin=begin * epoch_length, end=end * epoch_length, by_epoch=False, **kwargs)


def test_scheduler_build_function_converts_to_iter_based():
    reg = Registry("parameter scheduler", build_func=build_scheduler_from_cfg, scope="s")
    reg.register_module(module=FakeScheduler)
    plain = reg.build(dict(type="FakeScheduler", end=3), default_args=dict(optimizer="opt", epoch_length=5))
    assert plain.args == dict(optimizer="opt", begin=0, end=3, by_epoch=True)
    conv = reg.build(
        dict(type="FakeScheduler", begin=1, end=3, convert_to_iter_based=True),
        default_args=dict(optimizer="opt", epoch_length=5),
    )
    assert conv.args == dict(optimizer="opt", begin=5, end=15, by_epoch=False)
    with pytest.raises(KeyError, match="no 'epoch_length'"):
        reg.build(dict(type="FakeScheduler", convert_to_iter_based=True), default_args=dict(optimizer="o"))
    reg.register_module(name="NoConvert", module=Point)
    with pytest.raises(TypeError, match="no build_iter_from_epoch"):
        reg.build(dict(type="NoConvert", convert_to_iter_based=True), default_args=dict(epoch_length=2))
    assert PARAM_SCHEDULERS.build_func is build_scheduler_from_cfg


# --------------------------------------------------------------------------- the vk registries
def test_root_registries_and_their_locations():
    expected = {
        "TRANSFORMS": ["vk_core.transforms"],
        "DATASETS": ["vk_core.dataset"],
        "DATA_SAMPLERS": ["vk_core.dataset"],
        "FUNCTIONS": ["vk_core.dataset"],
        "MODELS": ["vk_core.model"],
        "WEIGHT_INITIALIZERS": ["vk_core.model"],
        "MODEL_WRAPPERS": ["vk_core.model"],
        "OPTIMIZERS": ["vk_core.optim"],
        "OPTIM_WRAPPERS": ["vk_core.optim"],
        "OPTIM_WRAPPER_CONSTRUCTORS": ["vk_core.optim"],
        "PARAM_SCHEDULERS": ["vk_core.optim"],
        "HOOKS": ["vk_core.hooks"],
        "LOOPS": ["vk_core.runner"],
        "RUNNERS": ["vk_core.runner"],
        "METRICS": ["vk_core.evaluator"],
        "EVALUATOR": ["vk_core.evaluator"],
        "VISUALIZERS": ["vk_core.visualization"],
        "VISBACKENDS": ["vk_core.visualization"],
        "LOG_PROCESSORS": ["vk_core.logging"],
    }
    for name, locs in expected.items():
        assert list(ROOT_REGISTRIES[name].locations) == locs, name
    for name, reg in ROOT_REGISTRIES.items():
        assert getattr(vreg, name) is reg and reg.scope == "vk_core" and reg.parent is None


@pytest.mark.parametrize("pkg", ["vk_det", "vk_seg"])
def test_task_package_registries_are_children_of_every_root(pkg):
    module = __import__(f"{pkg}.registry", fromlist=["MODELS"])
    for name, root in ROOT_REGISTRIES.items():
        child = getattr(module, name)
        assert child.parent is root and child.scope == pkg and root.children[pkg] is child
        assert child.name == root.name
    assert module.MODELS.locations == (f"{pkg}.models",)
    assert module.TRANSFORMS.locations == (f"{pkg}.transforms",)
    assert module.MODELS.build_func is MODELS.build_func


def test_scope_entry_points_and_lookup_across_package_scopes():
    code = textwrap.dedent(
        """
        import sys
        from vk_core.registry import MODELS, scope_modules
        assert {"vk_core", "vk_det", "vk_seg"} <= set(scope_modules()), scope_modules()
        assert "vk_seg.registry" not in sys.modules
        assert MODELS.registry_for_scope("vk_seg").scope == "vk_seg"
        assert "vk_seg.registry" in sys.modules and "vk_seg.models" not in sys.modules
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_importing_the_registry_stays_cheap():
    code = "import sys, vk_core.registry; print('torch' in sys.modules, 'vk_core.model' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_split_scope_key_splits_the_first_scope_only():
    assert Registry.split_scope_key("mmdet.ResNet") == ("mmdet", "ResNet")
    assert Registry.split_scope_key("ResNet") == (None, "ResNet")
    assert Registry.split_scope_key("a.b.C") == ("a", "b.C")


def test_nested_switch_scope_and_registry_yields_each_asked_scope():
    root, det, cls = make_tree()
    custom = Registry("model", parent=root, scope="custompkg")
    seen = []
    with custom.switch_scope_and_registry(None) as r0:
        seen.append(r0.scope)
        with custom.switch_scope_and_registry("clspkg") as r1:
            seen.append(r1.scope)
            with r1.switch_scope_and_registry("detpkg") as r2:
                seen.append(r2.scope)
                with r2.switch_scope_and_registry("clspkg") as r3:
                    seen.append(r3.scope)
            with custom.switch_scope_and_registry(None) as r4:
                seen.append(r4.scope)
    assert seen == ["custompkg", "clspkg", "detpkg", "clspkg", "clspkg"]
    with custom.switch_scope_and_registry(None) as r5:
        assert r5 is custom


def test_runner_build_function_uses_runner_type_and_from_cfg():
    from vk_core.registry import build_runner_from_cfg

    reg = Registry("runner", build_func=build_runner_from_cfg, scope="rr")

    @reg.register_module()
    class Runner:
        def __init__(self, cfg):
            self.cfg = cfg

        @classmethod
        def from_cfg(cls, cfg):
            return cls(cfg)

    @reg.register_module()
    class MyRunner(Runner):
        pass

    assert type(reg.build(dict(a=1))) is Runner
    built = reg.build(dict(runner_type="MyRunner", a=1))
    assert type(built) is MyRunner and built.cfg["a"] == 1
    with pytest.raises(KeyError, match="'MyRuner' is not registered.*Did you mean: 'MyRunner'"):
        reg.build(dict(runner_type="MyRuner"))


def test_manager_classes_are_built_through_get_instance():
    class ManagerMixin:
        instances = {}

        @classmethod
        def get_instance(cls, name, **kwargs):
            return cls.instances.setdefault(name, cls(**kwargs))

    class Vis(ManagerMixin):
        def __init__(self, colour="red"):
            self.colour = colour

    reg = Registry("visualizer", scope="v")
    reg.register_module(module=Vis)
    a = reg.build(dict(type="Vis", name="vis", colour="blue"))
    assert reg.build(dict(type="Vis", name="vis")) is a and a.colour == "blue"


def test_traverse_registry_tree():
    from vk_core.registry import traverse_registry_tree

    root, det, cls = make_tree()
    det.register_module(name="A", module=Point)
    rows = traverse_registry_tree(cls)
    assert [(r["scope"], r["depth"], r["num_modules"], r["modules"]) for r in rows] == [
        ("rootpkg", 0, 0, []),
        ("detpkg", 1, 1, ["A"]),
        ("clspkg", 1, 0, []),
    ]
    with pytest.raises(TypeError, match="takes a Registry"):
        traverse_registry_tree("model")
