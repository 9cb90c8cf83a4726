"""StandardRoIHead: sample proposals, pool RoI features, and run the box (and optional mask) branch."""

from __future__ import annotations

import torch
from torch import Tensor

from vk_det.registry import MODELS, TASK_UTILS

from .base_roi_head import BaseRoIHead
from .utils import bbox2roi, empty_instances, get_box_tensor


def _cfg_get(cfg, key, default=None):
    if cfg is None:
        return default
    return cfg.get(key, default) if isinstance(cfg, dict) else getattr(cfg, key, default)


def _unpack_gt_instances(batch_data_samples) -> tuple[list, list, list[dict]]:
    gts, ignores, metas = [], [], []
    for i, sample in enumerate(batch_data_samples):
        if "gt_instances" not in sample:
            raise KeyError(f"StandardRoIHead.loss: data sample {i} has no gt_instances")
        gts.append(sample.gt_instances)
        ignores.append(sample.get("ignored_instances", None))
        metas.append(sample.metainfo)
    return gts, ignores, metas


@MODELS.register_module()
class StandardRoIHead(BaseRoIHead):
    """The Faster/Mask R-CNN second stage."""

    def init_assigner_sampler(self) -> None:
        self.bbox_assigner = None
        self.bbox_sampler = None
        if self.train_cfg:
            assigner = _cfg_get(self.train_cfg, "assigner")
            sampler = _cfg_get(self.train_cfg, "sampler")
            if assigner is None or sampler is None:
                raise KeyError("StandardRoIHead: train_cfg (rcnn) needs 'assigner' and 'sampler'")
            self.bbox_assigner = TASK_UTILS.build(assigner)
            self.bbox_sampler = TASK_UTILS.build(sampler, default_args=dict(context=self))

    def init_bbox_head(self, bbox_roi_extractor, bbox_head) -> None:
        if bbox_roi_extractor is None:
            raise ValueError("StandardRoIHead: bbox_head needs a bbox_roi_extractor")
        self.bbox_roi_extractor = MODELS.build(bbox_roi_extractor)
        self.bbox_head = MODELS.build(bbox_head)

    def init_mask_head(self, mask_roi_extractor, mask_head) -> None:
        if mask_roi_extractor is not None:
            self.mask_roi_extractor = MODELS.build(mask_roi_extractor)
            self.share_roi_extractor = False
        else:
            self.share_roi_extractor = True
            self.mask_roi_extractor = self.bbox_roi_extractor
        self.mask_head = MODELS.build(mask_head)

    # ---------------------------------------------------------------- tensor mode
    def forward(self, x: tuple[Tensor], rpn_results_list, batch_data_samples=None) -> tuple:
        """Raw head outputs for the proposals (``mode='tensor'``): (cls_score, bbox_pred[, mask_preds])."""
        results = ()
        proposals = [get_box_tensor(rpn_results.bboxes) for rpn_results in rpn_results_list]
        rois = bbox2roi(proposals)
        if self.with_bbox:
            bbox_results = self._bbox_forward(x, rois)
            results = results + (bbox_results["cls_score"], bbox_results["bbox_pred"])
        if self.with_mask:
            mask_results = self._mask_forward(x, rois[:100])
            results = results + (mask_results["mask_preds"],)
        return results

    # ---------------------------------------------------------------- training
    def loss(self, x: tuple[Tensor], rpn_results_list, batch_data_samples) -> dict:
        if len(rpn_results_list) != len(batch_data_samples):
            raise ValueError(
                f"StandardRoIHead.loss: {len(rpn_results_list)} proposal sets for {len(batch_data_samples)} images"
            )
        if self.bbox_assigner is None:
            raise RuntimeError("StandardRoIHead.loss: built without train_cfg, so there is no assigner/sampler")
        batch_gt_instances, batch_gt_instances_ignore, _ = _unpack_gt_instances(batch_data_samples)
        sampling_results = []
        for i, rpn_results in enumerate(rpn_results_list):
            # The assigner reads proposals as ``priors``; do not touch the caller's instance.
            rpn_results = rpn_results.clone() if hasattr(rpn_results, "clone") else rpn_results
            rpn_results.priors = rpn_results.pop("bboxes")
            assign_result = self.bbox_assigner.assign(rpn_results, batch_gt_instances[i], batch_gt_instances_ignore[i])
            sampling_results.append(
                self.bbox_sampler.sample(
                    assign_result, rpn_results, batch_gt_instances[i], feats=[lvl_feat[i][None] for lvl_feat in x]
                )
            )
        losses = dict()
        if self.with_bbox:
            bbox_results = self.bbox_loss(x, sampling_results)
            losses.update(bbox_results["loss_bbox"])
        if self.with_mask:
            mask_results = self.mask_loss(x, sampling_results, bbox_results["bbox_feats"], batch_gt_instances)
            losses.update(mask_results["loss_mask"])
        return losses

    def _bbox_forward(self, x: tuple[Tensor], rois: Tensor) -> dict:
        bbox_feats = self.bbox_roi_extractor(x[: self.bbox_roi_extractor.num_inputs], rois)
        if self.with_shared_head:
            bbox_feats = self.shared_head(bbox_feats)
        cls_score, bbox_pred = self.bbox_head(bbox_feats)
        return dict(cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=bbox_feats)

    def bbox_loss(self, x: tuple[Tensor], sampling_results: list) -> dict:
        rois = bbox2roi([get_box_tensor(res.priors) for res in sampling_results])
        bbox_results = self._bbox_forward(x, rois)
        out = self.bbox_head.loss_and_target(
            cls_score=bbox_results["cls_score"],
            bbox_pred=bbox_results["bbox_pred"],
            rois=rois,
            sampling_results=sampling_results,
            rcnn_train_cfg=self.train_cfg,
        )
        bbox_results.update(loss_bbox=out["loss_bbox"])
        return bbox_results

    def _mask_forward(
        self,
        x: tuple[Tensor],
        rois: Tensor | None = None,
        pos_inds: Tensor | None = None,
        bbox_feats: Tensor | None = None,
    ) -> dict:
        if rois is not None:
            mask_feats = self.mask_roi_extractor(x[: self.mask_roi_extractor.num_inputs], rois)
            if self.with_shared_head:
                mask_feats = self.shared_head(mask_feats)
        else:
            if pos_inds is None or bbox_feats is None:
                raise ValueError("StandardRoIHead._mask_forward: give rois, or pos_inds with bbox_feats")
            mask_feats = bbox_feats[pos_inds]
        mask_preds = self.mask_head(mask_feats)
        return dict(mask_preds=mask_preds, mask_feats=mask_feats)

    def mask_loss(self, x: tuple[Tensor], sampling_results: list, bbox_feats: Tensor, batch_gt_instances: list) -> dict:
        if not self.share_roi_extractor:
            pos_rois = bbox2roi([get_box_tensor(res.pos_priors) for res in sampling_results])
            mask_results = self._mask_forward(x, pos_rois)
        else:
            pos_inds = []
            device = bbox_feats.device
            for res in sampling_results:
                pos_inds.append(torch.ones(res.pos_priors.shape[0], device=device, dtype=torch.bool))
                pos_inds.append(torch.zeros(res.neg_priors.shape[0], device=device, dtype=torch.bool))
            mask_results = self._mask_forward(x, pos_inds=torch.cat(pos_inds), bbox_feats=bbox_feats)
        out = self.mask_head.loss_and_target(
            mask_preds=mask_results["mask_preds"],
            sampling_results=sampling_results,
            batch_gt_instances=batch_gt_instances,
            rcnn_train_cfg=self.train_cfg,
        )
        mask_results.update(loss_mask=out["loss_mask"])
        return mask_results

    # ---------------------------------------------------------------- inference
    def predict_bbox(
        self, x: tuple[Tensor], batch_img_metas: list[dict], rpn_results_list, rcnn_test_cfg, rescale: bool = False
    ) -> list:
        proposals = [get_box_tensor(res.bboxes) for res in rpn_results_list]
        rois = bbox2roi(proposals)
        if rois.shape[0] == 0:
            return empty_instances(
                batch_img_metas,
                rois.device,
                task_type="bbox",
                num_classes=self.bbox_head.num_classes,
                score_per_cls=rcnn_test_cfg is None,
            )
        bbox_results = self._bbox_forward(x, rois)
        num_proposals_per_img = [len(p) for p in proposals]
        rois = rois.split(num_proposals_per_img, 0)
        cls_scores = bbox_results["cls_score"].split(num_proposals_per_img, 0)
        bbox_preds = bbox_results["bbox_pred"]
        if bbox_preds is not None:
            bbox_preds = bbox_preds.split(num_proposals_per_img, 0)
        else:
            bbox_preds = (None,) * len(proposals)
        return self.bbox_head.predict_by_feat(
            rois=rois,
            cls_scores=cls_scores,
            bbox_preds=bbox_preds,
            batch_img_metas=batch_img_metas,
            rcnn_test_cfg=rcnn_test_cfg,
            rescale=rescale,
        )

    def predict_mask(
        self, x: tuple[Tensor], batch_img_metas: list[dict], results_list: list, rescale: bool = False
    ) -> list:
        bboxes = [get_box_tensor(res.bboxes) for res in results_list]
        mask_rois = bbox2roi(bboxes)
        if mask_rois.shape[0] == 0:
            return empty_instances(
                batch_img_metas,
                mask_rois.device,
                task_type="mask",
                instance_results=results_list,
                mask_thr_binary=_cfg_get(self.test_cfg, "mask_thr_binary", 0.5),
            )
        mask_preds = self._mask_forward(x, mask_rois)["mask_preds"]
        mask_preds = mask_preds.split([len(b) for b in bboxes], 0)
        return self.mask_head.predict_by_feat(
            mask_preds=mask_preds,
            results_list=results_list,
            batch_img_metas=batch_img_metas,
            rcnn_test_cfg=self.test_cfg,
            rescale=rescale,
        )
