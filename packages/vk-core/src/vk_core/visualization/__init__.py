"""Visualization: ``Visualizer`` draw primitives and record backends (local files, TensorBoard, W&B, MLflow)."""

from vk_core.visualization.vis_backend import (
    BaseVisBackend,
    LocalVisBackend,
    MLflowVisBackend,
    TensorboardVisBackend,
    WandbVisBackend,
)
from vk_core.visualization.visualizer import Visualizer, color_val


def _register() -> None:
    from vk_core.registry import VISBACKENDS, VISUALIZERS

    VISUALIZERS.register_module(module=Visualizer, force=True)
    for backend in (LocalVisBackend, TensorboardVisBackend, WandbVisBackend, MLflowVisBackend):
        VISBACKENDS.register_module(module=backend, force=True)


_register()

__all__ = [
    "BaseVisBackend",
    "LocalVisBackend",
    "MLflowVisBackend",
    "TensorboardVisBackend",
    "Visualizer",
    "WandbVisBackend",
    "color_val",
]
