"""``vk test CONFIG CHECKPOINT``: evaluate a checkpoint on the config's test set."""

from __future__ import annotations

import argparse

HELP = "test a checkpoint with a config"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vk_core.cli.train import add_common_arguments

    add_common_arguments(parser)
    parser.add_argument("checkpoint", help="checkpoint file (path, http(s):// URL or registered scheme)")
    parser.add_argument("--out", help="also dump the predictions to this .pkl file (DumpResults)")
    parser.add_argument("--fp16", action="store_true", help="run the test loop under float16/bfloat16 autocast")


def run(args) -> int:
    import json

    import torch

    from vk_core.cli.train import build_runner, load_config

    cfg = load_config(args)
    cfg["load_from"] = args.checkpoint
    cfg["resume"] = False
    if cfg.get("test_dataloader") is None:
        raise SystemExit("vk test: the config has no test_dataloader/test_cfg/test_evaluator")
    if args.out:
        if not args.out.endswith((".pkl", ".pickle")):
            raise SystemExit(f"vk test --out: the file must end in .pkl or .pickle, got {args.out!r}")
        evaluator = cfg.get("test_evaluator")
        evaluator = list(evaluator) if isinstance(evaluator, list | tuple) else [evaluator]
        evaluator.append(dict(type="DumpResults", out_file_path=args.out))
        cfg["test_evaluator"] = evaluator
    if args.fp16:
        test_cfg = dict(cfg.get("test_cfg") or {})
        test_cfg["fp16"] = True if torch.cuda.is_available() else "bfloat16"
        cfg["test_cfg"] = test_cfg
    # a test run must not write training checkpoints or resume training state
    runner = build_runner(cfg)
    metrics = runner.test()
    print(json.dumps({k: (v if isinstance(v, int | float | str) else str(v)) for k, v in metrics.items()}))
    return 0
