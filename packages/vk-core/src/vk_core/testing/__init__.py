"""Synthetic data for demos and tests."""

from .shapes import SHAPES_CLASSES, SHAPES_PALETTE, make_shapes_dataset

__all__ = ["SHAPES_CLASSES", "SHAPES_PALETTE", "make_shapes_dataset"]
