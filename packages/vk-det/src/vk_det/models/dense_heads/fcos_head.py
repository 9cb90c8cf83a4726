"""FCOSHead (Tian et al. 2019): per-point classification, (l, t, r, b) distances and centerness."""

from __future__ import annotations

import torch
import torch.nn as nn

from vk_det.models._compat import MODELS, Scale
from vk_det.models.dense_heads.anchor_free_head import INF, AnchorFreeHead
from vk_det.models.dense_heads.base_dense_head import reduce_mean
from vk_det.models.utils import multi_apply


@MODELS.register_module()
class FCOSHead(AnchorFreeHead):
    """FCOS head.

    Args:
        regress_ranges: per level, the (min, max) of a point's largest target distance it is responsible for.
        center_sampling: only points within ``center_sample_radius * stride`` of a box centre are positive.
        norm_on_bbox: regress distances divided by the level stride (with ReLU instead of exp).
        centerness_on_reg: centerness branch on the regression tower instead of the classification tower.
    """

    def __init__(
        self,
        num_classes,
        in_channels,
        regress_ranges=((-1, 64), (64, 128), (128, 256), (256, 512), (512, INF)),
        center_sampling=False,
        center_sample_radius=1.5,
        norm_on_bbox=False,
        centerness_on_reg=False,
        loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),  # noqa: B006
        loss_bbox=dict(type="IoULoss", loss_weight=1.0),  # noqa: B006
        loss_centerness=dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=1.0),  # noqa: B006
        norm_cfg=dict(type="GN", num_groups=32, requires_grad=True),  # noqa: B006
        init_cfg=dict(  # noqa: B006
            type="Normal",
            layer="Conv2d",
            std=0.01,
            override=dict(type="Normal", name="conv_cls", std=0.01, bias_prob=0.01),
        ),  # fmt: skip
        **kwargs,
    ):
        self.regress_ranges = regress_ranges
        self.center_sampling = center_sampling
        self.center_sample_radius = center_sample_radius
        self.norm_on_bbox = norm_on_bbox
        self.centerness_on_reg = centerness_on_reg
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, loss_bbox=loss_bbox, norm_cfg=norm_cfg,
                         init_cfg=init_cfg, **kwargs)  # fmt: skip
        if len(regress_ranges) != len(self.strides):
            raise ValueError(f"FCOSHead: {len(regress_ranges)} regress_ranges for {len(self.strides)} strides")
        self.loss_centerness = MODELS.build(loss_centerness)

    def _init_layers(self):
        super()._init_layers()
        self.conv_centerness = nn.Conv2d(self.feat_channels, 1, 3, padding=1)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.strides])

    def forward(self, x):
        return multi_apply(self.forward_single, x, self.scales, self.strides)

    def forward_single(self, x, scale, stride):
        cls_score, bbox_pred, cls_feat, reg_feat = super().forward_single(x)
        centerness = self.conv_centerness(reg_feat if self.centerness_on_reg else cls_feat)
        bbox_pred = scale(bbox_pred).float()
        if self.norm_on_bbox:
            # Distances are learned in stride units; predictions are turned back into pixels at test time.
            bbox_pred = bbox_pred.clamp(min=0)
            if not self.training:
                bbox_pred = bbox_pred * stride
        else:
            bbox_pred = bbox_pred.exp()
        return cls_score, bbox_pred, centerness

    def loss_by_feat(self, cls_scores, bbox_preds, centernesses, batch_gt_instances, batch_img_metas,
                     batch_gt_instances_ignore=None):  # fmt: skip
        if not len(cls_scores) == len(bbox_preds) == len(centernesses):
            raise ValueError("FCOSHead.loss_by_feat: cls_scores, bbox_preds and centernesses need the same levels")
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        points = self.prior_generator.grid_priors(featmap_sizes, dtype=bbox_preds[0].dtype, device=bbox_preds[0].device)
        labels, bbox_targets = self.get_targets(points, batch_gt_instances)
        num_imgs = cls_scores[0].size(0)
        flat_cls = torch.cat([s.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels) for s in cls_scores])
        flat_box = torch.cat([b.permute(0, 2, 3, 1).reshape(-1, 4) for b in bbox_preds])
        flat_ctr = torch.cat([c.permute(0, 2, 3, 1).reshape(-1) for c in centernesses])
        flat_labels = torch.cat(labels)
        flat_targets = torch.cat(bbox_targets)
        flat_points = torch.cat([p.repeat(num_imgs, 1) for p in points])

        pos_inds = ((flat_labels >= 0) & (flat_labels < self.num_classes)).nonzero().reshape(-1)
        num_pos = torch.tensor(len(pos_inds), dtype=torch.float, device=bbox_preds[0].device)
        num_pos = max(reduce_mean(num_pos), 1.0)
        loss_cls = self.loss_cls(flat_cls, flat_labels, avg_factor=num_pos)
        pos_box = flat_box[pos_inds]
        pos_ctr = flat_ctr[pos_inds]
        pos_targets = flat_targets[pos_inds]
        ctr_targets = self.centerness_target(pos_targets)
        ctr_denorm = max(reduce_mean(ctr_targets.sum().detach()), 1e-6)
        if len(pos_inds) > 0:
            pos_points = flat_points[pos_inds]
            decoded_pred = self.bbox_coder.decode(pos_points, pos_box)
            decoded_target = self.bbox_coder.decode(pos_points, pos_targets)
            loss_bbox = self.loss_bbox(decoded_pred, decoded_target, weight=ctr_targets, avg_factor=ctr_denorm)
            loss_centerness = self.loss_centerness(pos_ctr, ctr_targets, avg_factor=num_pos)
        else:
            loss_bbox = pos_box.sum()
            loss_centerness = pos_ctr.sum()
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox, loss_centerness=loss_centerness)

    def get_targets(self, points, batch_gt_instances):
        """Per level, the labels and (l, t, r, b) targets of every image's points, images concatenated."""
        num_levels = len(points)
        if num_levels != len(self.regress_ranges):
            raise ValueError(f"FCOSHead: {num_levels} point levels for {len(self.regress_ranges)} regress_ranges")
        ranges = torch.cat([p.new_tensor(self.regress_ranges[i])[None].expand_as(p) for i, p in enumerate(points)])
        concat_points = torch.cat(points)
        num_points = [p.size(0) for p in points]
        labels_list, targets_list = multi_apply(
            self._get_targets_single, batch_gt_instances, points=concat_points, regress_ranges=ranges,
            num_points_per_lvl=num_points,
        )  # fmt: skip
        labels_list = [labels.split(num_points, 0) for labels in labels_list]
        targets_list = [t.split(num_points, 0) for t in targets_list]
        lvl_labels, lvl_targets = [], []
        for i in range(num_levels):
            lvl_labels.append(torch.cat([labels[i] for labels in labels_list]))
            targets = torch.cat([t[i] for t in targets_list])
            if self.norm_on_bbox:
                targets = targets / self.strides[i]
            lvl_targets.append(targets)
        return lvl_labels, lvl_targets

    def _get_targets_single(self, gt_instances, points, regress_ranges, num_points_per_lvl):
        num_points = points.size(0)
        gt_bboxes = gt_instances.bboxes
        gt_labels = gt_instances.labels
        num_gts = gt_bboxes.shape[0]
        if num_gts == 0:
            return gt_labels.new_full((num_points,), self.num_classes), gt_bboxes.new_zeros((num_points, 4))
        areas = ((gt_bboxes[:, 2] - gt_bboxes[:, 0]) * (gt_bboxes[:, 3] - gt_bboxes[:, 1]))[None].repeat(num_points, 1)
        regress_ranges = regress_ranges[:, None, :].expand(num_points, num_gts, 2)
        gt = gt_bboxes[None].expand(num_points, num_gts, 4)
        xs = points[:, 0][:, None].expand(num_points, num_gts)
        ys = points[:, 1][:, None].expand(num_points, num_gts)
        bbox_targets = torch.stack((xs - gt[..., 0], ys - gt[..., 1], gt[..., 2] - xs, gt[..., 3] - ys), -1)
        if self.center_sampling:
            # Positives only within radius * stride of the box centre (clipped to the box).
            cx = (gt[..., 0] + gt[..., 2]) / 2
            cy = (gt[..., 1] + gt[..., 3]) / 2
            stride = cx.new_zeros(cx.shape)
            start = 0
            for lvl, n in enumerate(num_points_per_lvl):
                stride[start : start + n] = self.strides[lvl] * self.center_sample_radius
                start += n
            x1 = torch.maximum(cx - stride, gt[..., 0])
            y1 = torch.maximum(cy - stride, gt[..., 1])
            x2 = torch.minimum(cx + stride, gt[..., 2])
            y2 = torch.minimum(cy + stride, gt[..., 3])
            center_box = torch.stack((xs - x1, ys - y1, x2 - xs, y2 - ys), -1)
            inside_gt = center_box.min(-1).values > 0
        else:
            inside_gt = bbox_targets.min(-1).values > 0
        max_dist = bbox_targets.max(-1).values
        inside_range = (max_dist >= regress_ranges[..., 0]) & (max_dist <= regress_ranges[..., 1])
        areas[~inside_gt] = INF
        areas[~inside_range] = INF
        # Ambiguous points go to the smallest box.
        min_area, min_area_inds = areas.min(dim=1)
        labels = gt_labels[min_area_inds]
        labels[min_area == INF] = self.num_classes
        bbox_targets = bbox_targets[range(num_points), min_area_inds]
        return labels, bbox_targets

    @staticmethod
    def centerness_target(pos_bbox_targets):
        lr = pos_bbox_targets[:, [0, 2]]
        tb = pos_bbox_targets[:, [1, 3]]
        if len(lr) == 0:
            return lr[..., 0]
        ratio = (lr.min(dim=-1).values / lr.max(dim=-1).values) * (tb.min(dim=-1).values / tb.max(dim=-1).values)
        return torch.sqrt(ratio)
