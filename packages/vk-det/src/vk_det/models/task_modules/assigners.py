"""Label assignment: which prior learns which ground-truth box (MaxIoUAssigner, ATSSAssigner)."""

from __future__ import annotations

import torch

from vk_det.models._compat import TASK_UTILS, bbox_overlaps


@TASK_UTILS.register_module()
class BboxOverlaps2D:
    """IoU calculator for (x1, y1, x2, y2[, score]) boxes; a 5th column is dropped."""

    def __init__(self, scale=1.0, dtype=None):
        self.scale = scale
        self.dtype = dtype

    def __call__(self, bboxes1, bboxes2, mode="iou", is_aligned=False):
        bboxes1 = bboxes1[..., :4] if bboxes1.size(-1) == 5 else bboxes1
        bboxes2 = bboxes2[..., :4] if bboxes2.size(-1) == 5 else bboxes2
        for name, b in (("bboxes1", bboxes1), ("bboxes2", bboxes2)):
            if b.size(-1) != 4 and b.numel() > 0:
                raise ValueError(f"BboxOverlaps2D: {name} must have 4 or 5 columns, got shape {tuple(b.shape)}")
        return bbox_overlaps(bboxes1.reshape(-1, 4), bboxes2.reshape(-1, 4), mode, is_aligned)

    def __repr__(self):
        return f"BboxOverlaps2D(scale={self.scale}, dtype={self.dtype})"


def _build_iou_calculator(cfg):
    if cfg is None or (isinstance(cfg, dict) and cfg.get("type") in ("BboxOverlaps2D", BboxOverlaps2D)):
        kwargs = {k: v for k, v in (cfg or {}).items() if k != "type"}
        return BboxOverlaps2D(**kwargs)
    return TASK_UTILS.build(cfg)


class AssignResult:
    """Outcome of an assignment over N priors.

    Attributes:
        num_gts: number of ground-truth boxes.
        gt_inds: (N,) long; 0 = negative, -1 = ignored, i > 0 = assigned to ground truth ``i - 1``.
        max_overlaps: (N,) IoU of each prior with its assigned ground truth.
        labels: (N,) label of the assigned ground truth, -1 where none.
    """

    def __init__(self, num_gts, gt_inds, max_overlaps, labels):
        self.num_gts = num_gts
        self.gt_inds = gt_inds
        self.max_overlaps = max_overlaps
        self.labels = labels
        self._extra_properties = {}

    @property
    def num_preds(self):
        return len(self.gt_inds)

    def set_extra_property(self, key, value):
        if key in self.info:
            raise KeyError(f"AssignResult: {key!r} is a reserved property")
        self._extra_properties[key] = value

    def get_extra_property(self, key):
        return self._extra_properties.get(key, None)

    @property
    def info(self):
        basic = dict(num_gts=self.num_gts, num_preds=self.num_preds, gt_inds=self.gt_inds)
        basic.update(max_overlaps=self.max_overlaps, labels=self.labels)
        basic.update(self._extra_properties)
        return basic

    def add_gt_(self, gt_labels):
        """Prepend the ground truths themselves as assigned priors (RandomSampler's add_gt_as_proposals)."""
        self_inds = torch.arange(1, len(gt_labels) + 1, dtype=torch.long, device=gt_labels.device)
        self.gt_inds = torch.cat([self_inds, self.gt_inds])
        self.max_overlaps = torch.cat([self.max_overlaps.new_ones(len(gt_labels)), self.max_overlaps])
        self.labels = torch.cat([gt_labels, self.labels])

    def __repr__(self):
        return f"AssignResult(num_gts={self.num_gts}, num_preds={self.num_preds})"


def _labels_for(assigned_gt_inds, gt_labels):
    labels = assigned_gt_inds.new_full((assigned_gt_inds.numel(),), -1)
    pos = torch.nonzero(assigned_gt_inds > 0, as_tuple=False).squeeze(-1)
    if pos.numel() > 0:
        labels[pos] = gt_labels[assigned_gt_inds[pos] - 1]
    return labels


def _ignore_boxes(gt_instances_ignore):
    if gt_instances_ignore is None:
        return None
    boxes = gt_instances_ignore.bboxes if hasattr(gt_instances_ignore, "bboxes") else gt_instances_ignore
    return boxes if boxes is not None and boxes.numel() > 0 else None


