"""AnchorHead: anchors per location, assigner/sampler targets, classification + box regression losses."""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from vk_det.models._compat import MODELS, TASK_UTILS, InstanceData
from vk_det.models.dense_heads.base_dense_head import BaseDenseHead
from vk_det.models.task_modules.samplers import PseudoSampler
from vk_det.models.utils import images_to_levels, multi_apply, unmap


def bias_init_with_prob(prior_prob):
    """Bias making ``sigmoid(bias) == prior_prob``: rare positives start with a small, stable loss."""
    return float(-math.log((1 - prior_prob) / prior_prob))


def anchor_inside_flags(flat_anchors, valid_flags, img_shape, allowed_border=0):
    """Valid anchors lying inside ``img_shape`` (h, w) extended by ``allowed_border`` (< 0: no check)."""
    img_h, img_w = img_shape[:2]
    if allowed_border < 0:
        return valid_flags
    return (
        valid_flags
        & (flat_anchors[:, 0] >= -allowed_border)
        & (flat_anchors[:, 1] >= -allowed_border)
        & (flat_anchors[:, 2] < img_w + allowed_border)
        & (flat_anchors[:, 3] < img_h + allowed_border)
    )


def _get(cfg, key, default=None):
    return cfg.get(key, default) if cfg is not None else default


