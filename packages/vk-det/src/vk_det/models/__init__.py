"""vk-det models. Importing this package registers every model class in ``vk_det.registry.MODELS`` and every
task module in ``TASK_UTILS``; the registries import it lazily on their first missed lookup."""

from vk_det.models import (  # noqa: F401  (imported for registration)
    backbones,
    data_preprocessors,
    dense_heads,
    detectors,
    layers,
    losses,
    necks,
    roi_heads,
    task_modules,
)
from vk_det.models.backbones import *  # noqa: F403
from vk_det.models.data_preprocessors import *  # noqa: F403
from vk_det.models.dense_heads import *  # noqa: F403
from vk_det.models.detectors import *  # noqa: F403
from vk_det.models.losses import *  # noqa: F403
from vk_det.models.necks import *  # noqa: F403
from vk_det.models.roi_heads import *  # noqa: F403
from vk_det.models.task_modules import *  # noqa: F403
