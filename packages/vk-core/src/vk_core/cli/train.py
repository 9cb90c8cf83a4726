"""``vk train CONFIG``: train a model from a config file (or the name of a config shipped by a vk package)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

HELP = "train a model from a config"


def resolve_config(name: str) -> str:
    """A path, ``pkg::rel/path.py``, or the bare name of a config shipped in an installed vk package."""
    if "::" in name or os.path.isfile(name):
        return name
    from importlib.util import find_spec

    stem = name if name.endswith((".py", ".json", ".yaml", ".yml")) else name + ".py"
    found = []
    for package in ("vk_det", "vk_seg", "vk_core"):
        spec = find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(list(spec.submodule_search_locations)[0]) / "configs"
        if root.is_dir():
            found += [p for p in root.rglob(Path(stem).name) if p.is_file()]
    if len(found) == 1:
        return str(found[0])
    if len(found) > 1:
        raise SystemExit(f"vk: config name {name!r} is ambiguous: {[str(p) for p in found]}; give a path")
    raise SystemExit(f"vk: config {name!r} is neither a file nor a config shipped by vk_det/vk_seg")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    from vk_core.config import DictAction

    parser.add_argument("config", help="config file path or shipped config name")
    parser.add_argument("--work-dir", help="where logs and checkpoints go (default: ./work_dirs/<config name>)")
    parser.add_argument(
        "--cfg-options", nargs="+", action=DictAction, default={}, help="override config keys: a.b=1 c=[1,2]"
    )
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm"], default="none", help="job launcher")
    parser.add_argument("--local-rank", "--local_rank", type=int, default=0, help=argparse.SUPPRESS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument(
        "--resume",
        nargs="?",
        const="auto",
        default=None,
        metavar="CKPT",
        help="resume from CKPT, or from the latest checkpoint in the work dir when no CKPT is given",
    )
    parser.add_argument("--amp", action="store_true", help="mixed precision (bfloat16 on CPU, float16 on CUDA)")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--deterministic", action="store_true", help="deterministic algorithms (slower)")
    parser.add_argument("--auto-scale-lr", action="store_true", help="scale the learning rate by the batch size")


def load_config(args):
    from vk_core.config import Config

    cfg = Config.fromfile(resolve_config(args.config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg["work_dir"] = args.work_dir
    elif cfg.get("work_dir") is None:
        cfg["work_dir"] = os.path.join("./work_dirs", Path(args.config).stem)
    cfg["launcher"] = args.launcher
    return cfg


def build_runner(cfg):
    if "runner_type" in cfg:
        from vk_core.registry import RUNNERS

        return RUNNERS.build(cfg)
    from vk_core.runner import Runner

    return Runner.from_cfg(cfg)


def run(args) -> int:
    import torch

    cfg = load_config(args)
    if args.amp:
        optim = cfg.get("optim_wrapper")
        if optim is None:
            raise SystemExit("vk train --amp: the config has no optim_wrapper")
        if optim.get("type", "OptimWrapper") != "AmpOptimWrapper":
            optim["type"] = "AmpOptimWrapper"
            if not torch.cuda.is_available():
                optim.setdefault("dtype", "bfloat16")  # float16 autocast on CPU is slow and lossy
    if args.resume == "auto":
        cfg["resume"] = True
        cfg["load_from"] = None
    elif args.resume is not None:
        cfg["resume"] = True
        cfg["load_from"] = args.resume
    if args.seed is not None or args.deterministic:
        randomness = dict(cfg.get("randomness") or {})
        if args.seed is not None:
            randomness["seed"] = args.seed
        if args.deterministic:
            randomness["deterministic"] = True
        cfg["randomness"] = randomness
    if args.auto_scale_lr:
        if not cfg.get("auto_scale_lr") or "base_batch_size" not in cfg["auto_scale_lr"]:
            raise SystemExit("vk train --auto-scale-lr: the config needs auto_scale_lr=dict(base_batch_size=...)")
        cfg["auto_scale_lr"]["enable"] = True
    runner = build_runner(cfg)
    runner.train()
    return 0