@MODELS.register_module()
class AnchorHead(BaseDenseHead):
    """A 1x1-conv anchor head (the base of RetinaHead, ATSSHead and RPNHead).

    Args:
        num_classes: foreground classes (background is index ``num_classes``).
        in_channels: channels of each input level.
        anchor_generator, bbox_coder: task-module configs.
        reg_decoded_bbox: regress decoded boxes (IoU-type losses) instead of deltas.
        loss_cls, loss_bbox: loss configs; ``loss_cls.use_sigmoid`` decides sigmoid vs softmax scores.
        train_cfg: ``assigner``, optional ``sampler`` (default PseudoSampler), ``allowed_border``, ``pos_weight``.
        test_cfg: ``nms_pre``, ``score_thr``, ``min_bbox_size``, ``nms``, ``max_per_img``.
    """

    def __init__(
        self,
        num_classes,
        in_channels,
        feat_channels=256,
        anchor_generator=dict(  # noqa: B006
            type="AnchorGenerator", scales=[8, 16, 32], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64]
        ),
        bbox_coder=dict(type="DeltaXYWHBBoxCoder", clip_border=True, target_means=(0.0,) * 4, target_stds=(1.0,) * 4),  # noqa: B006
        reg_decoded_bbox=False,
        loss_cls=dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=1.0),  # noqa: B006
        loss_bbox=dict(type="SmoothL1Loss", beta=1.0 / 9.0, loss_weight=1.0),  # noqa: B006
        train_cfg=None,
        test_cfg=None,
        init_cfg=dict(type="Normal", layer="Conv2d", std=0.01),  # noqa: B006
    ):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"{type(self).__name__}: num_classes must be a positive int, got {num_classes!r}")
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.feat_channels = feat_channels
        self.use_sigmoid_cls = loss_cls.get("use_sigmoid", False)
        self.cls_out_channels = num_classes if self.use_sigmoid_cls else num_classes + 1
        self.reg_decoded_bbox = reg_decoded_bbox
        self.bbox_coder = TASK_UTILS.build(bbox_coder)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        if train_cfg:
            self.assigner = TASK_UTILS.build(train_cfg["assigner"])
            sampler = train_cfg.get("sampler")
            self.sampler = TASK_UTILS.build(sampler) if sampler is not None else PseudoSampler()
        self.prior_generator = TASK_UTILS.build(anchor_generator)
        self.num_base_priors = self.prior_generator.num_base_priors[0]
        self._init_layers()

    @property
    def num_anchors(self):
        return self.num_base_priors

    def _init_layers(self):
        self.conv_cls = nn.Conv2d(self.in_channels, self.num_base_priors * self.cls_out_channels, 1)
        self.conv_reg = nn.Conv2d(self.in_channels, self.num_base_priors * self.bbox_coder.encode_size, 1)

    def forward_single(self, x):
        return self.conv_cls(x), self.conv_reg(x)

    def forward(self, x):
        return multi_apply(self.forward_single, x)

    # ------------------------------------------------------------------------------------------- targets
    def get_anchors(self, featmap_sizes, batch_img_metas, device="cuda"):
        multi_level = self.prior_generator.grid_priors(featmap_sizes, device=device)
        anchor_list = [multi_level for _ in batch_img_metas]
        valid_flag_list = [
            self.prior_generator.valid_flags(featmap_sizes, meta.get("pad_shape", meta["img_shape"]), device)
            for meta in batch_img_metas
        ]
        return anchor_list, valid_flag_list

    def _targets_from_sampling(self, anchors, gt_instances, sampling_result):
        num_valid = anchors.shape[0]
        target_dim = 4 if self.reg_decoded_bbox else self.bbox_coder.encode_size
        bbox_targets = anchors.new_zeros(num_valid, target_dim)
        bbox_weights = anchors.new_zeros(num_valid, target_dim)
        labels = anchors.new_full((num_valid,), self.num_classes, dtype=torch.long)
        label_weights = anchors.new_zeros(num_valid, dtype=torch.float)
        pos_inds, neg_inds = sampling_result.pos_inds, sampling_result.neg_inds
        if len(pos_inds) > 0:
            if self.reg_decoded_bbox:
                pos_targets = sampling_result.pos_gt_bboxes
            else:
                pos_targets = self.bbox_coder.encode(sampling_result.pos_priors, sampling_result.pos_gt_bboxes)
            bbox_targets[pos_inds] = pos_targets.to(bbox_targets)
            bbox_weights[pos_inds] = 1.0
            labels[pos_inds] = sampling_result.pos_gt_labels
            pos_weight = _get(self.train_cfg, "pos_weight", -1)
            label_weights[pos_inds] = 1.0 if pos_weight <= 0 else pos_weight
        if len(neg_inds) > 0:
            label_weights[neg_inds] = 1.0
        return labels, label_weights, bbox_targets, bbox_weights

    def _inside(self, flat_anchors, valid_flags, img_meta):
        inside = anchor_inside_flags(
            flat_anchors, valid_flags, img_meta["img_shape"][:2], _get(self.train_cfg, "allowed_border", -1)
        )
        if not inside.any():
            raise ValueError(
                f"no anchor lies inside image {img_meta.get('img_path', '?')} of shape {img_meta['img_shape']}; "
                "check the image size, the anchor strides and train_cfg.allowed_border"
            )
        return inside

    def _get_targets_single(self, flat_anchors, valid_flags, gt_instances, img_meta, gt_instances_ignore=None,
                            unmap_outputs=True):  # fmt: skip
        inside = self._inside(flat_anchors, valid_flags, img_meta)
        anchors = flat_anchors[inside]
        pred_instances = InstanceData(priors=anchors)
        assign_result = self.assigner.assign(pred_instances, gt_instances, gt_instances_ignore)
        sampling_result = self.sampler.sample(assign_result, pred_instances, gt_instances)
        labels, label_weights, bbox_targets, bbox_weights = self._targets_from_sampling(
            anchors, gt_instances, sampling_result
        )
        if unmap_outputs:
            total = flat_anchors.size(0)
            labels = unmap(labels, total, inside, fill=self.num_classes)
            label_weights = unmap(label_weights, total, inside)
            bbox_targets = unmap(bbox_targets, total, inside)
            bbox_weights = unmap(bbox_weights, total, inside)
        return (labels, label_weights, bbox_targets, bbox_weights, sampling_result.pos_inds,
                sampling_result.neg_inds, sampling_result)  # fmt: skip

    def get_targets(self, anchor_list, valid_flag_list, batch_gt_instances, batch_img_metas,
                    batch_gt_instances_ignore=None, unmap_outputs=True, return_sampling_results=False):  # fmt: skip
        num_imgs = len(batch_img_metas)
        if len(anchor_list) != num_imgs or len(valid_flag_list) != num_imgs or len(batch_gt_instances) != num_imgs:
            raise ValueError(
                "get_targets: anchors, valid flags, ground truths and metas must all have one entry per image"
            )
        if batch_gt_instances_ignore is None:
            batch_gt_instances_ignore = [None] * num_imgs
        num_level_anchors = [a.size(0) for a in anchor_list[0]]
        concat_anchors = [torch.cat(a) for a in anchor_list]
        concat_flags = [torch.cat(f) for f in valid_flag_list]
        results = multi_apply(
            self._get_targets_single,
            concat_anchors,
            concat_flags,
            batch_gt_instances,
            batch_img_metas,
            batch_gt_instances_ignore,
            unmap_outputs=unmap_outputs,
        )
        all_labels, all_label_weights, all_bbox_targets, all_bbox_weights, _, _, sampling_results = results[:7]
        self._raw_positive_infos.update(sampling_results=sampling_results)
        avg_factor = sum(r.avg_factor for r in sampling_results)
        res = (
            images_to_levels(all_labels, num_level_anchors),
            images_to_levels(all_label_weights, num_level_anchors),
            images_to_levels(all_bbox_targets, num_level_anchors),
            images_to_levels(all_bbox_weights, num_level_anchors),
            avg_factor,
        )
        if return_sampling_results:
            res = res + (sampling_results,)
        return res

    # ------------------------------------------------------------------------------------------- losses
    def loss_by_feat_single(self, cls_score, bbox_pred, anchors, labels, label_weights, bbox_targets, bbox_weights,
                            avg_factor):  # fmt: skip
        labels = labels.reshape(-1)
        label_weights = label_weights.reshape(-1)
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
        loss_cls = self.loss_cls(cls_score, labels, label_weights, avg_factor=avg_factor)
        target_dim = bbox_targets.size(-1)
        bbox_targets = bbox_targets.reshape(-1, target_dim)
        bbox_weights = bbox_weights.reshape(-1, target_dim)
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, self.bbox_coder.encode_size)
        if self.reg_decoded_bbox:
            anchors = anchors.reshape(-1, anchors.size(-1))
            bbox_pred = self.bbox_coder.decode(anchors, bbox_pred)
        loss_bbox = self.loss_bbox(bbox_pred, bbox_targets, bbox_weights, avg_factor=avg_factor)
        return loss_cls, loss_bbox

    def loss_by_feat(self, cls_scores, bbox_preds, batch_gt_instances, batch_img_metas, batch_gt_instances_ignore=None):
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        if len(featmap_sizes) != self.prior_generator.num_levels:
            raise ValueError(
                f"{type(self).__name__}: got {len(featmap_sizes)} feature levels, the anchor generator has "
                f"{self.prior_generator.num_levels}"
            )
        device = cls_scores[0].device
        anchor_list, valid_flag_list = self.get_anchors(featmap_sizes, batch_img_metas, device=device)
        labels, label_weights, bbox_targets, bbox_weights, avg_factor = self.get_targets(
            anchor_list, valid_flag_list, batch_gt_instances, batch_img_metas, batch_gt_instances_ignore
        )
        num_level_anchors = [a.size(0) for a in anchor_list[0]]
        all_anchors = images_to_levels([torch.cat(a) for a in anchor_list], num_level_anchors)
        losses_cls, losses_bbox = multi_apply(
            self.loss_by_feat_single,
            cls_scores,
            bbox_preds,
            all_anchors,
            labels,
            label_weights,
            bbox_targets,
            bbox_weights,
            avg_factor=avg_factor,
        )
        return dict(loss_cls=losses_cls, loss_bbox=losses_bbox)
