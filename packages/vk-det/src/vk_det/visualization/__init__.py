"""Detection visualization: DetLocalVisualizer and DetVisualizationHook."""

from .hooks import DetVisualizationHook
from .local_visualizer import DetLocalVisualizer, palette_for

__all__ = ["DetLocalVisualizer", "DetVisualizationHook", "palette_for"]
