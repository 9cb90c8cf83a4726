# ruff: noqa: F403, F405
from collections import Counter as ReLU

from vk_core.config import read_base

with read_base():
    from .base.model import *
    from .base.schedule import max_epochs as epochs
    from .base.schedule import optim_wrapper

model.backbone.depth = 101
model.head.update(num_classes=3, act=dict(type=ReLU))
optim_wrapper.optimizer.lr = 0.01
total = epochs * 2
