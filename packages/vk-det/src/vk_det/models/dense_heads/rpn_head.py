"""RPNHead: the region proposal network of two-stage detectors (objectness + box deltas per anchor)."""

from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from vk_det.registry import MODELS

from ..roi_heads.utils import batched_nms
from .anchor_head import AnchorHead


def _cfg_get(cfg, key, default=None):
    if cfg is None:
        return default
    return cfg.get(key, default) if isinstance(cfg, dict) else getattr(cfg, key, default)


def _box_tensor(boxes) -> Tensor:
    return boxes.tensor if hasattr(boxes, "tensor") else boxes


@MODELS.register_module()
class RPNHead(AnchorHead):
    """A 3x3 conv (``num_convs`` of them) then 1x1 objectness and regression convs, shared by all levels.

    Proposals: per level the ``nms_pre`` best anchors, decoded, boxes not larger than ``min_bbox_size`` dropped,
    NMS with the level as the class (levels never suppress each other), then the ``max_per_img`` best.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int = 1,
        init_cfg=None,
        num_convs: int = 1,
        **kwargs,
    ) -> None:
        if num_classes != 1:
            raise ValueError(f"RPNHead: num_classes must be 1 (objectness), got {num_classes}")
        if not isinstance(num_convs, int) or num_convs < 1:
            raise ValueError(f"RPNHead: num_convs must be a positive int, got {num_convs!r}")
        self.num_convs = num_convs
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01)
        super().__init__(num_classes=num_classes, in_channels=in_channels, init_cfg=init_cfg, **kwargs)

    def _init_layers(self) -> None:
        if self.num_convs > 1:
            from vk_core.model import ConvModule

            convs = [
                ConvModule(
                    self.in_channels if i == 0 else self.feat_channels, self.feat_channels, 3, padding=1, inplace=False
                )
                for i in range(self.num_convs)
            ]
            self.rpn_conv = nn.Sequential(*convs)
        else:
            self.rpn_conv = nn.Conv2d(self.in_channels, self.feat_channels, 3, padding=1)
        self.rpn_cls = nn.Conv2d(self.feat_channels, self.num_base_priors * self.cls_out_channels, 1)
        reg_dim = int(getattr(self.bbox_coder, "encode_size", 4))
        self.rpn_reg = nn.Conv2d(self.feat_channels, self.num_base_priors * reg_dim, 1)

    def forward_single(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = F.relu(self.rpn_conv(x))
        return self.rpn_cls(x), self.rpn_reg(x)

    def loss_by_feat(
        self, cls_scores, bbox_preds, batch_gt_instances, batch_img_metas, batch_gt_instances_ignore=None
    ) -> dict:
        losses = super().loss_by_feat(
            cls_scores,
            bbox_preds,
            batch_gt_instances,
            batch_img_metas,
            batch_gt_instances_ignore=batch_gt_instances_ignore,
        )
        return dict(loss_rpn_cls=losses["loss_cls"], loss_rpn_bbox=losses["loss_bbox"])

    def _predict_by_feat_single(
        self,
        cls_score_list,
        bbox_pred_list,
        score_factor_list,
        mlvl_priors,
        img_meta,
        cfg,
        rescale: bool = False,
        with_nms: bool = True,
    ):
        from vk_core.structures import InstanceData

        cfg = copy.deepcopy(self.test_cfg if cfg is None else cfg)
        if cfg is None:
            raise ValueError("RPNHead: no test_cfg (rpn) given, so nms_pre/nms/max_per_img are unknown")
        img_shape = img_meta["img_shape"]
        nms_pre = _cfg_get(cfg, "nms_pre", -1)
        reg_dim = int(getattr(self.bbox_coder, "encode_size", 4))
        mlvl_bbox_preds, mlvl_priors_kept, mlvl_scores, level_ids = [], [], [], []
        for level_idx, (cls_score, bbox_pred, priors) in enumerate(zip(cls_score_list, bbox_pred_list, mlvl_priors)):
            if cls_score.dim() == 3:
                # A raw (C, H, W) map: flatten and activate here.
                bbox_pred = bbox_pred.permute(1, 2, 0).reshape(-1, reg_dim)
                cls_score = cls_score.permute(1, 2, 0).reshape(-1, self.cls_out_channels)
                if self.use_sigmoid_cls:
                    cls_score = cls_score.sigmoid()
                else:
                    # Softmax RPN has (fg, bg) channels; keep the foreground column.
                    cls_score = cls_score.softmax(-1)[:, :-1]
            elif cls_score.dim() != 2:
                raise ValueError(
                    f"RPNHead: level {level_idx} scores must be a (C, H, W) map or (num_priors, C) activated "
                    f"scores, got shape {tuple(cls_score.shape)}"
                )
            scores = cls_score.reshape(-1)
            bbox_pred = bbox_pred.reshape(-1, reg_dim)
            if scores.shape[0] != bbox_pred.shape[0]:
                raise ValueError(
                    f"RPNHead: level {level_idx} has {scores.shape[0]} scores but {bbox_pred.shape[0]} box deltas"
                )
            priors = _box_tensor(priors)
            if 0 < nms_pre < scores.shape[0]:
                scores, rank_inds = scores.topk(nms_pre)
                bbox_pred = bbox_pred[rank_inds]
                priors = priors[rank_inds]
            mlvl_bbox_preds.append(bbox_pred)
            mlvl_priors_kept.append(priors)
            mlvl_scores.append(scores)
            level_ids.append(scores.new_full((scores.size(0),), level_idx, dtype=torch.long))
        bboxes = self.bbox_coder.decode(torch.cat(mlvl_priors_kept), torch.cat(mlvl_bbox_preds), max_shape=img_shape)
        results = InstanceData()
        results.bboxes = _box_tensor(bboxes)
        results.scores = torch.cat(mlvl_scores)
        results.level_ids = torch.cat(level_ids)
        return self._bbox_post_process(results=results, cfg=cfg, rescale=rescale, img_meta=img_meta)

    def _bbox_post_process(self, results, cfg, rescale: bool = False, with_nms: bool = True, img_meta=None):
        from vk_core.structures import InstanceData

        if not with_nms:
            raise ValueError("RPNHead: proposals are always produced with NMS (with_nms=True)")
        if rescale:
            sx, sy = img_meta["scale_factor"][:2]
            results.bboxes = results.bboxes / results.bboxes.new_tensor([sx, sy, sx, sy])
        min_bbox_size = _cfg_get(cfg, "min_bbox_size", -1)
        if min_bbox_size >= 0:
            b = results.bboxes
            valid = ((b[:, 2] - b[:, 0]) > min_bbox_size) & ((b[:, 3] - b[:, 1]) > min_bbox_size)
            if not bool(valid.all()):
                results = results[valid]
        if results.bboxes.numel() > 0:
            nms_cfg = _cfg_get(cfg, "nms")
            if nms_cfg is None:
                raise KeyError(
                    "RPNHead: test_cfg/rpn_proposal needs an 'nms' entry, e.g. dict(type='nms', iou_threshold=0.7)"
                )
            det_bboxes, keep = batched_nms(results.bboxes, results.scores, results.level_ids, dict(nms_cfg))
            results = results[keep]
            results.scores = det_bboxes[:, -1]
            results = results[: _cfg_get(cfg, "max_per_img", 1000)]
            results.labels = results.scores.new_zeros(len(results), dtype=torch.long)
            del results.level_ids
        else:
            empty = InstanceData()
            empty.bboxes = results.bboxes.new_zeros((0, 4))
            empty.scores = results.scores.new_zeros(0)
            empty.labels = results.scores.new_zeros(0, dtype=torch.long)
            results = empty
        return results
