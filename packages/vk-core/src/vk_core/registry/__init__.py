"""Registries: names in configs -> classes and functions (DESIGN 2.2).

``Registry``, ``build_from_cfg``, ``DefaultScope`` and the root registries (MODELS, DATASETS, ...). Task
packages create children of the roots in ``<package>.registry`` with their own scope.
"""

from .build_functions import build_from_cfg, build_model_from_cfg, build_runner_from_cfg, build_scheduler_from_cfg
from .default_scope import DefaultScope
from .registry import SCOPE_ENTRY_POINT_GROUP, Registry, import_scope, scope_modules
from .root import (
    DATA_SAMPLERS,
    DATASETS,
    EVALUATOR,
    FUNCTIONS,
    HOOKS,
    INFERENCERS,
    LOG_PROCESSORS,
    LOOPS,
    METRICS,
    MODEL_WRAPPERS,
    MODELS,
    OPTIM_WRAPPER_CONSTRUCTORS,
    OPTIM_WRAPPERS,
    OPTIMIZERS,
    PARAM_SCHEDULERS,
    ROOT_REGISTRIES,
    RUNNER_CONSTRUCTORS,
    RUNNERS,
    STRATEGIES,
    TASK_UTILS,
    TRANSFORMS,
    VISBACKENDS,
    VISUALIZERS,
    WEIGHT_INITIALIZERS,
)
from .utils import count_registered_modules, traverse_registry_tree

__all__ = [
    "DATASETS",
    "DATA_SAMPLERS",
    "EVALUATOR",
    "FUNCTIONS",
    "HOOKS",
    "INFERENCERS",
    "LOG_PROCESSORS",
    "LOOPS",
    "METRICS",
    "MODELS",
    "MODEL_WRAPPERS",
    "OPTIMIZERS",
    "OPTIM_WRAPPERS",
    "OPTIM_WRAPPER_CONSTRUCTORS",
    "PARAM_SCHEDULERS",
    "ROOT_REGISTRIES",
    "RUNNERS",
    "RUNNER_CONSTRUCTORS",
    "SCOPE_ENTRY_POINT_GROUP",
    "STRATEGIES",
    "TASK_UTILS",
    "TRANSFORMS",
    "VISBACKENDS",
    "VISUALIZERS",
    "WEIGHT_INITIALIZERS",
    "DefaultScope",
    "Registry",
    "build_from_cfg",
    "build_model_from_cfg",
    "build_runner_from_cfg",
    "build_scheduler_from_cfg",
    "count_registered_modules",
    "traverse_registry_tree",
    "import_scope",
    "scope_modules",
]
