"""ATSSHead (Zhang et al. 2020): RetinaNet-like towers with GN, one anchor per location, centerness branch."""

from __future__ import annotations

import torch
import torch.nn as nn

from vk_det.models._compat import MODELS, ConvModule, InstanceData, Scale
from vk_det.models.dense_heads.anchor_head import AnchorHead, bias_init_with_prob
from vk_det.models.dense_heads.base_dense_head import reduce_mean
from vk_det.models.dense_heads.retina_head import _pretrained
from vk_det.models.utils import images_to_levels, multi_apply, unmap


def centerness_from_anchors(anchors, gts):
    """sqrt(min(l, r)/max(l, r) * min(t, b)/max(t, b)) of anchor centres w.r.t. their ground truths."""
    cx = (anchors[:, 2] + anchors[:, 0]) / 2
    cy = (anchors[:, 3] + anchors[:, 1]) / 2
    lr = torch.stack([cx - gts[:, 0], gts[:, 2] - cx], dim=1)
    tb = torch.stack([cy - gts[:, 1], gts[:, 3] - cy], dim=1)
    return torch.sqrt((lr.min(dim=-1).values / lr.max(dim=-1).values) * (tb.min(dim=-1).values / tb.max(dim=-1).values))


@MODELS.register_module()
class ATSSHead(AnchorHead):
    def __init__(
        self,
        num_classes,
        in_channels,
        pred_kernel_size=3,
        stacked_convs=4,
        conv_cfg=None,
        norm_cfg=dict(type="GN", num_groups=32, requires_grad=True),  # noqa: B006
        reg_decoded_bbox=True,
        loss_centerness=dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=1.0),  # noqa: B006
        init_cfg=dict(  # noqa: B006
            type="Normal",
            layer="Conv2d",
            std=0.01,
            override=dict(type="Normal", name="atss_cls", std=0.01, bias_prob=0.01),
        ),  # fmt: skip
        **kwargs,
    ):
        self.pred_kernel_size = pred_kernel_size
        self.stacked_convs = stacked_convs
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        super().__init__(num_classes, in_channels, reg_decoded_bbox=reg_decoded_bbox, init_cfg=init_cfg, **kwargs)
        self.loss_centerness = MODELS.build(loss_centerness)

    def _init_layers(self):
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs = nn.ModuleList()
        self.reg_convs = nn.ModuleList()
        chn = self.in_channels
        for _ in range(self.stacked_convs):
            for tower in (self.cls_convs, self.reg_convs):
                tower.append(
                    ConvModule(
                        chn, self.feat_channels, 3, stride=1, padding=1, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg
                    )  # fmt: skip
                )
            chn = self.feat_channels
        pad = self.pred_kernel_size // 2
        k = self.pred_kernel_size
        self.atss_cls = nn.Conv2d(self.feat_channels, self.num_anchors * self.cls_out_channels, k, padding=pad)
        self.atss_reg = nn.Conv2d(
            self.feat_channels, self.num_base_priors * self.bbox_coder.encode_size, k, padding=pad
        )
        self.atss_centerness = nn.Conv2d(self.feat_channels, self.num_base_priors, k, padding=pad)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.prior_generator.strides])

    def init_weights(self):
        super().init_weights()
        if not _pretrained(self.init_cfg):
            nn.init.normal_(self.atss_cls.weight, std=0.01)
            nn.init.constant_(self.atss_cls.bias, bias_init_with_prob(0.01))

    def forward(self, x):
        return multi_apply(self.forward_single, x, self.scales)

    def forward_single(self, x, scale):
        cls_feat = x
        reg_feat = x
        for conv in self.cls_convs:
            cls_feat = conv(cls_feat)
        for conv in self.reg_convs:
            reg_feat = conv(reg_feat)
        cls_score = self.atss_cls(cls_feat)
        # Scale is learned per level because the levels share the regression conv.
        bbox_pred = scale(self.atss_reg(reg_feat)).float()
        centerness = self.atss_centerness(reg_feat)
        return cls_score, bbox_pred, centerness

    def loss_by_feat_single(self, anchors, cls_score, bbox_pred, centerness, labels, label_weights, bbox_targets,
                            avg_factor):  # fmt: skip
        anchors = anchors.reshape(-1, 4)
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels).contiguous()
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, 4)
        centerness = centerness.permute(0, 2, 3, 1).reshape(-1)
        bbox_targets = bbox_targets.reshape(-1, 4)
        labels = labels.reshape(-1)
        label_weights = label_weights.reshape(-1)
        loss_cls = self.loss_cls(cls_score, labels, label_weights, avg_factor=avg_factor)
        pos_inds = ((labels >= 0) & (labels < self.num_classes)).nonzero().squeeze(1)
        if len(pos_inds) > 0:
            pos_targets = bbox_targets[pos_inds]
            pos_anchors = anchors[pos_inds]
            centerness_targets = centerness_from_anchors(pos_anchors, pos_targets)
            pos_decoded = self.bbox_coder.decode(pos_anchors, bbox_pred[pos_inds])
            loss_bbox = self.loss_bbox(pos_decoded, pos_targets, weight=centerness_targets, avg_factor=1.0)
            loss_centerness = self.loss_centerness(centerness[pos_inds], centerness_targets, avg_factor=avg_factor)
        else:
            loss_bbox = bbox_pred.sum() * 0
            loss_centerness = centerness.sum() * 0
            centerness_targets = bbox_targets.new_tensor(0.0)
        return loss_cls, loss_bbox, loss_centerness, centerness_targets.sum()

    def loss_by_feat(self, cls_scores, bbox_preds, centernesses, batch_gt_instances, batch_img_metas,
                     batch_gt_instances_ignore=None):  # fmt: skip
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        device = cls_scores[0].device
        anchor_list, valid_flag_list = self.get_anchors(featmap_sizes, batch_img_metas, device=device)
        anchors, labels, label_weights, bbox_targets, _, avg_factor = self.get_targets(
            anchor_list, valid_flag_list, batch_gt_instances, batch_img_metas, batch_gt_instances_ignore
        )
        avg_factor = reduce_mean(torch.tensor(avg_factor, dtype=torch.float, device=device)).item()
        losses_cls, losses_bbox, losses_centerness, bbox_avg = multi_apply(
            self.loss_by_feat_single,
            anchors,
            cls_scores,
            bbox_preds,
            centernesses,
            labels,
            label_weights,
            bbox_targets,
            avg_factor=avg_factor,
        )
        # The box loss is weighted by centerness, so it is normalised by the summed centerness targets.
        bbox_avg = reduce_mean(sum(bbox_avg)).clamp_(min=1).item()
        losses_bbox = [loss / bbox_avg for loss in losses_bbox]
        return dict(loss_cls=losses_cls, loss_bbox=losses_bbox, loss_centerness=losses_centerness)

    def get_targets(self, anchor_list, valid_flag_list, batch_gt_instances, batch_img_metas,
                    batch_gt_instances_ignore=None, unmap_outputs=True):  # fmt: skip
        num_imgs = len(batch_img_metas)
        if batch_gt_instances_ignore is None:
            batch_gt_instances_ignore = [None] * num_imgs
        num_level_anchors = [a.size(0) for a in anchor_list[0]]
        concat_anchors = [torch.cat(a) for a in anchor_list]
        concat_flags = [torch.cat(f) for f in valid_flag_list]
        (all_anchors, all_labels, all_label_weights, all_bbox_targets, all_bbox_weights, _, _,
         sampling_results) = multi_apply(
            self._get_targets_single,
            concat_anchors,
            concat_flags,
            [num_level_anchors] * num_imgs,
            batch_gt_instances,
            batch_img_metas,
            batch_gt_instances_ignore,
            unmap_outputs=unmap_outputs,
        )  # fmt: skip
        avg_factor = sum(r.avg_factor for r in sampling_results)
        return (
            images_to_levels(all_anchors, num_level_anchors),
            images_to_levels(all_labels, num_level_anchors),
            images_to_levels(all_label_weights, num_level_anchors),
            images_to_levels(all_bbox_targets, num_level_anchors),
            images_to_levels(all_bbox_weights, num_level_anchors),
            avg_factor,
        )

    def _get_targets_single(self, flat_anchors, valid_flags, num_level_anchors, gt_instances, img_meta,
                            gt_instances_ignore=None, unmap_outputs=True):  # fmt: skip
        inside = self._inside(flat_anchors, valid_flags, img_meta)
        anchors = flat_anchors[inside]
        num_inside = [int(f.sum()) for f in torch.split(inside, num_level_anchors)]
        pred_instances = InstanceData(priors=anchors)
        assign_result = self.assigner.assign(pred_instances, num_inside, gt_instances, gt_instances_ignore)
        sampling_result = self.sampler.sample(assign_result, pred_instances, gt_instances)
        labels, label_weights, bbox_targets, bbox_weights = self._targets_from_sampling(
            anchors, gt_instances, sampling_result
        )
        if unmap_outputs:
            total = flat_anchors.size(0)
            anchors = unmap(anchors, total, inside)
            labels = unmap(labels, total, inside, fill=self.num_classes)
            label_weights = unmap(label_weights, total, inside)
            bbox_targets = unmap(bbox_targets, total, inside)
            bbox_weights = unmap(bbox_weights, total, inside)
        return (anchors, labels, label_weights, bbox_targets, bbox_weights, sampling_result.pos_inds,
                sampling_result.neg_inds, sampling_result)  # fmt: skip
