"""``Runner``: builds every component from a config and drives training, validation and testing."""

from __future__ import annotations

import copy
import difflib
import gc
import itertools
import os
import random
import time
import warnings
from collections.abc import Mapping
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vk_core.dist import broadcast_object_list, get_dist_info, init_dist, is_distributed, sync_random_seed
from vk_core.hooks import Hook, get_priority
from vk_core.hooks.hook import HOOK_POINTS
from vk_core.logging import LogProcessor, MessageHub, VkLogger, print_log
from vk_core.runner import checkpoint as ckpt_io
from vk_core.runner.loops import EpochBasedTrainLoop, IterBasedTrainLoop, TestLoop, ValLoop

RUNNER_ARGS = (
    "model",
    "work_dir",
    "train_dataloader",
    "val_dataloader",
    "test_dataloader",
    "train_cfg",
    "val_cfg",
    "test_cfg",
    "auto_scale_lr",
    "optim_wrapper",
    "param_scheduler",
    "val_evaluator",
    "test_evaluator",
    "default_hooks",
    "custom_hooks",
    "data_preprocessor",
    "load_from",
    "resume",
    "launcher",
    "env_cfg",
    "log_processor",
    "log_level",
    "visualizer",
    "default_scope",
    "randomness",
    "experiment_name",
    "cfg",
    "compile",
)
# keys that the config system, the CLI or from_cfg itself consume
OTHER_KNOWN_KEYS = (
    "model_wrapper_cfg",
    "runner_type",
    "custom_imports",
    "_base_",
    "_deprecation_",
    "filename",
    "tta_model",
    "tta_pipeline",
)

# variables configs commonly define only to be interpolated elsewhere: never "did you mean" them
COMMON_HELPER_KEYS = (
    "metainfo",
    "classes",
    "backend_args",
    "file_client_args",
    "vis_backends",
    "img_norm_cfg",
    "norm_cfg",
)

DEFAULT_HOOKS = {
    "runtime_info": dict(type="RuntimeInfoHook"),
    "timer": dict(type="IterTimerHook"),
    "sampler_seed": dict(type="DistSamplerSeedHook"),
    "logger": dict(type="LoggerHook"),
    "param_scheduler": dict(type="ParamSchedulerHook"),
    "checkpoint": dict(type="CheckpointHook", interval=1),
}

_name_counter = itertools.count(1)


def _unique_instance_name(base: str) -> str:
    # several runners in one process (tests, notebooks) must not share a logger/hub/visualizer by accident
    if not (MessageHub.check_instance_created(base) or VkLogger.check_instance_created(base)):
        return base
    return f"{base}_{next(_name_counter)}"


def set_random_seed(seed: int | None = None, deterministic: bool = False, diff_rank_seed: bool = False) -> int:
    """Seeds python, numpy, torch (and vk's data generator); returns the seed used.

    ``seed=None`` draws one on rank 0 and shares it. ``diff_rank_seed`` adds the rank so ranks differ.
    """
    if seed is None:
        seed = sync_random_seed()
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"randomness.seed must be an int or None, got {seed!r}")
    if diff_rank_seed:
        seed += get_dist_info()[0]
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    try:
        from vk_core.dataset.rng import seed_data_rng

        seed_data_rng(seed)
    except ImportError:
        pass
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
    return seed


