"""Loads the compiled library, refusing one that was built for another torch.

The library links against torch's C++ ABI, which changes between torch minor releases. Loading a mismatched
library can crash the process, so it is not loaded: the operators fall back to their PyTorch references and
one warning names both versions and the rebuild command.
"""

from __future__ import annotations

import importlib
import warnings

import torch

from vk_ops._version import __version__ as _base_version

REBUILD_HINT = "rebuild vk-ops against the installed torch: pip install --no-build-isolation --force-reinstall --no-deps packages/vk-ops (or `make setup` in the vk repository)"


def _read_build_info() -> dict:
    try:
        from vk_ops._build_info import BUILD_INFO
    except ImportError:
        # A source tree that was never built (e.g. on PYTHONPATH): references only.
        return {
            "version": _base_version,
            "kernels": False,
            "cuda": False,
            "torch_version": "",
            "torch_cuda": "",
            "cuda_archs": "",
            "compiler": "",
            "build_type": "",
            "source": "not built",
        }
    return dict(BUILD_INFO)


def torch_minor(version: str) -> str:
    """``'2.13.0+cpu'`` -> ``'2.13'``."""
    return ".".join(version.split("+")[0].split(".")[:2])


def load(info: dict, torch_version: str = torch.__version__) -> tuple[bool, str]:
    """Loads the library described by ``info`` if it fits ``torch_version``.

    Returns ``(loaded, reason)``; ``reason`` says why the kernels are not in use. Raises ``ImportError`` when a
    build that claims kernels has lost its library: such an install is broken, not merely limited.
    """
    if not info["kernels"]:
        return False, "vk-ops was built without kernels (VK_OPS_KERNELS=OFF or not built): PyTorch references only"
    built, running = torch_minor(info["torch_version"]), torch_minor(torch_version)
    if built != running:
        reason = (
            f"vk-ops kernels were built for torch {info['torch_version']} but torch {torch_version} is "
            f"installed; using the PyTorch reference implementations. To get the kernels, {REBUILD_HINT}"
        )
        warnings.warn(reason, RuntimeWarning, stacklevel=3)
        return False, reason
    try:
        importlib.import_module("vk_ops._C")
    except ImportError as exc:
        raise ImportError(
            f"vk-ops {info['version']} was built with kernels but its library vk_ops._C failed to "
            f"load ({exc}); {REBUILD_HINT}"
        ) from exc
    importlib.import_module("vk_ops._fake")
    importlib.import_module("vk_ops._autograd")
    return True, ""


_BUILD_INFO = _read_build_info()
_KERNELS_LOADED, _REASON = load(_BUILD_INFO)


def build_info() -> dict:
    """What this vk-ops was built with: version, kernels on/off, torch and CUDA versions, archs, compiler."""
    return {**_BUILD_INFO, "kernels_loaded": _KERNELS_LOADED, "reason": _REASON}


def kernels_loaded() -> bool:
    return _KERNELS_LOADED
