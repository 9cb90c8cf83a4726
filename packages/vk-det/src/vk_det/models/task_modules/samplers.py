"""Samplers: choose which assigned priors enter the loss (RandomSampler, PseudoSampler) -> SamplingResult."""

from __future__ import annotations

import torch

from vk_det.models._compat import TASK_UTILS


class SamplingResult:
    """Positive and negative prior indices with their matched ground truths."""

    def __init__(self, pos_inds, neg_inds, priors, gt_bboxes, assign_result, gt_flags, avg_factor_with_neg=True):
        self.pos_inds = pos_inds
        self.neg_inds = neg_inds
        self.num_pos = max(pos_inds.numel(), 1)
        self.num_neg = max(neg_inds.numel(), 1)
        self.avg_factor_with_neg = avg_factor_with_neg
        self.avg_factor = self.num_pos + self.num_neg if avg_factor_with_neg else self.num_pos
        self.pos_priors = priors[pos_inds]
        self.neg_priors = priors[neg_inds]
        self.pos_is_gt = gt_flags[pos_inds]
        self.num_gts = gt_bboxes.shape[0]
        self.pos_assigned_gt_inds = assign_result.gt_inds[pos_inds] - 1
        self.pos_gt_labels = assign_result.labels[pos_inds]
        box_dim = 4
        if gt_bboxes.numel() == 0:
            self.pos_gt_bboxes = gt_bboxes.new_zeros((0, box_dim)) if pos_inds.numel() == 0 else None
            if self.pos_gt_bboxes is None:
                raise ValueError("SamplingResult: positive priors were sampled but there are no ground truths")
        else:
            self.pos_gt_bboxes = gt_bboxes.view(-1, box_dim)[self.pos_assigned_gt_inds.long()]

    @property
    def priors(self):
        return torch.cat([self.pos_priors, self.neg_priors])

    @property
    def info(self):
        return dict(pos_inds=self.pos_inds, neg_inds=self.neg_inds, pos_priors=self.pos_priors,
                    neg_priors=self.neg_priors, pos_is_gt=self.pos_is_gt, num_gts=self.num_gts,
                    pos_assigned_gt_inds=self.pos_assigned_gt_inds, num_pos=self.num_pos, num_neg=self.num_neg,
                    avg_factor=self.avg_factor)  # fmt: skip

    def __repr__(self):
        return (
            f"SamplingResult(num_pos={self.pos_inds.numel()}, num_neg={self.neg_inds.numel()}, num_gts={self.num_gts})"
        )


@TASK_UTILS.register_module()
class PseudoSampler:
    """Takes every positive and negative prior (dense heads with focal loss do no sampling)."""

    def __init__(self, **kwargs):
        pass

    def sample(self, assign_result, pred_instances, gt_instances, *args, **kwargs):
        priors = pred_instances.priors
        gt_bboxes = gt_instances.bboxes
        pos_inds = torch.nonzero(assign_result.gt_inds > 0, as_tuple=False).squeeze(-1).unique()
        neg_inds = torch.nonzero(assign_result.gt_inds == 0, as_tuple=False).squeeze(-1).unique()
        gt_flags = priors.new_zeros(priors.shape[0], dtype=torch.uint8)
        return SamplingResult(pos_inds, neg_inds, priors, gt_bboxes, assign_result, gt_flags, avg_factor_with_neg=False)


@TASK_UTILS.register_module()
class RandomSampler:
    """Sample ``num`` priors, at most ``pos_fraction`` of them positive, uniformly at random.

    ``neg_pos_ub`` >= 0 caps negatives at that multiple of the positives; ``add_gt_as_proposals`` prepends the
    ground-truth boxes to the priors (as positives) before sampling.
    """

    def __init__(self, num, pos_fraction, neg_pos_ub=-1, add_gt_as_proposals=True, **kwargs):
        if num < 1 or not 0 <= pos_fraction <= 1:
            raise ValueError(f"RandomSampler: need num >= 1 and pos_fraction in [0, 1], got {num}, {pos_fraction}")
        self.num = num
        self.pos_fraction = pos_fraction
        self.neg_pos_ub = neg_pos_ub
        self.add_gt_as_proposals = add_gt_as_proposals

    @staticmethod
    def random_choice(gallery, num):
        if num >= gallery.numel():
            return gallery
        perm = torch.randperm(gallery.numel(), device=gallery.device)[:num]
        return gallery[perm]

    def _sample(self, assign_result, num_expected, positive):
        mask = assign_result.gt_inds > 0 if positive else assign_result.gt_inds == 0
        inds = torch.nonzero(mask, as_tuple=False).squeeze(-1)
        return self.random_choice(inds, num_expected)

    def sample(self, assign_result, pred_instances, gt_instances, **kwargs):
        gt_bboxes = gt_instances.bboxes
        priors = pred_instances.priors
        if priors.dim() < 2:
            priors = priors[None, :]
        priors = priors[:, :4]
        gt_flags = priors.new_zeros((priors.shape[0],), dtype=torch.uint8)
        if self.add_gt_as_proposals and len(gt_bboxes) > 0:
            priors = torch.cat([gt_bboxes.to(priors), priors], dim=0)
            assign_result.add_gt_(gt_instances.labels)
            gt_flags = torch.cat([gt_bboxes.new_ones(gt_bboxes.shape[0], dtype=torch.uint8), gt_flags])
        num_expected_pos = int(self.num * self.pos_fraction)
        pos_inds = self._sample(assign_result, num_expected_pos, True).unique()
        num_expected_neg = self.num - pos_inds.numel()
        if self.neg_pos_ub >= 0:
            num_expected_neg = min(num_expected_neg, int(self.neg_pos_ub * max(1, pos_inds.numel())))
        neg_inds = self._sample(assign_result, num_expected_neg, False).unique()
        return SamplingResult(pos_inds, neg_inds, priors, gt_bboxes, assign_result, gt_flags)