class Runner:
    """MMEngine-compatible runner. Train, val and test components are built lazily by ``train()``, ``val()``
    and ``test()``, so one config serves all three. See ``docs/runner.md``."""

    def __init__(
        self,
        model,
        work_dir,
        train_dataloader=None,
        val_dataloader=None,
        test_dataloader=None,
        train_cfg=None,
        val_cfg=None,
        test_cfg=None,
        auto_scale_lr=None,
        optim_wrapper=None,
        param_scheduler=None,
        val_evaluator=None,
        test_evaluator=None,
        default_hooks=None,
        custom_hooks=None,
        data_preprocessor=None,
        load_from=None,
        resume=False,
        launcher: str = "none",
        env_cfg=None,
        log_processor=None,
        log_level="INFO",
        visualizer=None,
        default_scope: str = "vk_core",
        randomness=None,
        experiment_name: str | None = None,
        cfg=None,
        compile=False,
        model_wrapper_cfg=None,
    ):
        if work_dir is None:
            raise ValueError("Runner: work_dir is required (checkpoints and logs go there)")
        self._work_dir = os.path.abspath(str(work_dir))
        os.makedirs(self._work_dir, exist_ok=True)
        self.cfg = cfg if cfg is not None else {}

        # components come in groups: one without the others is a config mistake worth naming
        self._check_group("train", train_dataloader, train_cfg, optim_wrapper)
        self._check_group("val", val_dataloader, val_cfg, val_evaluator)
        self._check_group("test", test_dataloader, test_cfg, test_evaluator)
        if param_scheduler is not None and optim_wrapper is None:
            raise ValueError("Runner: param_scheduler needs optim_wrapper")

        self._train_dataloader = train_dataloader
        self._val_dataloader = val_dataloader
        self._test_dataloader = test_dataloader
        self._train_loop = train_cfg
        self._val_loop = val_cfg
        self._test_loop = test_cfg
        self._val_evaluator = val_evaluator
        self._test_evaluator = test_evaluator
        self.optim_wrapper = optim_wrapper
        self.param_schedulers = param_scheduler
        self.auto_scale_lr = auto_scale_lr
        self._load_from = load_from
        self._resume = bool(resume)
        self._has_loaded = False
        if launcher not in ("none", "pytorch", "slurm", "mpi"):
            raise ValueError(f"Runner: launcher must be 'none', 'pytorch', 'slurm' or 'mpi', got {launcher!r}")
        self._launcher = launcher
        self._model_wrapper_cfg = model_wrapper_cfg

        self.setup_env(dict(env_cfg or {}))
        self._randomness_cfg = dict(randomness or {})
        unknown = set(self._randomness_cfg) - {"seed", "deterministic", "diff_rank_seed"}
        if unknown:
            raise KeyError(
                f"Runner: unknown randomness keys {sorted(unknown)}; expected seed, deterministic, diff_rank_seed"
            )
        self._deterministic = bool(self._randomness_cfg.get("deterministic", False))
        self._seed = set_random_seed(**self._randomness_cfg)

        stamp = [time.strftime("%Y%m%d_%H%M%S", time.localtime())]
        broadcast_object_list(stamp)
        self._timestamp = stamp[0]
        self._experiment_name = experiment_name or self._timestamp
        self._log_dir = os.path.join(self._work_dir, self._timestamp)
        os.makedirs(self._log_dir, exist_ok=True)

        from vk_core.registry import DefaultScope

        self.default_scope = DefaultScope.get_instance(
            _unique_instance_name(f"runner_scope_{self._experiment_name}") + f"_{id(self)}", scope_name=default_scope
        )
        self._instance_name = _unique_instance_name(self._experiment_name)
        self.logger = self.build_logger(log_level=log_level)
        self.message_hub = MessageHub.get_instance(self._instance_name)
        self.visualizer = self.build_visualizer(visualizer)
        self.log_processor = self.build_log_processor(log_processor)
        self._log_env()

        self.model = self.build_model(model, data_preprocessor)
        self.model = self.wrap_model(self.model)
        if compile:
            self._compile_model(compile)
        self._hooks: list[Hook] = []
        self._stage_hooks: dict[str, list] = {}
        self.register_hooks(default_hooks, custom_hooks)
        self._dump_config()

    # ------------------------------------------------------------------------------------------------------------
    @staticmethod
    def _check_group(name: str, dataloader, loop_cfg, third) -> None:
        third_name = {"train": "optim_wrapper", "val": "val_evaluator", "test": "test_evaluator"}[name]
        given = {f"{name}_dataloader": dataloader, f"{name}_cfg": loop_cfg, third_name: third}
        present = [k for k, v in given.items() if v is not None]
        if present and len(present) != 3:
            missing = [k for k in given if k not in present]
            raise ValueError(f"Runner: {present} given without {missing}; {name} needs all of {list(given)}")

    @classmethod
    def from_cfg(cls, cfg) -> Runner:
        """Builds a runner from a Config (or dict); config keys nothing consumes are reported."""
        if not (isinstance(cfg, Mapping) or (hasattr(cfg, "keys") and hasattr(cfg, "get"))):
            raise TypeError(f"Runner.from_cfg: cfg must be a Config or dict, got {type(cfg).__name__}")
        cfg = copy.deepcopy(cfg)
        report_unused_keys(cfg)
        kwargs = {k: cfg.get(k) for k in RUNNER_ARGS if k not in ("cfg",) and k in cfg}
        kwargs.setdefault("work_dir", cfg.get("work_dir"))
        if kwargs.get("model") is None:
            raise KeyError("Runner.from_cfg: the config has no 'model'")
        kwargs.setdefault("resume", cfg.get("resume", False))
        kwargs.setdefault("launcher", cfg.get("launcher", "none"))
        kwargs.setdefault("default_scope", cfg.get("default_scope", "vk_core"))
        return cls(**kwargs, cfg=cfg, model_wrapper_cfg=cfg.get("model_wrapper_cfg"))

    # ---- properties --------------------------------------------------------------------------------------------
    @property
    def work_dir(self) -> str:
        return self._work_dir

    @property
    def log_dir(self) -> str:
        return self._log_dir

    @property
    def timestamp(self) -> str:
        return self._timestamp

    @property
    def experiment_name(self) -> str:
        return self._experiment_name

    @property
    def model_name(self) -> str:
        return type(ckpt_io.unwrap_model(self.model)).__name__

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def deterministic(self) -> bool:
        return self._deterministic

    @property
    def launcher(self) -> str:
        return self._launcher

    @property
    def distributed(self) -> bool:
        return is_distributed()

    @property
    def rank(self) -> int:
        return get_dist_info()[0]

    @property
    def world_size(self) -> int:
        return get_dist_info()[1]

    @property
    def device(self) -> torch.device:
        try:
            return next(ckpt_io.unwrap_model(self.model).parameters()).device
        except StopIteration:
            return torch.device("cpu")

    @property
    def hooks(self) -> list[Hook]:
        return self._hooks

    def _built_train_loop(self):
        loop = self._train_loop
        return None if loop is None or isinstance(loop, Mapping) else loop

    @property
    def train_loop(self):
        if self._train_loop is None:
            raise RuntimeError("Runner: no train loop: give train_dataloader, train_cfg and optim_wrapper")
        if isinstance(self._train_loop, dict):
            self._train_loop = self.build_train_loop(self._train_loop)
        return self._train_loop

    @property
    def val_loop(self):
        if self._val_loop is None:
            return None
        if isinstance(self._val_loop, dict):
            self._val_loop = self.build_val_loop(self._val_loop)
        return self._val_loop

    @property
    def test_loop(self):
        if self._test_loop is None:
            raise RuntimeError("Runner: no test loop: give test_dataloader, test_cfg and test_evaluator")
        if isinstance(self._test_loop, dict):
            self._test_loop = self.build_test_loop(self._test_loop)
        return self._test_loop

    def _loop_attr(self, name: str, default=0):
        loop = self._built_train_loop()
        return getattr(loop, name) if loop is not None else default

    @property
    def epoch(self) -> int:
        loop = self._train_loop
        return 0 if loop is None or isinstance(loop, dict) else loop.epoch

    @property
    def iter(self) -> int:
        # read by several hooks every iteration
        loop = self._train_loop
        return 0 if loop is None or isinstance(loop, dict) else loop.iter

    @property
    def max_epochs(self) -> int:
        return self._loop_attr("max_epochs")

    @property
    def max_iters(self) -> int:
        return self._loop_attr("max_iters")

    @property
    def train_dataloader(self):
        loop = self._built_train_loop()
        return loop.dataloader if loop is not None else self._train_dataloader

    @property
    def val_dataloader(self):
        loop = self._val_loop
        return loop.dataloader if hasattr(loop, "dataloader") else self._val_dataloader

    @property
    def test_dataloader(self):
        loop = self._test_loop
        return loop.dataloader if hasattr(loop, "dataloader") else self._test_dataloader

    @property
    def val_evaluator(self):
        return self.val_loop.evaluator if self.val_loop is not None else None

    @property
    def test_evaluator(self):
        return self.test_loop.evaluator

    @property
    def val_begin(self) -> int:
        return self._loop_attr("val_begin", 1)

    @property
    def val_interval(self) -> int:
        return self._loop_attr("val_interval", 1)

    # ---- environment -------------------------------------------------------------------------------------------
    def setup_env(self, env_cfg: dict) -> None:
        known = {"cudnn_benchmark", "mp_cfg", "dist_cfg", "resource_limit"}
        unknown = set(env_cfg) - known
        if unknown:
            raise KeyError(f"Runner: unknown env_cfg keys {sorted(unknown)}; expected {sorted(known)}")
        if env_cfg.get("cudnn_benchmark"):
            torch.backends.cudnn.benchmark = True
        mp_cfg = env_cfg.get("mp_cfg") or {}
        method = mp_cfg.get("mp_start_method")
        if method is not None:
            import multiprocessing as mp

            if mp.get_start_method(allow_none=True) not in (None, method):
                warnings.warn(
                    f"multiprocessing start method already set; keeping it instead of {method!r}", stacklevel=2
                )
            else:
                mp.set_start_method(method, force=True)
        if "opencv_num_threads" in mp_cfg:
            import cv2

            cv2.setNumThreads(int(mp_cfg["opencv_num_threads"]))
        limit = env_cfg.get("resource_limit")
        if limit:
            try:
                import resource

                soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, int(limit)), hard), hard))
            except (ImportError, ValueError, OSError):
                pass
        if self._launcher != "none" and not is_distributed():
            dist_cfg = dict(env_cfg.get("dist_cfg") or {})
            init_dist(self._launcher, **dist_cfg)

    def _log_env(self) -> None:
        rank, world = get_dist_info()
        self.logger.info(
            f"vk_core runner: torch {torch.__version__}, seed {self._seed}, deterministic {self._deterministic}, "
            f"distributed {world > 1} (rank {rank}/{world}), work_dir {self._work_dir}"
        )

    # ---- builders ----------------------------------------------------------------------------------------------
    def build_logger(self, log_level="INFO", log_file=None, **kwargs) -> VkLogger:
        log_file = log_file or os.path.join(self._log_dir, f"{self._timestamp}.log")
        return VkLogger.get_instance(
            self._instance_name, logger_name="vk_core", log_file=log_file, log_level=log_level, file_mode="a", **kwargs
        )

    def build_visualizer(self, visualizer=None):
        from vk_core.visualization import Visualizer

        if isinstance(visualizer, Visualizer):
            return visualizer
        if visualizer is None:
            visualizer = dict(type="Visualizer", vis_backends=[dict(type="LocalVisBackend")])
        if not isinstance(visualizer, Mapping):
            raise TypeError(f"Runner: visualizer must be a Visualizer or a dict, got {type(visualizer).__name__}")
        visualizer = dict(visualizer)
        visualizer["name"] = self._instance_name
        visualizer.setdefault("save_dir", os.path.join(self._log_dir, "vis_data"))
        from vk_core.registry import VISUALIZERS

        return VISUALIZERS.build(visualizer)

    def build_log_processor(self, log_processor=None):
        if log_processor is None:
            return LogProcessor()
        if isinstance(log_processor, LogProcessor) or hasattr(log_processor, "get_log_after_iter"):
            return log_processor
        if not isinstance(log_processor, Mapping):
            raise TypeError(f"Runner: log_processor must be a dict or LogProcessor, got {type(log_processor).__name__}")
        cfg = dict(log_processor)
        cfg.setdefault("type", "LogProcessor")
        from vk_core.registry import LOG_PROCESSORS

        return LOG_PROCESSORS.build(cfg)

    def build_model(self, model, data_preprocessor=None) -> nn.Module:
        if isinstance(model, nn.Module):
            built = model
        elif isinstance(model, Mapping):
            cfg = dict(model)
            if data_preprocessor is not None:
                cfg.setdefault("data_preprocessor", data_preprocessor)
            from vk_core.registry import MODELS

            built = MODELS.build(cfg)
        else:
            raise TypeError(f"Runner: model must be an nn.Module or a config dict, got {type(model).__name__}")
        for method in ("train_step", "val_step", "test_step"):
            if not callable(getattr(built, method, None)):
                raise TypeError(
                    f"Runner: the model {type(built).__name__} has no {method}(); derive it from vk_core.model.BaseModel"
                )
        return built

    def wrap_model(self, model: nn.Module) -> nn.Module:
        rank = get_dist_info()[0]
        device = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
        if torch.cuda.is_available() and is_distributed():
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank % max(torch.cuda.device_count(), 1))))
        model = model.to(device)
        if not is_distributed():
            return model
        from vk_core.registry import MODEL_WRAPPERS

        cfg = dict(self._model_wrapper_cfg or {})
        cfg.setdefault("type", "VkDistributedDataParallel")
        if device.type == "cuda":
            cfg.setdefault("device_ids", [device.index])
        cfg.setdefault("broadcast_buffers", False)
        return MODEL_WRAPPERS.build(cfg, default_args=dict(module=model))

    def _compile_model(self, compile_cfg) -> None:
        target = ckpt_io.unwrap_model(self.model)
        kwargs = {} if compile_cfg is True else dict(compile_cfg)
        # compiling forward (not the module) keeps state_dict keys unchanged
        target.forward = torch.compile(target.forward, **kwargs)

    def build_dataloader(self, dataloader, seed: int | None = None, diff_rank_seed: bool = False):
        """Builds a DataLoader from ``dict(dataset, sampler, batch_size, num_workers, collate_fn, ...)``."""
        if not isinstance(dataloader, Mapping):
            return dataloader
        from torch.utils.data import DataLoader

        import vk_core.dataset  # noqa: F401 - registers samplers, datasets and collate functions
        from vk_core.registry import DATA_SAMPLERS, DATASETS, FUNCTIONS

        cfg = dict(copy.deepcopy(dataloader))
        if "dataset" not in cfg:
            raise KeyError(f"dataloader config needs 'dataset', got keys {sorted(cfg)}")
        dataset = cfg.pop("dataset")
        if isinstance(dataset, Mapping):
            dataset = DATASETS.build(dataset)
            if hasattr(dataset, "full_init"):
                dataset.full_init()
        sampler_seed = None if diff_rank_seed else seed
        sampler_cfg = cfg.pop("sampler", None)
        if sampler_cfg is None:
            sampler = None
        elif isinstance(sampler_cfg, Mapping):
            sampler = DATA_SAMPLERS.build(sampler_cfg, default_args=dict(dataset=dataset, seed=sampler_seed))
        else:
            sampler = sampler_cfg
        batch_sampler_cfg = cfg.pop("batch_sampler", None)
        batch_size = cfg.pop("batch_size", 1)
        if isinstance(batch_sampler_cfg, Mapping):
            batch_sampler = DATA_SAMPLERS.build(
                batch_sampler_cfg, default_args=dict(sampler=sampler, batch_size=batch_size)
            )
        else:
            batch_sampler = batch_sampler_cfg
        collate_cfg = cfg.pop("collate_fn", dict(type="pseudo_collate"))
        if isinstance(collate_cfg, Mapping):
            collate_cfg = dict(collate_cfg)
            collate_type = collate_cfg.pop("type")
            fn = FUNCTIONS.get(collate_type) if isinstance(collate_type, str) else collate_type
            if fn is None:
                raise KeyError(FUNCTIONS.missing_key_message(collate_type))
            collate_fn = partial(fn, **collate_cfg) if collate_cfg else fn
        else:
            collate_fn = collate_cfg
        num_workers = cfg.pop("num_workers", 0)
        init_fn = None
        if seed is not None:
            from vk_core.dataset.utils import worker_init_fn

            init_fn = partial(worker_init_fn, num_workers=num_workers, rank=get_dist_info()[0], seed=seed)
        cfg.pop("worker_init_fn", None)
        if num_workers > 0:
            # Forked workers share the dataset's pages copy-on-write; a collection in a worker would write to every
            # object header it visits. Freezing moves what exists now out of the collector's reach.
            gc.collect()
            gc.freeze()
        if batch_sampler is not None:
            return DataLoader(
                dataset,
                batch_sampler=batch_sampler,
                num_workers=num_workers,
                collate_fn=collate_fn,
                worker_init_fn=init_fn,
                **cfg,
            )
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            num_workers=num_workers,
            collate_fn=collate_fn,
            worker_init_fn=init_fn,
            **cfg,
        )

    def build_evaluator(self, evaluator):
        from vk_core.evaluator import Evaluator

        if isinstance(evaluator, Evaluator):
            return evaluator
        if isinstance(evaluator, Mapping) and "metrics" in evaluator:
            cfg = dict(evaluator)
            cfg.setdefault("type", "Evaluator")
            from vk_core.registry import EVALUATOR

            return EVALUATOR.build(cfg)
        return Evaluator(evaluator)

    def build_optim_wrapper(self, optim_wrapper):
        from vk_core.optim import OptimWrapper, OptimWrapperDict, build_optim_wrapper

        if isinstance(optim_wrapper, OptimWrapper):
            return optim_wrapper
        if (
            isinstance(optim_wrapper, Mapping)
            and optim_wrapper
            and all(isinstance(v, OptimWrapper) for v in optim_wrapper.values())
        ):
            return OptimWrapperDict(**optim_wrapper)
        if not isinstance(optim_wrapper, Mapping):
            raise TypeError(
                f"Runner: optim_wrapper must be a dict or an OptimWrapper, got {type(optim_wrapper).__name__}"
            )
        if "optimizer" not in optim_wrapper and "constructor" not in optim_wrapper:
            raise KeyError(
                "optim_wrapper config needs 'optimizer' (or a custom 'constructor' for several optimizers), got keys "
                f"{sorted(optim_wrapper)}"
            )
        return build_optim_wrapper(ckpt_io.unwrap_model(self.model), optim_wrapper)

    def build_param_scheduler(self, scheduler):
        from vk_core.optim import OptimWrapperDict
        from vk_core.registry import PARAM_SCHEDULERS

        if self.optim_wrapper is None or isinstance(self.optim_wrapper, Mapping):
            raise RuntimeError("Runner.build_param_scheduler: build the optim wrapper first")

        def build_list(cfgs, wrapper):
            cfgs = cfgs if isinstance(cfgs, list | tuple) else [cfgs]
            out = []
            for i, cfg in enumerate(cfgs):
                if not isinstance(cfg, Mapping):
                    out.append(cfg)
                    continue
                cfg = dict(cfg)
                loop = self._built_train_loop()
                if loop is not None:
                    cfg.setdefault("by_epoch", loop.by_epoch)
                default_args = dict(optimizer=wrapper)
                if loop is not None:
                    try:
                        default_args["epoch_length"] = len(loop.dataloader)
                    except TypeError:
                        pass
                try:
                    out.append(PARAM_SCHEDULERS.build(cfg, default_args=default_args))
                except (KeyError, TypeError, ValueError) as exc:
                    raise type(exc)(f"param_scheduler[{i}] ({cfg.get('type')}): {exc}") from exc
            return out

        if isinstance(self.optim_wrapper, OptimWrapperDict):
            names = list(self.optim_wrapper.optim_wrappers)
            if isinstance(scheduler, Mapping) and set(scheduler) <= set(names) and "type" not in scheduler:
                return {n: build_list(scheduler[n], self.optim_wrapper[n]) for n in scheduler}
            return {n: build_list(scheduler, self.optim_wrapper[n]) for n in names}
        return build_list(scheduler, self.optim_wrapper)

    def scale_lr(self, optim_wrapper, auto_scale_lr=None) -> None:
        """Linear scaling rule: lr *= (world_size * batch_size) / base_batch_size when enabled."""
        if not auto_scale_lr or not auto_scale_lr.get("enable", False):
            return
        if "base_batch_size" not in auto_scale_lr:
            raise KeyError("auto_scale_lr needs 'base_batch_size' when enable=True")
        batch_size = getattr(self.train_dataloader, "batch_size", None)
        if batch_size is None:
            raise ValueError("auto_scale_lr: the train dataloader has no batch_size (a batch_sampler is used)")
        ratio = self.world_size * batch_size / auto_scale_lr["base_batch_size"]
        wrappers = getattr(optim_wrapper, "optim_wrappers", None)
        for wrapper in wrappers.values() if wrappers else [optim_wrapper]:
            for group in wrapper.param_groups:
                group["lr"] = group["lr"] * ratio
                if "initial_lr" in group:
                    group["initial_lr"] = group["initial_lr"] * ratio
        self.logger.info(f"auto_scale_lr: learning rates scaled by {ratio:g}")

    def _build_loop(self, loop, dataloader, kind: str):
        from vk_core.registry import LOOPS

        if not isinstance(loop, Mapping):
            return loop
        cfg = dict(loop)
        if kind == "train":
            if "type" in cfg:
                return LOOPS.build(cfg, default_args=dict(runner=self, dataloader=dataloader))
            by_epoch = cfg.pop("by_epoch", True)
            if by_epoch:
                return EpochBasedTrainLoop(runner=self, dataloader=dataloader, **cfg)
            return IterBasedTrainLoop(runner=self, dataloader=dataloader, **cfg)
        evaluator = self._val_evaluator if kind == "val" else self._test_evaluator
        default = ValLoop if kind == "val" else TestLoop
        if "type" in cfg:
            return LOOPS.build(cfg, default_args=dict(runner=self, dataloader=dataloader, evaluator=evaluator))
        return default(runner=self, dataloader=dataloader, evaluator=evaluator, **cfg)

    def build_train_loop(self, loop):
        return self._build_loop(loop, self._train_dataloader, "train")

    def build_val_loop(self, loop):
        return self._build_loop(loop, self._val_dataloader, "val")

    def build_test_loop(self, loop):
        return self._build_loop(loop, self._test_dataloader, "test")

    # ---- hooks -------------------------------------------------------------------------------------------------
    def register_hook(self, hook, priority=None) -> None:
        """Inserts ``hook`` by priority (argument > cfg['priority'] > hook.priority); ties keep insertion order."""
        if isinstance(hook, Mapping):
            cfg = dict(hook)
            cfg_priority = cfg.pop("priority", None)
            from vk_core.registry import HOOKS

            hook_obj = HOOKS.build(cfg)
            if priority is None:
                priority = cfg_priority
        elif isinstance(hook, Hook):
            hook_obj = hook
        else:
            raise TypeError(f"Runner.register_hook: expected a Hook or a config dict, got {type(hook).__name__}")
        value = get_priority(priority if priority is not None else hook_obj.priority)
        hook_obj.priority = value
        index = len(self._hooks)
        for i in range(len(self._hooks) - 1, -1, -1):
            if value >= get_priority(self._hooks[i].priority):
                index = i + 1
                break
        else:
            index = 0
        self._hooks.insert(index, hook_obj)
        self._stage_hooks = {
            point: [getattr(h, point) for h in self._hooks if point in h.get_triggered_stages()]
            for point in HOOK_POINTS
        }

    def register_default_hooks(self, hooks=None) -> None:
        merged = {k: dict(v) for k, v in DEFAULT_HOOKS.items()}
        for key, value in (hooks or {}).items():
            if value is None:
                merged.pop(key, None)
            elif isinstance(value, Mapping) and "type" not in value and key in merged:
                merged[key].update(value)  # dict(logger=dict(interval=50)) tunes the default logger
            else:
                merged[key] = value
        for hook in merged.values():
            self.register_hook(hook if not isinstance(hook, Mapping) else dict(hook))

    def register_custom_hooks(self, hooks) -> None:
        for hook in hooks or []:
            self.register_hook(hook)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        self.register_default_hooks(default_hooks)
        self.register_custom_hooks(custom_hooks)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        for fn in self._stage_hooks.get(fn_name, ()):
            fn(self, **kwargs)

    def get_hooks_info(self) -> str:
        lines = []
        for point in HOOK_POINTS:
            names = [
                f"({get_priority(h.priority):<3}) {type(h).__name__}"
                for h in self._hooks
                if point in h.get_triggered_stages()
            ]
            if names:
                lines.append(f"{point}:\n" + "\n".join(names))
        return "\n--------------------\n".join(lines)

    # ---- run ---------------------------------------------------------------------------------------------------
    def _init_model_weights(self) -> None:
        model = ckpt_io.unwrap_model(self.model)
        if hasattr(model, "init_weights"):
            model.init_weights()

    def train(self) -> nn.Module:
        if self._train_loop is None:
            raise RuntimeError("Runner.train: no train loop; give train_dataloader, train_cfg and optim_wrapper")
        self._train_loop = self.build_train_loop(self._train_loop)
        self.optim_wrapper = self.build_optim_wrapper(self.optim_wrapper)
        self.scale_lr(self.optim_wrapper, self.auto_scale_lr)
        if self.param_schedulers is not None:
            self.param_schedulers = self.build_param_scheduler(self.param_schedulers)
        if self._val_loop is not None:
            self._val_loop = self.build_val_loop(self._val_loop)
        self.call_hook("before_run")
        self._init_model_weights()
        self.load_or_resume()
        if hasattr(self.optim_wrapper, "initialize_count_status"):
            self.optim_wrapper.initialize_count_status(
                ckpt_io.unwrap_model(self.model), self._train_loop.iter, self._train_loop.max_iters
            )
        model = self.train_loop.run()
        self.call_hook("after_run")
        return model

    def val(self) -> dict:
        if self._val_loop is None:
            raise RuntimeError("Runner.val: no val loop; give val_dataloader, val_cfg and val_evaluator")
        self._val_loop = self.build_val_loop(self._val_loop)
        self.call_hook("before_run")
        self.load_or_resume()
        metrics = self.val_loop.run()
        self.call_hook("after_run")
        return metrics

    def test(self) -> dict:
        if self._test_loop is None:
            raise RuntimeError("Runner.test: no test loop; give test_dataloader, test_cfg and test_evaluator")
        self._test_loop = self.build_test_loop(self._test_loop)
        self.call_hook("before_run")
        self.load_or_resume()
        metrics = self.test_loop.run()
        self.call_hook("after_run")
        return metrics

    # ---- checkpoints -------------------------------------------------------------------------------------------
    def load_or_resume(self) -> None:
        if self._has_loaded:
            return
        resume_from = None
        if self._resume and self._load_from is None:
            resume_from = ckpt_io.find_latest_checkpoint(self._work_dir)
            if resume_from is None:
                self.logger.info(f"resume=True but no checkpoint found in {self._work_dir}; training from scratch")
        elif self._resume:
            resume_from = self._load_from
        if resume_from is not None:
            self.resume(resume_from)
            self._has_loaded = True
        elif self._load_from is not None:
            self.load_checkpoint(self._load_from)
            self._has_loaded = True

    def load_checkpoint(self, filename, map_location="cpu", strict: bool = False, revise_keys=((r"^module\.", ""),)):
        checkpoint = ckpt_io.load_checkpoint(
            self.model, filename, map_location=map_location, strict=strict, logger=self.logger, revise_keys=revise_keys
        )
        self.call_hook("after_load_checkpoint", checkpoint=checkpoint)
        self.logger.info(f"Load checkpoint from {filename}")
        return checkpoint

    def resume(
        self, filename, resume_optimizer: bool = True, resume_param_scheduler: bool = True, map_location="default"
    ):
        """Restores model, optimizer, schedulers, message hub, hook states, loop position and random states."""
        if map_location == "default":
            map_location = self.device if torch.cuda.is_available() else "cpu"
        checkpoint = ckpt_io.CheckpointLoader.load_checkpoint(str(filename), map_location=map_location)
        ckpt_io._load_checkpoint_to_model(self.model, checkpoint, strict=False, logger=self.logger)
        meta = checkpoint.get("meta", {})
        loop = self._built_train_loop()
        if loop is not None:
            position = checkpoint.get("loop", {"epoch": meta.get("epoch", 0), "iter": meta.get("iter", 0)})
            loop.load_position(position, checkpoint.get("rng_state"))
        ckpt_seed = meta.get("seed")
        if ckpt_seed is not None and ckpt_seed != self._seed:
            self.logger.warning(f"resume: the checkpoint's seed {ckpt_seed} replaces this run's seed {self._seed}")
            self._seed = ckpt_seed
            if loop is not None:
                for obj in (getattr(loop.dataloader, "sampler", None), getattr(loop.dataloader, "batch_sampler", None)):
                    if obj is not None and hasattr(obj, "seed"):
                        obj.seed = ckpt_seed
        if "message_hub" in checkpoint:
            self.message_hub.load_state_dict(checkpoint["message_hub"])
        if resume_optimizer and "optimizer" in checkpoint and not isinstance(self.optim_wrapper, Mapping | type(None)):
            self.optim_wrapper.load_state_dict(checkpoint["optimizer"])
        if resume_param_scheduler and "param_schedulers" in checkpoint and self.param_schedulers is not None:
            saved = checkpoint["param_schedulers"]
            if isinstance(self.param_schedulers, dict):
                for name, group in self.param_schedulers.items():
                    for sched, state in zip(group, saved[name]):
                        sched.load_state_dict(state)
            else:
                for sched, state in zip(self.param_schedulers, saved):
                    sched.load_state_dict(state)
        self.call_hook("after_load_checkpoint", checkpoint=checkpoint)
        self.logger.info(f"resumed from {filename}: epoch {self.epoch}, iter {self.iter}")
        return checkpoint

    def save_checkpoint(
        self,
        out_dir,
        filename: str,
        file_client_args=None,
        save_optimizer: bool = True,
        save_param_scheduler: bool = True,
        meta: dict | None = None,
        by_epoch: bool = True,
        backend_args=None,
    ) -> str:
        """Writes a complete, resumable checkpoint to ``out_dir/filename`` (rank 0 only) and returns its path."""
        from vk_core import __version__

        meta = dict(meta or {})
        loop = self._built_train_loop()
        position = loop.state_for_checkpoint() if loop is not None else {"epoch": 0, "iter": 0, "inner_iter": 0}
        meta.update(
            epoch=position["epoch"],
            iter=position["iter"],
            seed=self._seed,
            experiment_name=self._experiment_name,
            time=time.strftime("%Y%m%d_%H%M%S", time.localtime()),
            vk_core_version=__version__,
        )
        dataset_meta = getattr(self.visualizer, "dataset_meta", None)
        if dataset_meta is not None:
            meta["dataset_meta"] = dataset_meta
        text = getattr(self.cfg, "pretty_text", None)
        if isinstance(text, str):
            meta["cfg"] = text
        checkpoint = {
            "meta": meta,
            "state_dict": ckpt_io.weights_to_cpu(ckpt_io.get_state_dict(self.model)),
            "message_hub": self.message_hub.state_dict(),
            "loop": position,
            "rng_state": ckpt_io.get_rng_state(),
        }
        if save_optimizer and self.optim_wrapper is not None and not isinstance(self.optim_wrapper, Mapping):
            checkpoint["optimizer"] = self.optim_wrapper.state_dict()
        if save_param_scheduler and isinstance(self.param_schedulers, dict):
            checkpoint["param_schedulers"] = {n: [s.state_dict() for s in g] for n, g in self.param_schedulers.items()}
        elif save_param_scheduler and isinstance(self.param_schedulers, list):
            checkpoint["param_schedulers"] = [s.state_dict() for s in self.param_schedulers]
        self.call_hook("before_save_checkpoint", checkpoint=checkpoint)
        path = str(Path(out_dir) / filename)
        if self.rank == 0:
            ckpt_io.save_checkpoint(checkpoint, path)
        return path

    def _dump_config(self) -> None:
        if not self.cfg:
            return
        try:
            self.visualizer.add_config(self.cfg)
        except Exception as exc:  # a config that cannot be rendered must not stop training
            self.logger.warning(f"could not record the config: {exc}")
        filename = getattr(self.cfg, "filename", None)
        if filename and self.rank == 0 and hasattr(self.cfg, "dump"):
            try:
                self.cfg.dump(os.path.join(self._work_dir, Path(filename).name))
            except Exception as exc:
                self.logger.warning(f"could not dump the config to the work dir: {exc}")


def report_unused_keys(cfg) -> list[str]:
    """Logs config keys the runner does not consume; a key close to a known one gets a "did you mean" warning."""
    known = set(RUNNER_ARGS) | set(OTHER_KNOWN_KEYS)
    unused = [k for k in cfg if k not in known and not str(k).startswith("_")]
    suspicious = []
    for key in unused:
        if key in COMMON_HELPER_KEYS or str(key).endswith(("_pipeline", "_root", "_type", "_scale")):
            continue
        close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.75)
        if close:
            suspicious.append(key)
            warnings.warn(f"config key {key!r} is not used by the Runner; did you mean {close[0]!r}?", stacklevel=3)
    helpers = [k for k in unused if k not in suspicious]
    if helpers:
        print_log(
            f"config keys not consumed by the Runner (fine for helper variables): {', '.join(map(str, helpers))}",
            logger="current",
        )
    return unused
