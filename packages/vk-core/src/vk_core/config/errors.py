"""Config errors. Every message names the file (and line where known) and what was expected."""


class ConfigError(ValueError):
    """A config file or value that cannot be used as written."""


class ConfigSyntaxError(ConfigError):
    """A .py, .json or .yaml config that does not parse; the message starts with ``file, line N``."""

    def __init__(self, message: str, filename: str | None = None, lineno: int | None = None):
        super().__init__(message)
        self.filename = filename
        self.lineno = lineno