def _check_instances(name, pred_instances, gt_instances):
    if not hasattr(pred_instances, "priors"):
        raise AttributeError(f"{name}: pred_instances must have a 'priors' field")
    for key in ("bboxes", "labels"):
        if not hasattr(gt_instances, key):
            raise AttributeError(f"{name}: gt_instances must have a {key!r} field")


@TASK_UTILS.register_module()
class MaxIoUAssigner:
    """Assign each prior to the ground truth it overlaps most (IoU), with positive/negative thresholds.

    A prior is negative if its best IoU is in ``[0, neg_iou_thr)`` (or inside a (lo, hi) tuple), positive if it
    is >= ``pos_iou_thr``; with ``match_low_quality`` every ground truth also takes the prior(s) overlapping it
    most when that IoU is >= ``min_pos_iou``. Priors overlapping ignore boxes (IoF > ``ignore_iof_thr``) get -1.
    """

    def __init__(
        self,
        pos_iou_thr,
        neg_iou_thr,
        min_pos_iou=0.0,
        gt_max_assign_all=True,
        ignore_iof_thr=-1,
        ignore_wrt_candidates=True,
        match_low_quality=True,
        gpu_assign_thr=-1,
        iou_calculator=dict(type="BboxOverlaps2D"),  # noqa: B006
    ):
        if not isinstance(neg_iou_thr, float | int | tuple | list):
            raise TypeError(f"MaxIoUAssigner: neg_iou_thr must be a float or a (lo, hi) pair, got {neg_iou_thr!r}")
        self.pos_iou_thr = pos_iou_thr
        self.neg_iou_thr = neg_iou_thr
        self.min_pos_iou = min_pos_iou
        self.gt_max_assign_all = gt_max_assign_all
        self.ignore_iof_thr = ignore_iof_thr
        self.ignore_wrt_candidates = ignore_wrt_candidates
        self.gpu_assign_thr = gpu_assign_thr
        self.match_low_quality = match_low_quality
        self.iou_calculator = _build_iou_calculator(iou_calculator)

    def assign(self, pred_instances, gt_instances, gt_instances_ignore=None, **kwargs):
        _check_instances("MaxIoUAssigner", pred_instances, gt_instances)
        gt_bboxes = gt_instances.bboxes
        priors = pred_instances.priors
        overlaps = self.iou_calculator(gt_bboxes, priors)
        ignore = _ignore_boxes(gt_instances_ignore)
        if self.ignore_iof_thr > 0 and ignore is not None and gt_bboxes.numel() > 0 and priors.numel() > 0:
            if self.ignore_wrt_candidates:
                ignore_max = self.iou_calculator(priors, ignore, mode="iof").max(dim=1).values
            else:
                ignore_max = self.iou_calculator(ignore, priors, mode="iof").max(dim=0).values
            overlaps[:, ignore_max > self.ignore_iof_thr] = -1
        return self.assign_wrt_overlaps(overlaps, gt_instances.labels)

    def assign_wrt_overlaps(self, overlaps, gt_labels):
        """Assign from a (num_gts, num_priors) overlap matrix."""
        num_gts, num_priors = overlaps.size(0), overlaps.size(1)
        assigned = overlaps.new_full((num_priors,), -1, dtype=torch.long)
        if num_gts == 0 or num_priors == 0:
            max_overlaps = overlaps.new_zeros((num_priors,))
            if num_gts == 0:
                assigned[:] = 0
            labels = overlaps.new_full((num_priors,), -1, dtype=torch.long)
            return AssignResult(num_gts, assigned, max_overlaps, labels)
        max_overlaps, argmax = overlaps.max(dim=0)
        gt_max, gt_argmax = overlaps.max(dim=1)
        if isinstance(self.neg_iou_thr, float | int):
            assigned[(max_overlaps >= 0) & (max_overlaps < self.neg_iou_thr)] = 0
        else:
            lo, hi = self.neg_iou_thr
            assigned[(max_overlaps >= lo) & (max_overlaps < hi)] = 0
        pos = max_overlaps >= self.pos_iou_thr
        assigned[pos] = argmax[pos] + 1
        if self.match_low_quality:
            ok = gt_max >= self.min_pos_iou
            if self.gt_max_assign_all:
                # Every prior tied at a ground truth's best IoU takes it; like the sequential reference,
                # the highest ground-truth index wins when several claim one prior.
                hit = (overlaps == gt_max[:, None]) & ok[:, None]
                idx = torch.arange(1, num_gts + 1, device=overlaps.device)[:, None] * hit
                best = idx.max(dim=0).values
                assigned = torch.where(best > 0, best, assigned)
            else:
                gts = torch.nonzero(ok, as_tuple=False).squeeze(-1)
                assigned[gt_argmax[gts]] = gts + 1
        return AssignResult(num_gts, assigned, max_overlaps, _labels_for(assigned, gt_labels))


