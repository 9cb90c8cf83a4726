"""Logging: ``VkLogger``, ``print_log``, ``MessageHub``, ``HistoryBuffer`` and ``LogProcessor``."""

from vk_core.logging.history_buffer import HistoryBuffer
from vk_core.logging.log_processor import LogProcessor, LogProcessorConfigError
from vk_core.logging.logger import VkLogger, print_log
from vk_core.logging.message_hub import MessageHub


def _register() -> None:
    from vk_core.registry import LOG_PROCESSORS

    LOG_PROCESSORS.register_module(module=LogProcessor, force=True)


_register()

__all__ = ["HistoryBuffer", "LogProcessor", "LogProcessorConfigError", "MessageHub", "VkLogger", "print_log"]
