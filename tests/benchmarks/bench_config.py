"""Config loading: vk_core.config against MMEngine 0.10.7 on a four-level Mask R-CNN config chain.

Each case loads ``configs/mask_rcnn/mask-rcnn_r101_fpn_ms-poly-3x_coco.py`` (which inherits, through two
child configs, from model / dataset / schedule / runtime bases), merges it and renders ``pretty_text``.
MMEngine must be installed in the same environment:
``pip install --no-deps mmengine==0.10.7 addict yapf termcolor platformdirs``.

It also measures, in fresh interpreters, what ``import vk_core`` (and ``vk_core.config`` + ``vk_core.registry``)
costs on top of ``import torch``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import warnings
from pathlib import Path

from harness import compare

CHAIN = Path(__file__).resolve().parent / "configs" / "mask_rcnn" / "mask-rcnn_r101_fpn_ms-poly-3x_coco.py"

_IMPORT_PROBE = """
import time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
import vk_core
t2 = time.perf_counter()
import vk_core.config, vk_core.registry
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def import_costs(runs: int = 5) -> dict[str, float]:
    """Median seconds over ``runs`` fresh interpreters: torch, then vk_core, then config + registry."""
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE], capture_output=True, text=True, check=True)
        samples.append([float(x) for x in out.stdout.split()])
    torch_s, core_s, cfg_s = (statistics.median(col) for col in zip(*samples))
    return {"import_torch_s": torch_s, "import_vk_core_after_torch_s": core_s, "import_config_registry_s": cfg_s}


def main() -> None:
    from vk_core.config import Config

    try:
        import mmengine
        from mmengine.config import Config as MMConfig
    except ImportError as exc:
        raise SystemExit(
            f"bench_config needs MMEngine as the baseline ({exc}); install it with "
            f"pip install --no-deps mmengine==0.10.7 addict yapf termcolor platformdirs"
        ) from None

    path = str(CHAIN)
    vk_cfg, mm_cfg = Config.fromfile(path), MMConfig.fromfile(path)
    if vk_cfg.to_dict() != mm_cfg.to_dict():
        raise SystemExit("vk and MMEngine load the benchmark chain differently; the comparison would be meaningless")
    if Config.fromstring(vk_cfg.pretty_text, ".py") != vk_cfg:
        raise SystemExit("vk pretty_text does not reload to an equal config")

    costs = import_costs()
    params = {"config": str(CHAIN.relative_to(CHAIN.parents[3])), "mmengine": mmengine.__version__, **costs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(
            "config load+merge+pretty_text (Mask R-CNN, 4 levels)",
            {
                "mmengine": lambda: MMConfig.fromfile(path).pretty_text,
                "vk": lambda: Config.fromfile(path).pretty_text,
            },
            baseline="mmengine",
            repeat=9,
            params=params,
        )
        compare(
            "config load+merge only",
            {"mmengine": lambda: MMConfig.fromfile(path), "vk": lambda: Config.fromfile(path)},
            baseline="mmengine",
            repeat=9,
        )
        compare(
            "config pretty_text only",
            {"mmengine": lambda: mm_cfg.pretty_text, "vk": lambda: vk_cfg.pretty_text},
            baseline="mmengine",
            repeat=9,
        )
    print(
        f"import torch: {costs['import_torch_s']:.3f} s; import vk_core on top: "
        f"{costs['import_vk_core_after_torch_s'] * 1e3:.1f} ms; vk_core.config + vk_core.registry on top: "
        f"{costs['import_config_registry_s'] * 1e3:.1f} ms (target: vk_core <= 150 ms)"
    )
