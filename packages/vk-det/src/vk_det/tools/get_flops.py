"""``vk det get-flops CONFIG --shape H W``: FLOPs and parameters of a model's ``tensor`` forward."""

from __future__ import annotations

HELP = "count FLOPs (torch.utils.flop_counter) and parameters of a model on one input size"


def add_arguments(parser) -> None:
    parser.add_argument("config", help="config path or shipped config name")
    parser.add_argument("--shape", type=int, nargs="+", default=[800, 1333], help="input H W (or one size S)")


def count(cfg, shape=(800, 1333)) -> dict:
    """FLOPs of ``model(inputs, mode='tensor')`` on a zero batch of one (3, H, W) image (multiply-adds count 2)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ..apis import init_detector

    if len(shape) == 1:
        shape = (shape[0], shape[0])
    if len(shape) != 2 or min(shape) <= 0:
        raise ValueError(f"--shape must be H W (or one size), got {shape}")
    model = init_detector(cfg, device="cpu")
    inputs = torch.zeros(1, 3, *shape)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(inputs, None, mode="tensor")
    params = sum(p.numel() for p in model.parameters())
    return dict(shape=tuple(shape), flops=counter.get_total_flops(), params=params)


def run(args) -> int:
    from ..apis import resolve_config

    out = count(resolve_config(args.config), tuple(args.shape))
    h, w = out["shape"]
    print(f"input (1, 3, {h}, {w}): {out['flops'] / 1e9:.2f} GFLOPs, {out['params'] / 1e6:.2f} M parameters")
    print("FLOPs count multiply-adds as 2 and cover convolutions and matmuls (torch.utils.flop_counter).")
    return 0
