"""The registries of scope ``vk_seg``: one child of every vk_core root registry.

Modules of vk-seg register with ``from vk_seg.registry import MODELS``. The ``locations`` are imported the first
time a lookup misses, so ``import vk_seg`` and ``import vk_seg.registry`` import no segmentation model.
"""

from vk_core import registry as _root
from vk_core.registry import Registry

_SCOPE = "vk_seg"

RUNNERS = Registry(_root.RUNNERS.name, parent=_root.RUNNERS, scope=_SCOPE)
RUNNER_CONSTRUCTORS = Registry(_root.RUNNER_CONSTRUCTORS.name, parent=_root.RUNNER_CONSTRUCTORS, scope=_SCOPE)
LOOPS = Registry(_root.LOOPS.name, parent=_root.LOOPS, scope=_SCOPE)
HOOKS = Registry(
    _root.HOOKS.name, parent=_root.HOOKS, scope=_SCOPE, locations=["vk_seg.visualization", "vk_seg.engine"]
)
DATASETS = Registry(_root.DATASETS.name, parent=_root.DATASETS, scope=_SCOPE, locations=["vk_seg.datasets"])
DATA_SAMPLERS = Registry(
    _root.DATA_SAMPLERS.name, parent=_root.DATA_SAMPLERS, scope=_SCOPE, locations=["vk_seg.datasets"]
)
TRANSFORMS = Registry(_root.TRANSFORMS.name, parent=_root.TRANSFORMS, scope=_SCOPE, locations=["vk_seg.transforms"])
FUNCTIONS = Registry(_root.FUNCTIONS.name, parent=_root.FUNCTIONS, scope=_SCOPE)
MODELS = Registry(_root.MODELS.name, parent=_root.MODELS, scope=_SCOPE, locations=["vk_seg.models"])
MODEL_WRAPPERS = Registry(_root.MODEL_WRAPPERS.name, parent=_root.MODEL_WRAPPERS, scope=_SCOPE)
WEIGHT_INITIALIZERS = Registry(_root.WEIGHT_INITIALIZERS.name, parent=_root.WEIGHT_INITIALIZERS, scope=_SCOPE)
OPTIMIZERS = Registry(_root.OPTIMIZERS.name, parent=_root.OPTIMIZERS, scope=_SCOPE)
OPTIM_WRAPPERS = Registry(_root.OPTIM_WRAPPERS.name, parent=_root.OPTIM_WRAPPERS, scope=_SCOPE)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    _root.OPTIM_WRAPPER_CONSTRUCTORS.name, parent=_root.OPTIM_WRAPPER_CONSTRUCTORS, scope=_SCOPE
)
PARAM_SCHEDULERS = Registry(_root.PARAM_SCHEDULERS.name, parent=_root.PARAM_SCHEDULERS, scope=_SCOPE)
METRICS = Registry(_root.METRICS.name, parent=_root.METRICS, scope=_SCOPE, locations=["vk_seg.evaluation"])
EVALUATOR = Registry(_root.EVALUATOR.name, parent=_root.EVALUATOR, scope=_SCOPE)
TASK_UTILS = Registry(_root.TASK_UTILS.name, parent=_root.TASK_UTILS, scope=_SCOPE, locations=["vk_seg.models"])
VISUALIZERS = Registry(
    _root.VISUALIZERS.name, parent=_root.VISUALIZERS, scope=_SCOPE, locations=["vk_seg.visualization"]
)
VISBACKENDS = Registry(_root.VISBACKENDS.name, parent=_root.VISBACKENDS, scope=_SCOPE)
LOG_PROCESSORS = Registry(_root.LOG_PROCESSORS.name, parent=_root.LOG_PROCESSORS, scope=_SCOPE)
STRATEGIES = Registry(_root.STRATEGIES.name, parent=_root.STRATEGIES, scope=_SCOPE)
INFERENCERS = Registry(_root.INFERENCERS.name, parent=_root.INFERENCERS, scope=_SCOPE, locations=["vk_seg.apis"])

__all__ = [
    "RUNNERS",
    "RUNNER_CONSTRUCTORS",
    "LOOPS",
    "HOOKS",
    "DATASETS",
    "DATA_SAMPLERS",
    "TRANSFORMS",
    "FUNCTIONS",
    "MODELS",
    "MODEL_WRAPPERS",
    "WEIGHT_INITIALIZERS",
    "OPTIMIZERS",
    "OPTIM_WRAPPERS",
    "OPTIM_WRAPPER_CONSTRUCTORS",
    "PARAM_SCHEDULERS",
    "METRICS",
    "EVALUATOR",
    "TASK_UTILS",
    "VISUALIZERS",
    "VISBACKENDS",
    "LOG_PROCESSORS",
    "INFERENCERS",
    "STRATEGIES",
]
