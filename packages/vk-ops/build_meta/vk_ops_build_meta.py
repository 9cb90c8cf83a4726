"""scikit-build-core metadata provider: the vk-ops version with a local tag naming the build.

``0.1.0+cpu`` for a CPU build, ``0.1.0+cu126`` when CUDA kernels are compiled, plain ``0.1.0`` for a
reference-only build (``VK_OPS_KERNELS=OFF``). The same rules decide what CMakeLists.txt compiles.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_VERSION_FILE = Path(__file__).resolve().parent.parent / "src" / "vk_ops" / "_version.py"


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().upper() not in {"OFF", "0", "FALSE", "NO"}


def build_tag() -> str:
    if not _flag("VK_OPS_KERNELS", "ON"):
        return ""
    import torch  # the build runs without isolation, so this is the torch the library links against

    cuda = torch.version.cuda
    has_nvcc = shutil.which("nvcc") is not None or bool(os.environ.get("CUDA_HOME"))
    if cuda and has_nvcc and _flag("VK_OPS_CUDA", "ON"):
        return "cu" + cuda.replace(".", "")
    return "cpu"


def dynamic_metadata(field: str, settings: dict | None = None) -> str:
    if field != "version":
        raise ValueError(f"vk_ops_build_meta only provides 'version', not {field!r}")
    match = re.search(r'^__version__ = "([^"]+)"', _VERSION_FILE.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f'{_VERSION_FILE}: expected a line __version__ = "X.Y.Z"')
    tag = build_tag()
    return f"{match.group(1)}+{tag}" if tag else match.group(1)
