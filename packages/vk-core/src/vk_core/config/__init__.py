"""Config files (DESIGN 2.1): ``Config``, ``ConfigDict``, ``DictAction``, ``read_base``.

A ``.py`` config is executed as Python: it is code, so load only configs you trust.
"""

from contextlib import contextmanager

from .config import Config, import_custom
from .config_dict import ConfigDict
from .dict_action import DictAction, OptionParseError, parse_option, parse_value
from .errors import ConfigError, ConfigSyntaxError
from .loader import package_config_path
from .locate import find_config, shipped_config_dirs
from .render import RenderError


@contextmanager
def read_base():
    """Marks the imports of base configs in a pure-Python config: ``with read_base(): from .base import *``.

    The loader reads these imports as config files (it never runs this function); executed as plain Python
    it does nothing.
    """
    yield


__all__ = [
    "Config",
    "ConfigDict",
    "ConfigError",
    "ConfigSyntaxError",
    "DictAction",
    "OptionParseError",
    "RenderError",
    "find_config",
    "import_custom",
    "package_config_path",
    "parse_option",
    "parse_value",
    "read_base",
    "shipped_config_dirs",
]
