"""Finding a config by path, by ``pkg::path``, or by the name of a config shipped in an installed vk package."""

from __future__ import annotations

import difflib
import os

from .errors import ConfigError
from .loader import FORMATS, package_config_path


def shipped_config_dirs() -> dict[str, str]:
    """Package name -> its ``configs`` folder, for every package declaring a ``vk.scopes`` entry point."""
    from vk_core.registry import scope_modules

    dirs = {}
    for module in sorted(set(scope_modules().values())):
        try:
            path = package_config_path(module, "")
        except ConfigError:
            continue
        if os.path.isdir(path):
            dirs[module] = os.path.normpath(path)
    return dirs


def find_config(name: str) -> str:
    """Resolve ``name`` to a config file: an existing path, ``'vk_det::x/y.py'``, or a shipped config's name.

    A name such as ``retinanet_r50_fpn_1x_coco`` (with or without ``.py``, optionally with folders) is looked
    up in the ``configs`` folder of every installed vk package; it must match exactly one file.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"a config name must be a non-empty str, got {name!r}")
    if os.path.isfile(name):
        return name
    if "::" in name:
        package, _, relative = name.partition("::")
        path = package_config_path(package, relative)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"config {name!r} not found (looked for {path})")
        return path
    wanted = name if os.path.splitext(name)[1] in FORMATS else name + ".py"
    wanted = wanted.replace("\\", "/")
    matches: list[str] = []
    available: list[str] = []
    for package, root in shipped_config_dirs().items():
        for folder, _, files in os.walk(root):
            for file in files:
                if os.path.splitext(file)[1] not in FORMATS:
                    continue
                full = os.path.join(folder, file)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                if "/_base_/" in f"/{rel}":
                    continue
                available.append(f"{package}::{rel}")
                if rel == wanted or rel.endswith("/" + wanted):
                    matches.append(full)
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ConfigError(f"config name {name!r} is ambiguous, it matches: {', '.join(sorted(matches))}")
    stems = {os.path.splitext(a.split("/")[-1].split("::")[-1])[0]: a for a in available}
    close = difflib.get_close_matches(os.path.splitext(os.path.basename(wanted))[0], list(stems), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(stems[c] for c in close)}?" if close else ""
    raise FileNotFoundError(f"config {name!r} is neither a file nor a config shipped in an installed vk package{hint}")
