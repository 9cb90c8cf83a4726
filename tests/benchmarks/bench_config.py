"""Config loading: vk_core.config against MMEngine 0.10.7 on a four-level Mask R-CNN config chain.

Each case loads ``configs/mask_rcnn/mask-rcnn_r101_fpn_ms-poly-3x_coco.py`` (which inherits, through two
child configs, from model / dataset / schedule / runtime bases), merges it and renders ``pretty_text``.
MMEngine must be installed in the same environment:
``pip install --no-deps mmengine==0.10.7 addict yapf termcolor platformdirs``.

It also measures, in fresh interpreters, what ``import vk_core`` (and ``vk_core.config`` + ``vk_core.registry``)
costs on top of ``import torch``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import warnings
from pathlib import Path

from harness import compare

CHAIN = Path(__file__).resolve().parent / "configs" / "mask_rcnn" / "mask-rcnn_r101_fpn_ms-poly-3x_coco.py"

_IMPORT_PROBE = """
import time
w0, c0 = time.perf_counter(), time.process_time()
import torch
w1, c1 = time.perf_counter(), time.process_time()
import vk_core
w2, c2 = time.perf_counter(), time.process_time()
import vk_core.config, vk_core.registry
w3, c3 = time.perf_counter(), time.process_time()
print(w1 - w0, w2 - w1, w3 - w2, c1 - c0, c2 - c1, c3 - c2)
"""


def import_costs(runs: int = 5) -> dict[str, float]:
    """Median seconds over ``runs`` fresh interpreters: torch, then vk_core, then config + registry.

    Wall-clock and CPU time are both reported: on a busy machine the wall clock mostly measures waiting.
    Byte-code caching is allowed (one untimed run first), as in a normal installation.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    samples = []
    for i in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE], capture_output=True, text=True, check=True, env=env)
        if i:
            samples.append([float(x) for x in out.stdout.split()])
    names = (
        "import_torch_s",
        "import_vk_core_after_torch_s",
        "import_config_registry_s",
        "import_torch_cpu_s",
        "import_vk_core_after_torch_cpu_s",
        "import_config_registry_cpu_s",
    )
    return {name: statistics.median(col) for name, col in zip(names, zip(*samples))}


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
        f"import torch: {costs['import_torch_s']:.3f} s wall ({costs['import_torch_cpu_s']:.3f} s CPU); "
        f"import vk_core on top: {costs['import_vk_core_after_torch_s'] * 1e3:.1f} ms wall "
        f"({costs['import_vk_core_after_torch_cpu_s'] * 1e3:.1f} ms CPU); vk_core.config + vk_core.registry on "
        f"top: {costs['import_config_registry_s'] * 1e3:.1f} ms wall "
        f"({costs['import_config_registry_cpu_s'] * 1e3:.1f} ms CPU). Target: import vk_core <= 150 ms"
    )
