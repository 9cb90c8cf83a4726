"""``Registry``: a name -> class (or function) table, arranged in a tree of scopes.

Each package owns a child of every root registry (``vk_det.registry.MODELS`` is a child of
``vk_core.registry.MODELS`` with scope ``vk_det``). A plain name is looked up in a registry and then its
ancestors; ``'vk_seg.Name'`` is looked up in the registry of scope ``vk_seg`` hanging from the same root.
Modules that register names are listed as ``locations`` and imported on the first lookup that misses, so that
importing a package does not import every model.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .default_scope import DefaultScope

SCOPE_ENTRY_POINT_GROUP = "vk.scopes"

_scope_modules: dict[str, str] | None = None


def scope_modules() -> dict[str, str]:
    """Scope name -> top-level module, from the ``vk.scopes`` entry points of installed distributions."""
    global _scope_modules
    if _scope_modules is None:
        from importlib.metadata import entry_points

        _scope_modules = {ep.name: ep.value.split(":")[0] for ep in entry_points(group=SCOPE_ENTRY_POINT_GROUP)}
    return _scope_modules


def import_scope(scope: str) -> bool:
    """Import the registry module of ``scope``; False when no package provides that scope.

    A scope named by a ``vk.scopes`` entry point resolves to ``<module>.registry``; any other scope is tried as
    the import name ``<scope>.registry``. Errors raised while importing an existing module propagate.
    """
    module = scope_modules().get(scope, scope)
    target = f"{module}.registry"
    if target in sys.modules:
        return True
    try:
        importlib.import_module(target)
    except ModuleNotFoundError as exc:
        # Only "this scope has no registry module" means the scope is unknown; a missing dependency inside
        # the package is a real error the user must see.
        if exc.name in (module, target) or (exc.name and module.startswith(exc.name + ".")):
            return False
        raise
    return True


class Registry:
    """A table mapping names to classes or functions, with a parent, child scopes and lazy ``locations``."""

    def __init__(
        self,
        name: str,
        build_func: Callable | None = None,
        parent: Registry | None = None,
        scope: str | None = None,
        locations: Iterable[str] = (),
    ):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Registry name must be a non-empty str, got {name!r}")
        if isinstance(locations, str):
            locations = [locations]
        locations = tuple(locations)
        for loc in locations:
            if not isinstance(loc, str) or not loc:
                raise TypeError(f"Registry {name!r}: locations must be module names (str), got {loc!r}")
        if scope is None:
            # Like MMEngine: the scope defaults to the top-level package of the code creating the registry.
            scope = sys._getframe(1).f_globals.get("__name__", "__main__").split(".")[0]
        if not isinstance(scope, str) or not scope or "." in scope:
            raise ValueError(f"Registry {name!r}: scope must be a str without dots, got {scope!r}")
        if parent is not None and not isinstance(parent, Registry):
            raise TypeError(f"Registry {name!r}: parent must be a Registry, got {type(parent).__name__}")
        if build_func is not None and not callable(build_func):
            raise TypeError(f"Registry {name!r}: build_func must be callable, got {build_func!r}")

        self._name = name
        self._scope = scope
        self._module_dict: dict[str, Any] = {}
        self._children: dict[str, Registry] = {}
        self._locations = locations
        self._imported = not locations
        self.parent = parent
        if parent is not None:
            parent._add_child(self)
        if build_func is None:
            if parent is not None:
                build_func = parent.build_func
            else:
                from .build_functions import build_from_cfg

                build_func = build_from_cfg
        self.build_func = build_func

    # ------------------------------------------------------------------ properties
    @property
    def name(self) -> str:
        return self._name

    @property
    def scope(self) -> str:
        return self._scope

    @property
    def module_dict(self) -> dict[str, Any]:
        return self._module_dict

    @property
    def children(self) -> dict[str, Registry]:
        return self._children

    @property
    def locations(self) -> tuple[str, ...]:
        return self._locations

    @property
    def root(self) -> Registry:
        reg = self
        while reg.parent is not None:
            reg = reg.parent
        return reg

    def __len__(self) -> int:
        return len(self._module_dict)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._module_dict)

    def keys(self):
        return self._module_dict.keys()

    def __repr__(self) -> str:
        names = ", ".join(sorted(self._module_dict))
        return f"Registry(name={self._name!r}, scope={self._scope!r}, items=[{names}])"

    # ------------------------------------------------------------------ tree
    def _add_child(self, child: Registry) -> None:
        if child.scope in self._children:
            raise ValueError(
                f"Registry {self._name!r} (scope {self._scope!r}) already has a child with scope "
                f"{child.scope!r}: each package creates its child registries once"
            )
        self._children[child.scope] = child

    def _search_child(self, scope: str) -> Registry | None:
        """This registry or a descendant whose scope is ``scope`` (depth first)."""
        if self._scope == scope:
            return self
        for child in self._children.values():
            found = child._search_child(scope)
            if found is not None:
                return found
        return None

    def registry_for_scope(self, scope: str) -> Registry | None:
        """The registry of ``scope`` in this registry's tree, importing that scope's package if needed."""
        found = self._search_child(scope) or self.root._search_child(scope)
        if found is None and import_scope(scope):
            found = self.root._search_child(scope)
        return found

    @staticmethod
    def split_scope_key(key: str) -> tuple[str | None, str]:
        """``'vk_det.ResNet'`` -> ``('vk_det', 'ResNet')``; ``'ResNet'`` -> ``(None, 'ResNet')``."""
        scope, sep, rest = key.partition(".")
        if not sep:
            return None, key
        return scope, rest

    @staticmethod
    def infer_scope() -> str:
        """The top-level package of the caller, as MMEngine infers a registry's scope."""
        return sys._getframe(2).f_globals.get("__name__", "__main__").split(".")[0]

    # ------------------------------------------------------------------ lazy locations
    def import_from_location(self) -> None:
        """Import this registry's ``locations`` once; an import error names the module and the registry."""
        if self._imported:
            return
        # Set first: a location module may look names up while it is being imported.
        self._imported = True
        for loc in self._locations:
            if loc in sys.modules:
                continue
            try:
                importlib.import_module(loc)
            except ImportError as exc:
                self._imported = False
                raise ImportError(
                    f"registry {self._name!r} of scope {self._scope!r} could not import its location "
                    f"module {loc!r}: {exc}",
                    name=loc,
                ) from exc
            except BaseException:
                self._imported = False
                raise

    def _get_local(self, key: str) -> Any:
        obj = self._module_dict.get(key)
        if obj is None and not self._imported:
            self.import_from_location()
            obj = self._module_dict.get(key)
        return obj

    # ------------------------------------------------------------------ lookup
    def get(self, key: str) -> Any:
        """The class or function registered as ``key``, or None.

        ``'Name'`` searches this registry, then its parents. ``'scope.Name'`` searches the registry of that
        scope (and its parents) in the same tree, importing the scope's package through ``vk.scopes`` if needed.
        """
        if not isinstance(key, str):
            raise TypeError(f"registry {self._name!r}: key must be a str, got {type(key).__name__} {key!r}")
        scope, real_key = self.split_scope_key(key)
        if scope is None or scope == self._scope:
            start = self
        else:
            start = self.registry_for_scope(scope)
            if start is None:
                return None
        reg: Registry | None = start
        while reg is not None:
            obj = reg._get_local(real_key)
            if obj is not None:
                return obj
            reg = reg.parent
        return None

    def searched_scopes(self, key: str) -> list[str]:
        """The scopes that ``get(key)`` searches, in order (for error messages)."""
        scope, _ = self.split_scope_key(key)
        start = (
            self
            if scope is None or scope == self._scope
            else self._search_child(scope) or self.root._search_child(scope)
        )
        scopes = []
        while start is not None:
            scopes.append(start.scope)
            start = start.parent
        return scopes

    def missing_key_message(self, key: str) -> str:
        """Why ``key`` is not found: the key, the registry, the scopes searched and close matches."""
        scope, real_key = self.split_scope_key(key)
        if scope is not None and scope != self._scope:
            target = self._search_child(scope) or self.root._search_child(scope)
            if target is None:
                known = sorted(self.root._all_scopes() | set(scope_modules()))
                close = difflib.get_close_matches(scope, known, n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                return (
                    f"{key!r}: no scope {scope!r} for the {self._name!r} registry (known scopes: "
                    f"{', '.join(known)}){hint} A scope is a package registering its names, declared with the "
                    f"'{SCOPE_ENTRY_POINT_GROUP}' entry-point group."
                )
        else:
            target = self
        names: list[str] = []
        scopes: list[str] = []
        reg = target
        while reg is not None:
            scopes.append(reg.scope)
            names.extend(reg._module_dict)
            reg = reg.parent
        close = difflib.get_close_matches(real_key, names, n=5, cutoff=0.6)
        lower = [n for n in names if n.lower() == real_key.lower() and n not in close]
        close = lower + close
        hint = f" Did you mean: {', '.join(repr(c) for c in close)}?" if close else ""
        return (
            f"{real_key!r} is not registered in the {self._name!r} registry; scopes searched: "
            f"{' -> '.join(scopes)}.{hint}"
        )

    def _all_scopes(self) -> set[str]:
        scopes = {self._scope}
        for child in self._children.values():
            scopes |= child._all_scopes()
        return scopes

    # ------------------------------------------------------------------ building
    @contextmanager
    def switch_scope_and_registry(self, scope: str | None) -> Iterator[Registry]:
        """Inside the block the default scope is ``scope`` (if given); yields the registry of the default scope.

        A registry ``build`` call with default scope ``vk_det`` therefore looks names up in the ``vk_det`` child
        of this registry's root, so root registries build package classes once the scope is set.
        """
        with DefaultScope.overwrite_default_scope(scope):
            scope_name = DefaultScope.current_scope_name()
            registry = self
            if scope_name is not None and scope_name != self._scope:
                found = self.registry_for_scope(scope_name)
                if found is None:
                    warnings.warn(
                        f"default scope {scope_name!r} has no {self._name!r} registry in the tree of scope "
                        f"{self.root.scope!r}; looking names up in scope {self._scope!r} instead",
                        stacklevel=3,
                    )
                elif not self._is_descendant_of(found):
                    # An ancestor scope would only hide this registry's own names: keep searching from here.
                    registry = found
            yield registry

    def _is_descendant_of(self, other: Registry) -> bool:
        reg = self.parent
        while reg is not None:
            if reg is other:
                return True
            reg = reg.parent
        return False

    def build(self, cfg: Any, *args: Any, **kwargs: Any) -> Any:
        """Build an object from ``cfg`` with this registry's build function."""
        return self.build_func(cfg, *args, **kwargs, registry=self)

    # ------------------------------------------------------------------ registering
    def _register_module(self, module: Any, module_name: str | list[str] | None = None, force: bool = False) -> None:
        if not (inspect.isclass(module) or callable(module)):
            raise TypeError(f"registry {self._name!r}: only classes and functions can be registered, got {module!r}")
        if module_name is None:
            module_name = getattr(module, "__name__", None)
            if module_name is None:
                raise TypeError(f"registry {self._name!r}: {module!r} has no __name__; pass name= explicitly")
        names = [module_name] if isinstance(module_name, str) else list(module_name)
        for name in names:
            if not isinstance(name, str) or not name:
                raise TypeError(f"registry {self._name!r}: a registered name must be a non-empty str, got {name!r}")
            existing = self._module_dict.get(name)
            if existing is not None and existing is not module and not force:
                where = getattr(existing, "__module__", "?")
                raise KeyError(
                    f"{name!r} is already registered in the {self._name!r} registry of scope {self._scope!r} "
                    f"(by {where}); pass force=True to replace it or register under another name"
                )
            self._module_dict[name] = module

    def register_module(self, name: str | list[str] | None = None, force: bool = False, module: Any = None):
        """Register a class or function, as a decorator (``@REG.register_module()``) or a call (``module=``)."""
        if not isinstance(force, bool):
            raise TypeError(f"register_module: force must be a bool, got {force!r}")
        if not (name is None or isinstance(name, str) or (isinstance(name, (list, tuple)) and name)):
            raise TypeError(f"register_module: name must be None, a str or a list of str, got {name!r}")
        if module is not None:
            self._register_module(module, name, force)
            return module

        def _register(obj):
            self._register_module(obj, name, force)
            return obj

        return _register
