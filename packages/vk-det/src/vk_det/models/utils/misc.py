"""Small helpers shared by the heads: level bookkeeping, batched top-k filtering, ground-truth unpacking."""

from __future__ import annotations

from functools import partial

import torch

from vk_det.models._compat import InstanceData


def multi_apply(func, *args, **kwargs):
    """Apply ``func`` to each zipped item of ``args``; return a tuple of lists (one per output)."""
    pfunc = partial(func, **kwargs) if kwargs else func
    results = map(pfunc, *args)
    return tuple(map(list, zip(*results)))


def images_to_levels(target, num_levels):
    """[per image (sum(levels), ...)] -> [per level (num_images, level, ...)]."""
    target = torch.stack(target, 0)
    out, start = [], 0
    for n in num_levels:
        out.append(target[:, start : start + n])
        start += n
    return out


def unmap(data, count, inds, fill=0):
    """Scatter ``data`` (rows for the True entries of mask ``inds``) back into ``count`` rows filled with ``fill``."""
    if data.dim() == 1:
        ret = data.new_full((count,), fill)
        ret[inds.type(torch.bool)] = data
    else:
        ret = data.new_full((count,) + data.size()[1:], fill)
        ret[inds.type(torch.bool), :] = data
    return ret


def select_single_mlvl(mlvl_tensors, batch_id, detach=True):
    """Per-level tensors of one image."""
    return [t[batch_id].detach() if detach else t[batch_id] for t in mlvl_tensors]


def filter_scores_and_topk(scores, score_thr, topk, results=None):
    """Keep (prior, class) pairs scoring above ``score_thr``, then the ``topk`` best.

    Args:
        scores: (num_priors, num_classes).
        results: a dict/list/tensor indexed by prior, filtered alongside.

    Returns:
        (scores, labels, keep_idxs, filtered_results).
    """
    valid_mask = scores > score_thr
    scores = scores[valid_mask]
    valid_idxs = torch.nonzero(valid_mask)
    num_topk = min(topk, valid_idxs.size(0))
    scores, idxs = scores.sort(descending=True)
    scores = scores[:num_topk]
    topk_idxs = valid_idxs[idxs[:num_topk]]
    keep_idxs, labels = topk_idxs.unbind(dim=1)
    filtered = None
    if results is not None:
        if isinstance(results, dict):
            filtered = {k: v[keep_idxs] for k, v in results.items()}
        elif isinstance(results, list):
            filtered = [r[keep_idxs] for r in results]
        elif isinstance(results, torch.Tensor):
            filtered = results[keep_idxs]
        else:
            raise TypeError(f"filter_scores_and_topk: results must be a dict, list or tensor, got {type(results)}")
    return scores, labels, keep_idxs, filtered


def unpack_gt_instances(batch_data_samples):
    """Split data samples into (gt_instances, gt_instances_ignore, img_metas) lists."""
    gts, ignores, metas = [], [], []
    for sample in batch_data_samples:
        metas.append(sample.metainfo)
        gts.append(sample.gt_instances)
        ignores.append(sample.get("ignored_instances", None) if hasattr(sample, "get") else None)
    return gts, ignores, metas


def empty_instances(device, num_classes=None):
    """An InstanceData with zero boxes (bboxes (0, 4), scores (0,), labels (0,))."""
    res = InstanceData()
    res.bboxes = torch.zeros((0, 4), device=device)
    res.scores = torch.zeros((0,), device=device)
    res.labels = torch.zeros((0,), device=device, dtype=torch.long)
    return res


def samplelist_boxtype2tensor(batch_data_samples):
    """Replace box-type objects (HorizontalBoxes) in predictions with plain tensors."""
    for sample in batch_data_samples:
        for key in ("pred_instances", "ignored_instances", "gt_instances"):
            inst = sample.get(key, None) if hasattr(sample, "get") else None
            if inst is not None and "bboxes" in inst and hasattr(inst.bboxes, "tensor"):
                inst.bboxes = inst.bboxes.tensor


def get_box_tensor(boxes):
    """A (N, 4) tensor from a tensor or a box-type object."""
    return boxes.tensor if hasattr(boxes, "tensor") and not isinstance(boxes, torch.Tensor) else boxes


def scale_boxes(boxes, scale_factor):
    """Multiply (x1, y1, x2, y2) by (w_scale, h_scale)."""
    sw, sh = scale_factor
    return boxes * boxes.new_tensor([sw, sh, sw, sh])
