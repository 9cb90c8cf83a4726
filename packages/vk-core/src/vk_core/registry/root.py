"""The root registries of vk. Task packages hang a child of each from their own ``registry`` module.

``locations`` name the vk_core modules that register into each root; they are imported on the first miss.
"""

from __future__ import annotations

from .build_functions import build_model_from_cfg, build_runner_from_cfg, build_scheduler_from_cfg
from .registry import Registry

_SCOPE = "vk_core"

RUNNERS = Registry("runner", build_func=build_runner_from_cfg, scope=_SCOPE, locations=["vk_core.runner"])
RUNNER_CONSTRUCTORS = Registry("runner constructor", scope=_SCOPE, locations=["vk_core.runner"])
LOOPS = Registry("loop", scope=_SCOPE, locations=["vk_core.runner"])
HOOKS = Registry("hook", scope=_SCOPE, locations=["vk_core.hooks"])

DATASETS = Registry("dataset", scope=_SCOPE, locations=["vk_core.dataset"])
DATA_SAMPLERS = Registry("data sampler", scope=_SCOPE, locations=["vk_core.dataset"])
TRANSFORMS = Registry("transform", scope=_SCOPE, locations=["vk_core.transforms"])
FUNCTIONS = Registry("function", scope=_SCOPE, locations=["vk_core.dataset"])

MODELS = Registry("model", build_func=build_model_from_cfg, scope=_SCOPE, locations=["vk_core.model"])
MODEL_WRAPPERS = Registry("model_wrapper", scope=_SCOPE, locations=["vk_core.model"])
WEIGHT_INITIALIZERS = Registry("weight initializer", scope=_SCOPE, locations=["vk_core.model"])

OPTIMIZERS = Registry("optimizer", scope=_SCOPE, locations=["vk_core.optim"])
OPTIM_WRAPPERS = Registry("optim_wrapper", scope=_SCOPE, locations=["vk_core.optim"])
OPTIM_WRAPPER_CONSTRUCTORS = Registry("optimizer wrapper constructor", scope=_SCOPE, locations=["vk_core.optim"])
PARAM_SCHEDULERS = Registry(
    "parameter scheduler", build_func=build_scheduler_from_cfg, scope=_SCOPE, locations=["vk_core.optim"]
)

METRICS = Registry("metric", scope=_SCOPE, locations=["vk_core.evaluator"])
EVALUATOR = Registry("evaluator", scope=_SCOPE, locations=["vk_core.evaluator"])

TASK_UTILS = Registry("task util", scope=_SCOPE)

VISUALIZERS = Registry("visualizer", scope=_SCOPE, locations=["vk_core.visualization"])
VISBACKENDS = Registry("vis_backend", scope=_SCOPE, locations=["vk_core.visualization"])
LOG_PROCESSORS = Registry("log_processor", scope=_SCOPE, locations=["vk_core.logging"])

INFERENCERS = Registry("inferencer", scope=_SCOPE)

# Training strategies (DDP, FSDP, ...), kept for MMEngine parity; the runner registers its strategies here.
STRATEGIES = Registry("strategy", scope=_SCOPE, locations=["vk_core.runner"])

ROOT_REGISTRIES: dict[str, Registry] = {
    "RUNNERS": RUNNERS,
    "RUNNER_CONSTRUCTORS": RUNNER_CONSTRUCTORS,
    "LOOPS": LOOPS,
    "HOOKS": HOOKS,
    "DATASETS": DATASETS,
    "DATA_SAMPLERS": DATA_SAMPLERS,
    "TRANSFORMS": TRANSFORMS,
    "FUNCTIONS": FUNCTIONS,
    "MODELS": MODELS,
    "MODEL_WRAPPERS": MODEL_WRAPPERS,
    "WEIGHT_INITIALIZERS": WEIGHT_INITIALIZERS,
    "OPTIMIZERS": OPTIMIZERS,
    "OPTIM_WRAPPERS": OPTIM_WRAPPERS,
    "OPTIM_WRAPPER_CONSTRUCTORS": OPTIM_WRAPPER_CONSTRUCTORS,
    "PARAM_SCHEDULERS": PARAM_SCHEDULERS,
    "METRICS": METRICS,
    "EVALUATOR": EVALUATOR,
    "TASK_UTILS": TASK_UTILS,
    "VISUALIZERS": VISUALIZERS,
    "VISBACKENDS": VISBACKENDS,
    "LOG_PROCESSORS": LOG_PROCESSORS,
    "INFERENCERS": INFERENCERS,
    "STRATEGIES": STRATEGIES,
}
