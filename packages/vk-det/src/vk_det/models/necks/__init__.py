"""Necks: FPN, ChannelMapper."""

from vk_det.models.necks.channel_mapper import ChannelMapper
from vk_det.models.necks.fpn import FPN

__all__ = ["FPN", "ChannelMapper"]
