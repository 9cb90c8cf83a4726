"""Inspecting registries: per-node statistics of a registry tree and of every vk scope (MMEngine names)."""

from __future__ import annotations

import json
import warnings
from typing import Any

from .registry import Registry


def traverse_registry_tree(registry: Registry, verbose: bool = False) -> list[dict[str, Any]]:
    """One dict per registry of ``registry``'s tree (depth first from its root): scope, name, count, names."""
    if not isinstance(registry, Registry):
        raise TypeError(f"traverse_registry_tree takes a Registry, got {type(registry).__name__}")
    rows: list[dict[str, Any]] = []

    def visit(reg: Registry, depth: int) -> None:
        rows.append(
            {
                "scope": reg.scope,
                "name": reg.name,
                "depth": depth,
                "num_modules": len(reg),
                "modules": sorted(reg.keys()),
            }
        )
        for child in reg.children.values():
            visit(child, depth + 1)

    visit(registry.root, 0)
    if verbose:
        for row in rows:
            print(f"{'  ' * row['depth']}{row['scope']}.{row['name']}: {row['num_modules']} modules")
    return rows


def count_registered_modules(save_path: str | None = None, verbose: bool = False) -> dict[str, Any]:
    """Statistics of every root registry's tree, after importing every known scope and all locations.

    ``save_path`` writes the result as JSON. A location that fails to import is reported as a warning.
    """
    from .registry import import_scope, scope_modules
    from .root import ROOT_REGISTRIES

    for scope in scope_modules():
        import_scope(scope)
    result: dict[str, Any] = {}
    for const, root in ROOT_REGISTRIES.items():
        for reg in _walk(root):
            try:
                reg.import_from_location()
            except ImportError as exc:
                # Statistics of what did import are still useful; say what is missing.
                warnings.warn(str(exc), stacklevel=2)
        result[const] = traverse_registry_tree(root, verbose=verbose)
    if save_path is not None:
        with open(save_path, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return result


def _walk(reg: Registry):
    yield reg
    for child in reg.children.values():
        yield from _walk(child)
