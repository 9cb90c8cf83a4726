"""Dense heads: AnchorHead, RetinaHead, AnchorFreeHead, FCOSHead, ATSSHead (RPNHead: part 3)."""

from vk_det.models.dense_heads.anchor_free_head import AnchorFreeHead
from vk_det.models.dense_heads.anchor_head import AnchorHead
from vk_det.models.dense_heads.atss_head import ATSSHead
from vk_det.models.dense_heads.base_dense_head import BaseDenseHead
from vk_det.models.dense_heads.fcos_head import FCOSHead
from vk_det.models.dense_heads.retina_head import RetinaHead
from vk_det.models.dense_heads.rpn_head import RPNHead

__all__ = ["ATSSHead", "AnchorFreeHead", "AnchorHead", "BaseDenseHead", "FCOSHead", "RPNHead", "RetinaHead"]
