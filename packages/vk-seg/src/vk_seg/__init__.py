"""vk-seg: semantic segmentation on vk-core.

Importing the package is cheap: models, datasets and transforms are imported by the registries the first
time a config asks for one of their names.
"""

__version__ = "0.1.0"
