"""``vk registry [SCOPE] [REGISTRY]``: the names registered in each registry, as tables."""

from __future__ import annotations

HELP = "list registered names: all scopes, one scope (vk_det) or one registry (vk_det MODELS)"


def add_arguments(parser) -> None:
    parser.add_argument("scope", nargs="?", help="a scope such as vk_core, vk_det or vk_seg (default: all)")
    parser.add_argument("registry", nargs="?", help="a registry such as MODELS or 'model' (default: all)")


def _scope_registries(scope: str) -> dict:
    """Constant name -> registry of ``scope`` (children of the vk_core roots)."""
    from vk_core.registry import ROOT_REGISTRIES

    found = {}
    for const, root in ROOT_REGISTRIES.items():
        reg = root if scope == root.scope else root._search_child(scope)
        if reg is not None:
            found[const] = reg
    return found


def _populate(reg) -> str | None:
    """Import the registry's locations so that its table is complete; the error text if that fails."""
    try:
        reg.import_from_location()
    except ImportError as exc:
        return str(exc)
    return None


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from vk_core.config.config_dict import close_matches_hint
    from vk_core.registry import ROOT_REGISTRIES, import_scope, scope_modules

    console = Console()
    scopes = sorted(set(scope_modules()) | {"vk_core"}) if args.scope is None else [args.scope]
    for scope in scopes:
        if scope != "vk_core" and not import_scope(scope):
            console.print(f"unknown scope {scope!r}{close_matches_hint(scope, scope_modules())}")
            return 2
    if args.registry is not None:
        wanted = args.registry.lower().replace("_", " ")
        names = {c.lower().replace("_", " "): c for c in ROOT_REGISTRIES}
        names.update({r.name.lower().replace("_", " "): c for c, r in ROOT_REGISTRIES.items()})
        if wanted not in names:
            console.print(f"unknown registry {args.registry!r}{close_matches_hint(args.registry, ROOT_REGISTRIES)}")
            return 2
        const = names[wanted]
        for scope in scopes:
            reg = _scope_registries(scope).get(const)
            if reg is None:
                continue
            error = _populate(reg)
            table = Table(title=f"{scope} {const} ({reg.name})")
            table.add_column("name")
            table.add_column("defined in")
            for name in sorted(reg.module_dict):
                obj = reg.module_dict[name]
                table.add_row(name, f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', '')}")
            console.print(table)
            if error:
                console.print(f"[red]could not import every location:[/red] {error}")
        return 0
    for scope in scopes:
        table = Table(title=f"scope {scope}")
        table.add_column("registry")
        table.add_column("count", justify="right")
        table.add_column("names")
        for const, reg in _scope_registries(scope).items():
            error = _populate(reg)
            names = ", ".join(sorted(reg.module_dict))
            if error:
                names = (names + "; " if names else "") + f"[red]import failed: {error}[/red]"
            table.add_row(const, str(len(reg.module_dict)), names)
        console.print(table)
    return 0
