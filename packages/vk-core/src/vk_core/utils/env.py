"""Collects a description of the running environment, for bug reports and ``vk env``."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

VK_DISTRIBUTIONS = ("vk-core", "vk-ops", "vk-det", "vk-seg")


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def collect_env() -> dict:
    """Returns ``{'system': {...}, 'packages': {...}, 'vk_ops': {...} or None}``.

    ``vk_ops`` holds ``build_info`` and ``available`` (op -> device -> backend) when vk-ops is installed.
    """
    import numpy
    import torch

    system = {
        "Python": sys.version.replace("\n", " "),
        "Platform": platform.platform(),
        "torch": torch.__version__,
        "torch CUDA": torch.version.cuda or "none (CPU build)",
        "CUDA available": torch.cuda.is_available(),
        "numpy": numpy.__version__,
    }
    if torch.cuda.is_available():
        system["GPUs"] = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    try:
        import cv2

        system["opencv"] = cv2.__version__
    except ImportError:
        system["opencv"] = "not installed"

    packages = {name: _dist_version(name) for name in VK_DISTRIBUTIONS}
    ops = None
    if packages["vk-ops"] is not None:
        import vk_ops

        ops = {"build_info": vk_ops.build_info(), "available": vk_ops.available()}
    return {"system": system, "packages": packages, "vk_ops": ops}
