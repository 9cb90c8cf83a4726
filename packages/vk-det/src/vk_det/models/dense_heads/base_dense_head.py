"""BaseDenseHead: the loss/predict plumbing shared by dense (one-stage and RPN) heads."""

from __future__ import annotations

import copy

import torch
import torch.distributed as dist

from vk_det.models._compat import BaseModule, InstanceData, batched_nms
from vk_det.models.utils import filter_scores_and_topk, get_box_tensor, scale_boxes, select_single_mlvl


def reduce_mean(tensor):
    """Mean of ``tensor`` over all ranks (itself when not distributed)."""
    if not (dist.is_available() and dist.is_initialized()):
        return tensor
    tensor = tensor.clone()
    dist.all_reduce(tensor.div_(dist.get_world_size()), op=dist.ReduceOp.SUM)
    return tensor


def _cfg_get(cfg, key, default=None):
    return cfg.get(key, default) if cfg is not None else default


def tensor_gt_instances(gt_instances):
    """Ground truths with plain (N, 4) tensor boxes (box-type objects are unwrapped)."""
    out = []
    for gt in gt_instances:
        if "bboxes" in gt and not isinstance(gt.bboxes, torch.Tensor):
            new = InstanceData()
            new.bboxes = get_box_tensor(gt.bboxes)
            new.labels = gt.labels
            out.append(new)
        else:
            out.append(gt)
    return out


def bbox_post_process(results, cfg, rescale, with_nms, img_meta):
    """Rescale to the original image, fold in score factors, drop tiny boxes, batched NMS, keep ``max_per_img``."""
    if rescale:
        scale_factor = img_meta.get("scale_factor")
        if scale_factor is None:
            raise KeyError("rescale=True needs 'scale_factor' in the image meta information")
        results.bboxes = scale_boxes(results.bboxes, [1 / s for s in scale_factor])
    if "score_factors" in results:
        results.scores = results.scores * results.score_factors
        del results.score_factors
    min_size = _cfg_get(cfg, "min_bbox_size", -1)
    if min_size >= 0:
        w = results.bboxes[:, 2] - results.bboxes[:, 0]
        h = results.bboxes[:, 3] - results.bboxes[:, 1]
        valid = (w > min_size) & (h > min_size)
        if not valid.all():
            results = results[valid]
    if with_nms and results.bboxes.numel() > 0:
        det_bboxes, keep = batched_nms(results.bboxes, results.scores, results.labels, cfg["nms"])
        results = results[keep]
        results.scores = det_bboxes[:, -1]
        results = results[: _cfg_get(cfg, "max_per_img", 100)]
    return results


