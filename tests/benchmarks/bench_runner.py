"""Runner overhead: vk's Runner (default hooks, logger every 50 iterations, no checkpoints) against a plain
PyTorch loop doing the same forward/backward/step on the same data in the same process, at two step costs
(a small and a wider conv net). MMEngine's Runner is timed too when mmengine is importable.

Env: VK_BENCH_RUNNER_ITERS (default 2000), VK_BENCH_RUNNER_REPEAT (default 3).
"""

from __future__ import annotations

import math
import os
import tempfile
import time

import torch
from harness import compare
from torch import nn
from torch.nn import functional as F

ITERS = int(os.environ.get("VK_BENCH_RUNNER_ITERS", 2000))
REPEAT = int(os.environ.get("VK_BENCH_RUNNER_REPEAT", 3))
BATCHES = 100  # distinct batches; the loops run ITERS // BATCHES epochs over them


class RandomImages(torch.utils.data.Dataset):
    def __init__(self, n: int, size: int):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 3, size, size, generator=g)
        self.y = torch.randint(0, 10, (n,), generator=g)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"inputs": self.x[i], "data_samples": self.y[i]}


def make_net(width: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(width, 10),
    )


def loader(dataset, batch_size):
    from torch.utils.data import default_collate

    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=default_collate)


def plain_loop(width, dataset, batch_size):
    torch.manual_seed(0)
    model = make_net(width)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    data = loader(dataset, batch_size)
    model.train()
    for _ in range(ITERS // BATCHES):
        for batch in data:
            loss = F.cross_entropy(model(batch["inputs"]), batch["data_samples"])
            loss.backward()
            opt.step()
            opt.zero_grad()


def vk_runner(width, dataset, batch_size):
    from vk_core.model import BaseModel
    from vk_core.runner import Runner

    class Net(BaseModel):
        def __init__(self):
            super().__init__()
            self.net = make_net(width)

        def forward(self, inputs, data_samples=None, mode="tensor"):
            logits = self.net(inputs)
            if mode == "loss":
                return {"loss": F.cross_entropy(logits, data_samples)}
            return logits

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as work_dir:
        runner = Runner(
            model=Net(),
            work_dir=work_dir,
            train_dataloader=loader(dataset, batch_size),
            train_cfg=dict(by_epoch=True, max_epochs=ITERS // BATCHES, val_interval=10**9),
            optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01, momentum=0.9)),
            default_hooks=dict(logger=dict(type="LoggerHook", interval=50), checkpoint=None),
            log_level="WARNING",
            randomness=dict(seed=0),
        )
        runner.train()
        runner.logger.close()


def mmengine_runner(width, dataset, batch_size):
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Net(BaseModel):
        def __init__(self):
            super().__init__()
            self.net = make_net(width)

        def forward(self, inputs, data_samples=None, mode="tensor"):
            logits = self.net(inputs)
            if mode == "loss":
                return {"loss": F.cross_entropy(logits, data_samples)}
            return logits

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as work_dir:
        runner = Runner(
            model=Net(),
            work_dir=work_dir,
            train_dataloader=loader(dataset, batch_size),
            train_cfg=dict(by_epoch=True, max_epochs=ITERS // BATCHES, val_interval=10**9),
            optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01, momentum=0.9)),
            default_hooks=dict(logger=dict(type="LoggerHook", interval=50), checkpoint=None),
            log_level="WARNING",
            randomness=dict(seed=0),
        )
        runner.train()


def _step_ms(width, dataset, batch_size, steps: int = 30) -> float:
    """Milliseconds per iteration of the plain loop (data loading included), best of 3 short runs."""
    model = make_net(width)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    data = loader(dataset, batch_size)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for i, batch in enumerate(data):
            if i == steps:
                break
            F.cross_entropy(model(batch["inputs"]), batch["data_samples"]).backward()
            opt.step()
            opt.zero_grad()
        best = min(best, (time.perf_counter() - start) / min(steps, len(data)) * 1e3)
    return best


def main() -> None:
    try:
        import mmengine  # noqa: F401

        have_mmengine = True
    except Exception as exc:  # missing or broken: the column is skipped
        print(f"mmengine not importable ({type(exc).__name__}: {exc}); skipping its column")
        have_mmengine = False
    batch_size = 8
    # pick the (conv width, image size) whose step costs closest to 2 ms and 20 ms on this machine
    candidates = [(4, 8), (8, 12), (8, 16), (16, 24), (24, 32), (32, 40), (48, 48), (64, 56)]
    costs = {c: _step_ms(c[0], RandomImages(4 * batch_size, c[1]), batch_size) for c in candidates}
    for target in (2.0, 20.0):
        width, size = min(candidates, key=lambda c: abs(math.log(costs[c] / target)))
        dataset = RandomImages(BATCHES * batch_size, size)
        step = costs[(width, size)]
        cases = {
            "plain PyTorch": lambda w=width, d=dataset, b=batch_size: plain_loop(w, d, b),
            "vk Runner": lambda w=width, d=dataset, b=batch_size: vk_runner(w, d, b),
        }
        if have_mmengine:
            cases["MMEngine Runner"] = lambda w=width, d=dataset, b=batch_size: mmengine_runner(w, d, b)
        result = compare(
            f"runner overhead, {ITERS} iters, ~{step:.1f} ms/step",
            cases,
            baseline="plain PyTorch",
            repeat=REPEAT,
            warmup=0,
            params={"iters": ITERS, "width": width, "image": size, "batch": batch_size, "step_ms": round(step, 2)},
        )
        for case in result.cases:
            print(f"{case.label}: {1 / case.ratio_to_baseline - 1:+.1%} time vs plain PyTorch")
