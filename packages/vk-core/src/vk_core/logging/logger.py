"""``VkLogger`` (rank-aware logging to the terminal and a file) and ``print_log``."""

from __future__ import annotations

import logging
import os
import sys

from vk_core.utils.manager import ManagerMixin

_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
_DATEFMT = "%Y/%m/%d %H:%M:%S"


def _rank_and_world() -> tuple[int, int]:
    # read from the environment so that logging never forces torch.distributed to initialise
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def _level(log_level) -> int:
    if isinstance(log_level, int):
        return log_level
    level = logging.getLevelName(str(log_level).upper())
    if not isinstance(level, int):
        raise ValueError(f"unknown log level {log_level!r}; expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


class VkLogger(logging.Logger, ManagerMixin):
    """A logger that is not registered in ``logging``'s global tree, so it never duplicates records elsewhere.

    Rank 0 prints to the terminal at ``log_level``; other ranks print only errors. ``log_file`` is written by
    rank 0; with ``distributed=True`` every rank writes its own ``<stem>_rank<r><ext>`` file.
    """

    def __init__(
        self,
        name: str,
        logger_name: str = "vk_core",
        log_file: str | None = None,
        log_level="INFO",
        file_mode: str = "w",
        distributed: bool = False,
    ):
        logging.Logger.__init__(self, logger_name)
        ManagerMixin.__init__(self, name)
        level = _level(log_level)
        rank, world = _rank_and_world()
        formatter = logging.Formatter(_FORMAT, _DATEFMT)

        stream = logging.StreamHandler(stream=sys.stdout)
        stream.setFormatter(formatter)
        stream.setLevel(level if rank == 0 else logging.ERROR)
        self.handlers.append(stream)

        self.log_file = None
        if log_file is not None:
            if world > 1 and distributed:
                stem, ext = os.path.splitext(log_file)
                log_file = f"{stem}_rank{rank}{ext}"
            if rank == 0 or distributed:
                os.makedirs(os.path.dirname(os.path.abspath(log_file)), exist_ok=True)
                handler = logging.FileHandler(log_file, file_mode, encoding="utf-8")
                handler.setFormatter(formatter)
                handler.setLevel(level)
                self.handlers.append(handler)
                self.log_file = log_file
        self.setLevel(logging.DEBUG)  # handlers do the filtering

    @classmethod
    def get_current_instance(cls) -> VkLogger:
        if not cls._instance_dict:
            cls.get_instance("vk_core")
        return super().get_current_instance()

    def close(self) -> None:
        for handler in list(self.handlers):
            if isinstance(handler, logging.FileHandler):
                handler.close()
                self.handlers.remove(handler)

    def callHandlers(self, record: logging.LogRecord) -> None:
        # a VkLogger is standalone: no propagation to the root logger
        for handler in self.handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


def print_log(msg, logger=None, level=logging.INFO) -> None:
    """Prints ``msg`` through ``logger``.

    ``logger`` may be None (plain ``print``), ``'silent'`` (nothing), ``'current'`` (the current VkLogger), a
    ``logging.Logger``, or the name of a VkLogger instance.
    """
    if logger is None:
        print(msg)
    elif isinstance(logger, logging.Logger):
        logger.log(level, msg)
    elif logger == "silent":
        pass
    elif logger == "current":
        VkLogger.get_current_instance().log(level, msg)
    elif isinstance(logger, str):
        if VkLogger.check_instance_created(logger):
            VkLogger.get_instance(logger).log(level, msg)
        else:
            raise ValueError(f"print_log: no VkLogger named {logger!r} exists; create it with VkLogger.get_instance")
    else:
        raise TypeError(
            f"print_log: logger must be None, 'silent', 'current', a logger name or a logging.Logger, "
            f"got {type(logger).__name__}"
        )