@TASK_UTILS.register_module()
class ATSSAssigner:
    """Adaptive Training Sample Selection (Zhang et al. 2020).

    Per ground truth, the ``topk`` priors nearest its centre on each level are candidates; those whose IoU is
    >= mean + std of the candidates' IoUs and whose centre lies inside the box are positive; a prior claimed by
    several ground truths goes to the one it overlaps most.
    """

    def __init__(self, topk, alpha=None, iou_calculator=dict(type="BboxOverlaps2D"), ignore_iof_thr=-1):  # noqa: B006
        if topk < 1:
            raise ValueError(f"ATSSAssigner: topk must be >= 1, got {topk}")
        self.topk = topk
        self.alpha = alpha
        self.iou_calculator = _build_iou_calculator(iou_calculator)
        self.ignore_iof_thr = ignore_iof_thr

    def assign(self, pred_instances, num_level_priors, gt_instances, gt_instances_ignore=None, **kwargs):
        _check_instances("ATSSAssigner", pred_instances, gt_instances)
        inf = 100000000
        priors = pred_instances.priors[:, :4]
        gt_bboxes, gt_labels = gt_instances.bboxes, gt_instances.labels
        num_gt, num_priors = gt_bboxes.size(0), priors.size(0)
        if sum(num_level_priors) != num_priors:
            raise ValueError(
                f"ATSSAssigner: num_level_priors {list(num_level_priors)} sum to {sum(num_level_priors)}, "
                f"but there are {num_priors} priors"
            )
        assigned = priors.new_zeros((num_priors,), dtype=torch.long)
        if num_gt == 0 or num_priors == 0:
            max_overlaps = priors.new_zeros((num_priors,))
            labels = priors.new_full((num_priors,), -1, dtype=torch.long)
            return AssignResult(num_gt, assigned, max_overlaps, labels)
        overlaps = self.iou_calculator(priors, gt_bboxes)
        gt_c = (gt_bboxes[:, :2] + gt_bboxes[:, 2:]) / 2.0
        pr_c = (priors[:, :2] + priors[:, 2:]) / 2.0
        distances = (pr_c[:, None, :] - gt_c[None, :, :]).pow(2).sum(-1).sqrt()
        ignore = _ignore_boxes(gt_instances_ignore)
        if self.ignore_iof_thr > 0 and ignore is not None:
            ignore_idxs = self.iou_calculator(priors, ignore, mode="iof").max(dim=1).values > self.ignore_iof_thr
            distances[ignore_idxs, :] = inf
            assigned[ignore_idxs] = -1

        candidates, start = [], 0
        for n in num_level_priors:
            end = start + n
            k = min(self.topk, n)
            if k > 0:
                candidates.append(distances[start:end].topk(k, dim=0, largest=False).indices + start)
            start = end
        candidate_idxs = torch.cat(candidates, dim=0)  # (K, num_gt)
        gt_range = torch.arange(num_gt, device=priors.device)
        cand_overlaps = overlaps[candidate_idxs, gt_range]
        thr = cand_overlaps.mean(0) + cand_overlaps.std(0)
        is_pos = cand_overlaps >= thr[None, :]
        # The candidate's centre must lie strictly inside its ground truth.
        cx, cy = pr_c[candidate_idxs, 0], pr_c[candidate_idxs, 1]
        inside = (
            torch.stack([cx - gt_bboxes[:, 0], cy - gt_bboxes[:, 1], gt_bboxes[:, 2] - cx, gt_bboxes[:, 3] - cy], dim=1)
            .min(dim=1)
            .values
            > 0.01
        )
        is_pos = is_pos & inside

        overlaps_inf = torch.full_like(overlaps, -inf)  # (num_priors, num_gt)
        cols = gt_range[None, :].expand_as(candidate_idxs)
        sel_rows, sel_cols = candidate_idxs[is_pos], cols[is_pos]
        overlaps_inf[sel_rows, sel_cols] = overlaps[sel_rows, sel_cols]
        max_overlaps, argmax = overlaps_inf.max(dim=1)
        hit = max_overlaps != -inf
        assigned[hit] = argmax[hit] + 1
        return AssignResult(num_gt, assigned, max_overlaps, _labels_for(assigned, gt_labels))
