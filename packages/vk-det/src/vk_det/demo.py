"""``python -m vk_det.demo``: the detection tour on CPU in a few minutes.

Generates the synthetic shapes dataset, trains the small RetinaNet-R18 config with the vk_core Runner under a
time budget, evaluates it with CocoMetric, runs DetInferencer on a few validation images and prints the metrics and
where the drawings went. ``--quick`` shrinks everything to a smoke test (seconds).
"""

from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m vk_det.demo", description=__doc__.splitlines()[0])
    p.add_argument("--config", default="retinanet_r18_fpn_shapes", help="config path or shipped config name")
    p.add_argument("--work-dir", default="work_dirs/vk_det_demo", help="where logs, checkpoints and drawings go")
    p.add_argument(
        "--data-root", default="work_dirs/vk_det_demo/shapes", help="shapes dataset folder (generated when missing)"
    )
    p.add_argument("--minutes", type=float, default=4.0, help="training time budget in minutes")
    p.add_argument("--epochs", type=int, default=None, help="max epochs (default: the config's)")
    p.add_argument("--train-images", type=int, default=400)
    p.add_argument("--val-images", type=int, default=100)
    p.add_argument("--image-size", type=int, default=320)
    p.add_argument("--num-infer", type=int, default=4, help="validation images given to DetInferencer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="tiny data, one short epoch: a smoke test")
    return p.parse_args(argv)


def _ensure_data(root: str, train: int, val: int, size: int, seed: int) -> None:
    ann = osp.join(root, "annotations", "instances_val.json")
    if osp.isfile(ann) and osp.isfile(osp.join(root, "annotations", "instances_train.json")):
        print(f"[vk_det.demo] using the shapes dataset in {root}")
        return
    from vk_core.testing import make_shapes_dataset

    t = time.perf_counter()
    make_shapes_dataset(root, splits={"train": train, "val": val}, image_size=size, seed=seed)
    print(f"[vk_det.demo] wrote {train} + {val} shapes images to {root} in {time.perf_counter() - t:.1f}s")


def build_cfg(args, data_root: str, work_dir: str):
    from vk_det.apis import resolve_config

    cfg = resolve_config(args.config)
    data_root = osp.abspath(data_root) + os.sep
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        loader = cfg.get(key)
        if loader:
            loader["dataset"]["data_root"] = data_root
            if args.quick:
                loader["num_workers"] = 0
                loader["persistent_workers"] = False
                loader["batch_size"] = 2
    for key in ("val_evaluator", "test_evaluator"):
        if cfg.get(key):
            cfg[key]["ann_file"] = osp.join(data_root, "annotations", "instances_val.json")
    cfg.work_dir = work_dir
    max_epochs = args.epochs or (1 if args.quick else cfg.train_cfg.get("max_epochs", 12))
    cfg.train_cfg["max_epochs"] = max_epochs
    for sched in cfg.get("param_scheduler") or []:
        if sched.get("type") == "CosineAnnealingLR" and sched.get("by_epoch", True):
            sched.update(T_max=max_epochs, end=max_epochs)
    hooks = cfg.setdefault("default_hooks", {})
    hooks["checkpoint"] = dict(type="CheckpointHook", interval=1, max_keep_ckpts=1)
    if hooks.get("logger"):
        hooks["logger"]["interval"] = 5 if args.quick else 10
    cfg.custom_hooks = [*(cfg.get("custom_hooks") or []), dict(type="TrainTimeLimitHook", max_minutes=args.minutes)]
    cfg.randomness = dict(seed=args.seed)
    if args.quick:
        cfg.train_dataloader["dataset"]["indices"] = 4
        cfg.val_dataloader["dataset"]["indices"] = 2
        for key in ("train_dataloader", "val_dataloader"):
            for step in cfg[key]["dataset"]["pipeline"]:
                if step.get("type") == "Resize":
                    step["scale"] = (args.image_size, args.image_size)
        cfg.test_dataloader = cfg.val_dataloader
    return cfg


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.quick:
        args.train_images, args.val_images, args.image_size = min(args.train_images, 4), min(args.val_images, 2), 128
        args.minutes = min(args.minutes, 1.0)
    work_dir = osp.abspath(args.work_dir)
    _ensure_data(args.data_root, args.train_images, args.val_images, args.image_size, args.seed)

    from vk_core.runner import Runner
    from vk_core.runner.checkpoint import find_latest_checkpoint

    import vk_det.engine  # noqa: F401  (registers TrainTimeLimitHook)

    cfg = build_cfg(args, args.data_root, work_dir)
    # Evaluation happens once, after training, on the final weights (a time-limited run may stop mid-epoch).
    for key in ("val_dataloader", "val_cfg", "val_evaluator"):
        cfg[key] = None
    t = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    runner.train()
    train_s = time.perf_counter() - t
    ckpt = find_latest_checkpoint(work_dir)
    if ckpt is None:
        raise RuntimeError(f"training wrote no checkpoint under {work_dir}")
    print(f"[vk_det.demo] trained for {train_s / 60:.1f} min; checkpoint {ckpt}")

    test_cfg = build_cfg(args, args.data_root, work_dir)
    test_cfg.load_from = ckpt
    t = time.perf_counter()
    metrics = Runner.from_cfg(test_cfg).test()
    eval_s = time.perf_counter() - t

    from vk_det.apis import DetInferencer
    from vk_det.apis.det_inferencer import list_images

    images = list_images(osp.join(args.data_root, "images", "val"))[: args.num_infer]
    out_dir = osp.join(work_dir, "inference")
    inferencer = DetInferencer(build_cfg(args, args.data_root, work_dir), weights=ckpt, device="cpu")
    result = inferencer(images, batch_size=2, out_dir=out_dir, pred_score_thr=0.3)

    print("\n[vk_det.demo] results")
    for key, value in metrics.items():
        if not key.endswith("copypaste"):
            print(f"  {key:<28} {value}")
    print(f"  train time: {train_s:.0f}s, evaluation time: {eval_s:.0f}s")
    counts = [len([s for s in p["scores"] if s >= 0.3]) for p in result["predictions"]]
    print(f"  DetInferencer: {len(images)} images, detections >= 0.3: {counts}")
    print(f"  drawings:    {osp.join(out_dir, 'vis')}")
    print(f"  predictions: {osp.join(out_dir, 'preds')}")
    print(f"  logs:        {runner.log_dir}")
    return dict(metrics=metrics, checkpoint=ckpt, out_dir=out_dir, predictions=result["predictions"])


if __name__ == "__main__":
    main(sys.argv[1:])
