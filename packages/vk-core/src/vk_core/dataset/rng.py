"""The one random generator behind every random data transform, so a seeded pipeline is reproducible.

Seeding:
- ``seed_data_rng(seed)`` reseeds it; the runner's seed function and ``worker_init_fn`` call it.
- In a forked process (a DataLoader worker) that nobody seeded, the first ``data_rng()`` call seeds from the
  process's torch seed (``torch.initial_seed()``, which torch derives from the main process generator per worker
  and per epoch), so forked workers never replay the same augmentations.
"""

from __future__ import annotations

import os

import numpy as np

_state: dict = {"rng": np.random.default_rng(), "forked": False}


def _after_fork_in_child() -> None:
    _state["forked"] = True


# A flag set at fork time is cheaper than comparing os.getpid() (a system call) on every draw.
os.register_at_fork(after_in_child=_after_fork_in_child)


def seed_data_rng(seed: int | list[int] | None) -> np.random.Generator:
    """Reseeds the shared data generator (``None`` draws fresh OS entropy) and returns it."""
    _state["rng"] = np.random.default_rng(seed)
    _state["forked"] = False
    return _state["rng"]


def data_rng() -> np.random.Generator:
    """The shared generator; random transforms must draw from it (not from ``np.random``)."""
    if _state["forked"]:
        # A forked process inherited the parent's state: give it its own deterministic stream.
        import torch

        in_worker = torch.utils.data.get_worker_info() is not None
        seed_data_rng([torch.initial_seed() % 2**63, 0 if in_worker else os.getpid()])
    return _state["rng"]