class BaseDenseHead(BaseModule):
    """Dense heads predict per prior; subclasses implement ``forward`` and ``loss_by_feat``.

    ``predict_by_feat`` decodes the per-level outputs of every image: sigmoid (or softmax) scores, score
    threshold and ``nms_pre`` top-k per level, box decoding, then :func:`bbox_post_process`.
    """

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self._raw_positive_infos = {}

    def get_positive_infos(self):
        return self._raw_positive_infos.get("sampling_results")

    def loss(self, x, batch_data_samples):
        outs = self(x)
        gts, ignores, metas = _unpack(batch_data_samples)
        return self.loss_by_feat(*outs, gts, metas, ignores)

    def loss_and_predict(self, x, batch_data_samples, proposal_cfg=None):
        outs = self(x)
        gts, ignores, metas = _unpack(batch_data_samples)
        losses = self.loss_by_feat(*outs, gts, metas, ignores)
        predictions = self.predict_by_feat(*outs, batch_img_metas=metas, cfg=proposal_cfg)
        return losses, predictions

    def predict(self, x, batch_data_samples, rescale=False):
        metas = [s.metainfo for s in batch_data_samples]
        outs = self(x)
        return self.predict_by_feat(*outs, batch_img_metas=metas, rescale=rescale)

    def predict_by_feat(
        self, cls_scores, bbox_preds, score_factors=None, batch_img_metas=None, cfg=None, rescale=False, with_nms=True
    ):
        if len(cls_scores) != len(bbox_preds):
            raise ValueError(f"predict_by_feat: {len(cls_scores)} score levels but {len(bbox_preds)} box levels")
        if batch_img_metas is None or len(batch_img_metas) != cls_scores[0].shape[0]:
            raise ValueError("predict_by_feat: batch_img_metas must hold one meta dict per image")
        with_score_factors = score_factors is not None
        num_levels = len(cls_scores)
        featmap_sizes = [cls_scores[i].shape[-2:] for i in range(num_levels)]
        mlvl_priors = self.prior_generator.grid_priors(
            featmap_sizes, dtype=cls_scores[0].dtype, device=cls_scores[0].device
        )
        cfg = copy.deepcopy(self.test_cfg if cfg is None else cfg)
        # Flatten and activate every level for the whole batch at once; only the filtering is per image.
        num_imgs = cls_scores[0].shape[0]
        flat_scores = [self._scores_from_logits(self._flatten(s, self.cls_out_channels)) for s in cls_scores]
        flat_boxes = [self._flatten(b, self.bbox_coder.encode_size).detach() for b in bbox_preds]
        flat_factors = (
            [self._flatten(f, 1).squeeze(-1).sigmoid().detach() for f in score_factors] if with_score_factors else None
        )
        results = []
        for img_id in range(num_imgs):
            results.append(
                self._predict_by_feat_single(
                    select_single_mlvl(flat_scores, img_id),
                    select_single_mlvl(flat_boxes, img_id),
                    select_single_mlvl(flat_factors, img_id) if with_score_factors else None,
                    mlvl_priors,
                    batch_img_metas[img_id],
                    cfg,
                    rescale,
                    with_nms,
                )
            )
        return results

    @staticmethod
    def _flatten(t, channels):
        n = t.shape[0]
        return t.permute(0, 2, 3, 1).reshape(n, -1, channels)

    def _scores_from_logits(self, logits):
        if self.use_sigmoid_cls:
            return logits.sigmoid().detach()
        return logits.softmax(-1)[..., :-1].detach()

    def _predict_by_feat_single(
        self, scores_list, bbox_list, factor_list, mlvl_priors, img_meta, cfg, rescale, with_nms
    ):
        nms_pre = _cfg_get(cfg, "nms_pre", -1)
        score_thr = _cfg_get(cfg, "score_thr", 0)
        mlvl_boxes, mlvl_priors_kept, mlvl_scores, mlvl_labels, mlvl_factors = [], [], [], [], []
        for level, (scores, bbox_pred, priors) in enumerate(zip(scores_list, bbox_list, mlvl_priors)):
            topk = nms_pre if nms_pre > 0 else scores.numel()
            scores, labels, keep, filtered = filter_scores_and_topk(
                scores, score_thr, topk, dict(bbox_pred=bbox_pred, priors=priors)
            )
            mlvl_boxes.append(filtered["bbox_pred"])
            mlvl_priors_kept.append(filtered["priors"])
            mlvl_scores.append(scores)
            mlvl_labels.append(labels)
            if factor_list is not None:
                mlvl_factors.append(factor_list[level][keep])
        bbox_pred = torch.cat(mlvl_boxes)
        priors = torch.cat(mlvl_priors_kept)
        results = InstanceData()
        results.bboxes = self.bbox_coder.decode(priors, bbox_pred, max_shape=img_meta["img_shape"])
        results.scores = torch.cat(mlvl_scores)
        results.labels = torch.cat(mlvl_labels)
        if factor_list is not None:
            results.score_factors = torch.cat(mlvl_factors)
        return bbox_post_process(results, cfg, rescale, with_nms, img_meta)


def _unpack(batch_data_samples):
    gts, ignores, metas = [], [], []
    for sample in batch_data_samples:
        metas.append(sample.metainfo)
        gts.append(sample.gt_instances)
        ignored = sample.get("ignored_instances", None) if hasattr(sample, "get") else None
        ignores.append(ignored if ignored is not None and len(ignored) > 0 else None)
    gts = tensor_gt_instances(gts)
    ignores = [None if i is None else tensor_gt_instances([i])[0] for i in ignores]
    return gts, ignores, metas
