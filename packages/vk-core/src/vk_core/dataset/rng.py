"""The one random generator behind every random data transform, so a seeded pipeline is reproducible.

Seeding:
- ``seed_data_rng(seed)`` reseeds it; the runner's seed function and ``worker_init_fn`` call it.
- Inside a DataLoader worker that nobody seeded, the first ``data_rng()`` call seeds from the worker's torch seed
  (``torch.initial_seed()``, which torch derives from the main process generator per worker and per epoch), so
  forked workers never replay the same augmentations.
"""

from __future__ import annotations

import os

import numpy as np

_state: dict = {"rng": np.random.default_rng(), "pid": os.getpid()}


def seed_data_rng(seed: int | list[int] | None) -> np.random.Generator:
    """Reseeds the shared data generator (``None`` draws fresh OS entropy) and returns it."""
    _state["rng"] = np.random.default_rng(seed)
    _state["pid"] = os.getpid()
    return _state["rng"]


def data_rng() -> np.random.Generator:
    """The shared generator; random transforms must draw from it (not from ``np.random``)."""
    if _state["pid"] != os.getpid():
        # A forked process inherited the parent's state: give it its own deterministic stream.
        import torch

        seed_data_rng([torch.initial_seed() % 2**63, os.getpid() if torch.utils.data.get_worker_info() is None else 0])
    return _state["rng"]
