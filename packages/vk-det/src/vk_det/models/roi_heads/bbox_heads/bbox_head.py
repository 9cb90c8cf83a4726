"""BBoxHead: the simplest RoI box head (optional average pooling, then one linear layer per output)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from vk_core.model import BaseModule

from vk_det.registry import MODELS, TASK_UTILS

from ..utils import empty_instances, get_box_tensor, multiclass_nms


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _cfg_get(cfg, key, default=None):
    if cfg is None:
        return default
    return cfg.get(key, default) if isinstance(cfg, dict) else getattr(cfg, key, default)


def _build_linear(cfg: dict | None, in_features: int, out_features: int) -> nn.Module:
    cfg = dict(cfg or dict(type="Linear"))
    layer_type = cfg.pop("type", "Linear")
    if layer_type in ("Linear", nn.Linear):
        return nn.Linear(in_features, out_features, **cfg)
    return MODELS.build(dict(type=layer_type, in_features=in_features, out_features=out_features, **cfg))


def accuracy(pred: Tensor, target: Tensor) -> Tensor:
    """Top-1 accuracy in percent (0 when there are no samples)."""
    if pred.size(0) == 0:
        return pred.new_tensor(0.0)
    correct = (pred.argmax(dim=1) == target).float().sum()
    return correct * (100.0 / pred.size(0))


@MODELS.register_module()
class BBoxHead(BaseModule):
    """Classify RoIs into ``num_classes + 1`` (last = background) and regress per-class box deltas."""

    def __init__(
        self,
        with_avg_pool: bool = False,
        with_cls: bool = True,
        with_reg: bool = True,
        roi_feat_size: int = 7,
        in_channels: int = 256,
        num_classes: int = 80,
        bbox_coder: dict | None = None,
        predict_box_type: str = "hbox",
        reg_class_agnostic: bool = False,
        reg_decoded_bbox: bool = False,
        reg_predictor_cfg: dict | None = None,
        cls_predictor_cfg: dict | None = None,
        loss_cls: dict | None = None,
        loss_bbox: dict | None = None,
        init_cfg=None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if not (with_cls or with_reg):
            raise ValueError("BBoxHead: at least one of with_cls and with_reg must be True")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"BBoxHead: num_classes must be a positive int, got {num_classes!r}")
        if predict_box_type != "hbox":
            raise ValueError(f"BBoxHead: only predict_box_type='hbox' is supported, got {predict_box_type!r}")
        self.with_avg_pool = with_avg_pool
        self.with_cls = with_cls
        self.with_reg = with_reg
        self.roi_feat_size = _pair(roi_feat_size)
        self.roi_feat_area = self.roi_feat_size[0] * self.roi_feat_size[1]
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.predict_box_type = predict_box_type
        self.reg_class_agnostic = reg_class_agnostic
        self.reg_decoded_bbox = reg_decoded_bbox
        self.reg_predictor_cfg = dict(reg_predictor_cfg or dict(type="Linear"))
        self.cls_predictor_cfg = dict(cls_predictor_cfg or dict(type="Linear"))
        if bbox_coder is None:
            bbox_coder = dict(
                type="DeltaXYWHBBoxCoder",
                clip_border=True,
                target_means=[0.0, 0.0, 0.0, 0.0],
                target_stds=[0.1, 0.1, 0.2, 0.2],
            )
        if loss_cls is None:
            loss_cls = dict(type="CrossEntropyLoss", use_sigmoid=False, loss_weight=1.0)
        if loss_bbox is None:
            loss_bbox = dict(type="SmoothL1Loss", beta=1.0, loss_weight=1.0)
        self.bbox_coder = TASK_UTILS.build(bbox_coder)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.box_dim = int(getattr(self.bbox_coder, "encode_size", 4))

        in_channels = self.in_channels
        if self.with_avg_pool:
            self.avg_pool = nn.AvgPool2d(self.roi_feat_size)
        else:
            in_channels *= self.roi_feat_area
        if self.with_cls:
            self.fc_cls = _build_linear(self.cls_predictor_cfg, in_channels, num_classes + 1)
        if self.with_reg:
            out_dim_reg = self.box_dim if reg_class_agnostic else self.box_dim * num_classes
            self.fc_reg = _build_linear(self.reg_predictor_cfg, in_channels, out_dim_reg)
        self.debug_imgs = None
        if init_cfg is None:
            self.init_cfg = []
            if self.with_cls:
                self.init_cfg += [dict(type="Normal", std=0.01, override=dict(name="fc_cls"))]
            if self.with_reg:
                self.init_cfg += [dict(type="Normal", std=0.001, override=dict(name="fc_reg"))]

    @property
    def custom_cls_channels(self) -> bool:
        return bool(getattr(self.loss_cls, "custom_cls_channels", False))

    def forward(self, x: Tensor) -> tuple[Tensor | None, Tensor | None]:
        if self.with_avg_pool:
            x = self.avg_pool(x) if x.numel() > 0 else x.new_zeros(x.shape[0], x.shape[1], 1, 1)
        x = x.flatten(1)
        cls_score = self.fc_cls(x) if self.with_cls else None
        bbox_pred = self.fc_reg(x) if self.with_reg else None
        return cls_score, bbox_pred

    # ---------------------------------------------------------------- training targets and losses
    def _get_targets_single(self, pos_priors, neg_priors, pos_gt_bboxes, pos_gt_labels, cfg):
        num_pos = pos_priors.size(0)
        num_neg = neg_priors.size(0)
        num_samples = num_pos + num_neg
        labels = pos_priors.new_full((num_samples,), self.num_classes, dtype=torch.long)
        reg_dim = pos_gt_bboxes.size(-1) if self.reg_decoded_bbox else self.box_dim
        label_weights = pos_priors.new_zeros(num_samples)
        bbox_targets = pos_priors.new_zeros(num_samples, reg_dim)
        bbox_weights = pos_priors.new_zeros(num_samples, reg_dim)
        if num_pos > 0:
            labels[:num_pos] = pos_gt_labels
            pos_weight = _cfg_get(cfg, "pos_weight", -1.0)
            label_weights[:num_pos] = 1.0 if pos_weight <= 0 else pos_weight
            if not self.reg_decoded_bbox:
                pos_bbox_targets = self.bbox_coder.encode(pos_priors, pos_gt_bboxes)
            else:
                pos_bbox_targets = pos_gt_bboxes
            bbox_targets[:num_pos, :] = get_box_tensor(pos_bbox_targets)
            bbox_weights[:num_pos, :] = 1
        if num_neg > 0:
            label_weights[-num_neg:] = 1.0
        return labels, label_weights, bbox_targets, bbox_weights

    def get_targets(self, sampling_results: list, rcnn_train_cfg, concat: bool = True):
        """Classification/regression targets of the sampled RoIs, positives first in each image."""
        outs = [
            self._get_targets_single(
                res.pos_priors,
                res.neg_priors,
                get_box_tensor(res.pos_gt_bboxes),
                res.pos_gt_labels,
                rcnn_train_cfg,
            )
            for res in sampling_results
        ]
        labels, label_weights, bbox_targets, bbox_weights = (list(t) for t in zip(*outs))
        if concat:
            labels = torch.cat(labels, 0)
            label_weights = torch.cat(label_weights, 0)
            bbox_targets = torch.cat(bbox_targets, 0)
            bbox_weights = torch.cat(bbox_weights, 0)
        return labels, label_weights, bbox_targets, bbox_weights

    def loss_and_target(
        self, cls_score, bbox_pred, rois, sampling_results, rcnn_train_cfg, concat=True, reduction_override=None
    ) -> dict:
        cls_reg_targets = self.get_targets(sampling_results, rcnn_train_cfg, concat=concat)
        losses = self.loss(cls_score, bbox_pred, rois, *cls_reg_targets, reduction_override=reduction_override)
        return dict(loss_bbox=losses, bbox_targets=cls_reg_targets)

    def loss(
        self, cls_score, bbox_pred, rois, labels, label_weights, bbox_targets, bbox_weights, reduction_override=None
    ) -> dict:
        losses = dict()
        if cls_score is not None:
            avg_factor = max(float(torch.sum(label_weights > 0).item()), 1.0)
            if cls_score.numel() > 0:
                losses["loss_cls"] = self.loss_cls(
                    cls_score, labels, label_weights, avg_factor=avg_factor, reduction_override=reduction_override
                )
                losses["acc"] = accuracy(cls_score.detach(), labels)
            else:
                losses["loss_cls"] = cls_score.sum()
        if bbox_pred is not None:
            pos_inds = (labels >= 0) & (labels < self.num_classes)
            if pos_inds.any():
                if self.reg_decoded_bbox:
                    bbox_pred = get_box_tensor(self.bbox_coder.decode(rois[:, 1:], bbox_pred))
                if self.reg_class_agnostic:
                    pos_bbox_pred = bbox_pred.view(bbox_pred.size(0), -1)[pos_inds]
                else:
                    per_cls = bbox_pred.view(bbox_pred.size(0), self.num_classes, -1)
                    pos_bbox_pred = per_cls[pos_inds, labels[pos_inds]]
                losses["loss_bbox"] = self.loss_bbox(
                    pos_bbox_pred,
                    bbox_targets[pos_inds],
                    bbox_weights[pos_inds],
                    avg_factor=bbox_targets.size(0),
                    reduction_override=reduction_override,
                )
            else:
                # No positive RoI: a zero that still depends on the regression branch.
                losses["loss_bbox"] = bbox_pred[pos_inds].sum()
        return losses

    # ---------------------------------------------------------------- inference
    def predict_by_feat(
        self,
        rois: tuple,
        cls_scores: tuple,
        bbox_preds: tuple,
        batch_img_metas: list[dict],
        rcnn_test_cfg=None,
        rescale: bool = False,
    ) -> list:
        """Per image: softmax scores, decoded per-class boxes, then per-class NMS (skipped without a test cfg)."""
        if not (len(cls_scores) == len(bbox_preds) == len(rois) == len(batch_img_metas)):
            raise ValueError(
                f"BBoxHead.predict_by_feat: {len(rois)} roi groups, {len(cls_scores)} score groups, "
                f"{len(bbox_preds)} box groups and {len(batch_img_metas)} image metas must be equal in number"
            )
        return [
            self._predict_by_feat_single(
                rois[i], cls_scores[i], bbox_preds[i], batch_img_metas[i], rescale, rcnn_test_cfg
            )
            for i in range(len(batch_img_metas))
        ]

    def _predict_by_feat_single(self, roi, cls_score, bbox_pred, img_meta, rescale=False, rcnn_test_cfg=None):
        from vk_core.structures import InstanceData

        results = InstanceData()
        if roi.shape[0] == 0:
            return empty_instances(
                [img_meta],
                roi.device,
                task_type="bbox",
                instance_results=[results],
                num_classes=self.num_classes,
                score_per_cls=rcnn_test_cfg is None,
            )[0]
        if self.custom_cls_channels:
            scores = self.loss_cls.get_activation(cls_score)
        else:
            scores = F.softmax(cls_score, dim=-1) if cls_score is not None else None
        img_shape = img_meta.get("img_shape")
        num_rois = roi.size(0)
        if bbox_pred is not None:
            num_classes = 1 if self.reg_class_agnostic else self.num_classes
            roi = roi.repeat_interleave(num_classes, dim=0)
            bbox_pred = bbox_pred.reshape(-1, self.box_dim)
            bboxes = get_box_tensor(self.bbox_coder.decode(roi[..., 1:], bbox_pred, max_shape=img_shape))
        else:
            bboxes = roi[:, 1:].clone()
            if img_shape is not None:
                bboxes[:, 0::2].clamp_(min=0, max=img_shape[1])
                bboxes[:, 1::2].clamp_(min=0, max=img_shape[0])
        if rescale and bboxes.size(0) > 0:
            if "scale_factor" not in img_meta:
                raise KeyError("BBoxHead: rescale=True needs 'scale_factor' in the image meta")
            sx, sy = img_meta["scale_factor"][:2]
            bboxes = bboxes / bboxes.new_tensor([sx, sy, sx, sy])
        bboxes = bboxes.view(num_rois, -1)
        if rcnn_test_cfg is None:
            # Raw per-class boxes and scores, for test-time augmentation merging.
            results.bboxes = bboxes
            results.scores = scores
        else:
            det_bboxes, det_labels = multiclass_nms(
                bboxes,
                scores,
                _cfg_get(rcnn_test_cfg, "score_thr", 0.05),
                _cfg_get(rcnn_test_cfg, "nms", dict(type="nms", iou_threshold=0.5)),
                _cfg_get(rcnn_test_cfg, "max_per_img", 100),
                box_dim=self.box_dim,
            )
            results.bboxes = det_bboxes[:, :-1]
            results.scores = det_bboxes[:, -1]
            results.labels = det_labels
        return results
