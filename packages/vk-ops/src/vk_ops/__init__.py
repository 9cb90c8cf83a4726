"""vk-ops: compiled operators registered with the PyTorch dispatcher (``torch.ops.vk_ops``).

Each operator has a C++ kernel (and a CUDA kernel in CUDA builds) and a pure-PyTorch reference in
:mod:`vk_ops.reference`. The functions exported here pick the kernel for the input's device and fall back to
the reference, with one warning, where no kernel is available.
"""

from vk_ops._dispatch import available
from vk_ops._loader import build_info, kernels_loaded
from vk_ops.bbox import bbox_overlaps

__version__ = build_info()["version"]

__all__ = ["__version__", "available", "bbox_overlaps", "build_info", "kernels_loaded"]
