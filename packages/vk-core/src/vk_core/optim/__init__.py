"""Optimization: optimizer wrappers, the paramwise constructor, torch optimizers and parameter schedulers.

Importing this package registers every torch optimizer in ``OPTIMIZERS`` and its own classes in
``OPTIM_WRAPPERS``, ``OPTIM_WRAPPER_CONSTRUCTORS`` and ``PARAM_SCHEDULERS``.
"""

from .amp_optim_wrapper import AmpOptimWrapper
from .builder import TORCH_OPTIMIZERS, build_optim_wrapper, register_torch_optimizers
from .default_constructor import DefaultOptimWrapperConstructor, is_dcn_module
from .optim_wrapper import OptimWrapper
from .optim_wrapper_dict import OptimWrapperDict
from .scheduler import *  # noqa: F403 - the scheduler package defines __all__
from .scheduler import __all__ as _scheduler_all

__all__ = [
    "TORCH_OPTIMIZERS",
    "AmpOptimWrapper",
    "DefaultOptimWrapperConstructor",
    "OptimWrapper",
    "OptimWrapperDict",
    "build_optim_wrapper",
    "is_dcn_module",
    "register_torch_optimizers",
    *_scheduler_all,
]
