"""``make demo`` until the task packages provide theirs.

Shows the installation (``vk env``), runs a compiled op when vk-ops is present, then trains, validates and tests
a toy classifier through the Runner (well under a minute on a laptop CPU) and prints where everything went.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def _ops_check() -> None:
    import torch

    try:
        import vk_ops
    except ImportError:
        print("vk-ops is not installed; skipping the operator check")
        return
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 15.0, 15.0]])
    print("IoU of two overlapping squares (kernel):", vk_ops.bbox_overlaps(boxes, boxes)[0, 1].item())


def run_toy(work_dir: str, max_epochs: int = 3) -> dict:
    """Trains the toy classifier for ``max_epochs``, tests the last checkpoint; returns paths and metrics."""
    from vk_core.runner import Runner
    from vk_core.runner.toy import toy_config

    cfg = toy_config(
        work_dir,
        max_epochs=max_epochs,
        num_samples=256,
        param_scheduler=[dict(type="CosineAnnealingLR", T_max=max_epochs, by_epoch=True)],
        default_hooks=dict(
            logger=dict(type="LoggerHook", interval=16),
            checkpoint=dict(type="CheckpointHook", interval=1, save_best="toy/accuracy", max_keep_ckpts=2),
        ),
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    log_dir = Path(runner.log_dir)
    return {
        "work_dir": runner.work_dir,
        "log": str(log_dir / f"{runner.timestamp}.log"),
        "scalars": str(log_dir / "vis_data" / "scalars.json"),
        "last_checkpoint": (Path(runner.work_dir) / "last_checkpoint").read_text().strip(),
        "best_checkpoint": runner.message_hub.get_info("best_ckpt/toy/accuracy"),
        "test_metrics": metrics,
    }


def main() -> int:
    from vk_core.cli.main import main as vk_main

    vk_main(["env"])
    _ops_check()
    work_dir = os.environ.get("VK_DEMO_DIR", os.path.join("demo-output", "vk_core_toy"))
    start = time.perf_counter()
    result = run_toy(work_dir)
    elapsed = time.perf_counter() - start
    print()
    print(f"Toy classifier trained, validated and tested in {elapsed:.1f} s")
    for key in ("work_dir", "log", "scalars", "last_checkpoint", "best_checkpoint"):
        print(f"  {key:<16} {result[key]}")
    print(f"  {'test metrics':<16} {result['test_metrics']}")
    print(f"Plot the loss: vk analyze-logs plot_curve {result['scalars']} --keys loss --out loss.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
