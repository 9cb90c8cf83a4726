"""Optimizer step with merged vs per-parameter groups, and EMA update fused vs per-parameter.

Baselines are the MMEngine layouts: ``DefaultOptimWrapperConstructor`` upstream gives every parameter its own
group once ``paramwise_cfg`` is set, and its EMA calls ``lerp_`` once per parameter.
"""

from __future__ import annotations

import torch
from harness import compare
from torch import nn
from vk_core.model import ExponentialMovingAverage
from vk_core.optim import DefaultOptimWrapperConstructor


def _resnet_like(blocks: int = 50, width: int = 64) -> nn.Module:
    layers = [nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    for _ in range(blocks):
        layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    layers += [nn.Flatten(), nn.LazyLinear(10)]
    model = nn.Sequential(*layers)
    model(torch.zeros(1, 3, 4, 4))
    return model


def _filled_grads(model: nn.Module) -> None:
    for p in model.parameters():
        p.grad = torch.randn_like(p)


def bench_optimizer_step(blocks: int = 50, width: int = 64) -> None:
    torch.manual_seed(0)
    model = _resnet_like(blocks, width)
    _filled_grads(model)
    ctor = DefaultOptimWrapperConstructor(
        dict(optimizer=dict(type="SGD", lr=0.01, momentum=0.9, weight_decay=1e-4)), dict(norm_decay_mult=0.0)
    )
    per_param: list[dict] = []
    ctor.add_params(per_param, model)
    merged = ctor.param_groups(model)
    opt_per_param = torch.optim.SGD(per_param, lr=0.01, momentum=0.9, weight_decay=1e-4)
    opt_merged = torch.optim.SGD(merged, lr=0.01, momentum=0.9, weight_decay=1e-4)
    n_params = len(list(model.parameters()))
    compare(
        f"SGD step, {n_params} params: merged groups vs one group per param",
        {"per-param groups (mmengine)": opt_per_param.step, "merged groups (vk)": opt_merged.step},
        baseline="per-param groups (mmengine)",
        repeat=15,
        warmup=3,
        number=5,
        params={"params": n_params, "groups_per_param": len(per_param), "groups_merged": len(merged)},
    )


class _LoopEMA(ExponentialMovingAverage):
    """The same EMA with MMEngine's per-parameter update, so only the averaging kernel differs."""

    def _average_all(self, averaged, sources, steps):
        for avg, src in zip(averaged, sources):
            self.avg_func(avg, src, steps)


def bench_ema(blocks: int = 50, width: int = 64, device: str = "cpu") -> None:
    torch.manual_seed(0)
    model = _resnet_like(blocks, width).to(device)
    loop = _LoopEMA(model, momentum=0.0002)
    fused = ExponentialMovingAverage(model, momentum=0.0002)
    for ema in (loop, fused):
        ema.update_parameters(model)  # the first update copies; later ones average

    def sync(fn):
        def run():
            fn(model)
            if device == "cuda":
                torch.cuda.synchronize()

        return run

    compare(
        f"EMA update ({device}), {len(list(model.parameters()))} params: foreach vs per-parameter lerp_",
        {
            "per-param lerp_ (mmengine)": sync(loop.update_parameters),
            "foreach lerp_ (vk)": sync(fused.update_parameters),
        },
        baseline="per-param lerp_ (mmengine)",
        repeat=21,
        warmup=3,
        number=5,
    )


def main() -> None:
    torch.set_num_threads(2)
    bench_optimizer_step()
    bench_ema()
    if torch.cuda.is_available():
        bench_ema(device="cuda")


if __name__ == "__main__":
    main()
