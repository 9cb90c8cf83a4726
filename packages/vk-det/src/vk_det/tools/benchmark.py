"""``vk det benchmark CONFIG``: images per second of a model's inference, or of the data pipeline."""

from __future__ import annotations

import time

HELP = "measure inference images/s of a model (or of the test data pipeline with --task dataloader)"


def add_arguments(parser) -> None:
    parser.add_argument("config", help="config path or shipped config name")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--task", choices=("inference", "dataloader"), default="inference")
    parser.add_argument("--phase", choices=("train", "val", "test"), default="test", help="dataset to read")
    parser.add_argument("--num-images", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--device", default="cpu")


def benchmark(cfg, checkpoint=None, task="inference", phase="test", num_images=50, warmup=5, device="cpu") -> dict:
    import torch

    from .browse_dataset import build_dataset

    dataset = build_dataset(cfg, phase)
    n = min(num_images + warmup, len(dataset))
    if n <= warmup:
        raise ValueError(f"the {phase} dataset has {len(dataset)} images; need more than warmup={warmup}")
    model = None
    if task == "inference":
        from ..apis import init_detector

        model = init_detector(cfg, checkpoint, device=device)
    times = []
    for idx in range(n):
        start = time.perf_counter()
        item = dataset[idx]
        if model is not None:
            with torch.no_grad():
                model.test_step(dict(inputs=[item["inputs"]], data_samples=[item["data_samples"]]))
            if device.startswith("cuda"):
                torch.cuda.synchronize()
        if idx >= warmup:
            times.append(time.perf_counter() - start)
    total = sum(times)
    return dict(task=task, images=len(times), seconds=total, images_per_s=len(times) / total)


def run(args) -> int:
    from ..apis import resolve_config

    cfg = resolve_config(args.config)
    out = benchmark(cfg, args.checkpoint, args.task, args.phase, args.num_images, args.warmup, args.device)
    print(f"{out['task']}: {out['images']} images in {out['seconds']:.2f}s -> {out['images_per_s']:.2f} images/s")
    return 0
