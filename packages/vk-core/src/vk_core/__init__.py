"""vk-core: the engine shared by every vk package.

Importing this package is cheap on purpose: submodules (``vk_core.config``, ``vk_core.runner``, ...) are
imported by name when needed.
"""

__version__ = "0.1.0"
