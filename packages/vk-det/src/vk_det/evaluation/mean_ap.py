"""Pascal VOC style mean average precision (area under the PR curve, or 11-point interpolation)."""

from __future__ import annotations

import numpy as np


def _ious(dets: np.ndarray, gts: np.ndarray, legacy: bool) -> np.ndarray:
    extra = 1.0 if legacy else 0.0
    area_d = (dets[:, 2] - dets[:, 0] + extra) * (dets[:, 3] - dets[:, 1] + extra)
    area_g = (gts[:, 2] - gts[:, 0] + extra) * (gts[:, 3] - gts[:, 1] + extra)
    lt = np.maximum(dets[:, None, :2], gts[None, :, :2])
    rb = np.minimum(dets[:, None, 2:4], gts[None, :, 2:4])
    wh = np.clip(rb - lt + extra, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    return inter / np.maximum(area_d[:, None] + area_g[None] - inter, np.finfo(np.float32).eps)


def tpfp_default(dets, gts, gts_ignore, iou_thr: float = 0.5, legacy: bool = False):
    """Mark each detection (sorted by score, descending) as true or false positive; one gt matches once,
    detections matched to an ignored gt count as neither."""
    n = len(dets)
    tp, fp = np.zeros(n, np.float32), np.zeros(n, np.float32)
    all_gts = np.concatenate([gts, gts_ignore]).reshape(-1, 4)
    ignored = np.r_[np.zeros(len(gts), bool), np.ones(len(gts_ignore), bool)]
    if len(all_gts) == 0:
        fp[:] = 1
        return tp, fp
    ious = _ious(dets[:, :4], all_gts, legacy)
    best = ious.argmax(axis=1)
    best_iou = ious.max(axis=1)
    covered = np.zeros(len(all_gts), bool)
    for i in np.argsort(-dets[:, 4], kind="stable"):
        if best_iou[i] >= iou_thr:
            g = best[i]
            if ignored[g]:
                continue
            if not covered[g]:
                covered[g] = True
                tp[i] = 1
            else:
                fp[i] = 1
        else:
            fp[i] = 1
    return tp, fp


def average_precision(recalls: np.ndarray, precisions: np.ndarray, mode: str = "area") -> float:
    if mode == "area":
        mrec = np.concatenate([[0.0], recalls, [1.0]])
        mpre = np.concatenate([[0.0], precisions, [0.0]])
        mpre = np.maximum.accumulate(mpre[::-1])[::-1]
        idx = np.where(mrec[1:] != mrec[:-1])[0]
        return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))
    if mode == "11points":
        ap = 0.0
        for thr in np.arange(0, 1.1, 0.1):
            prec = precisions[recalls >= thr]
            ap += prec.max() if prec.size else 0.0
        return float(ap / 11)
    raise ValueError(f"eval_mode must be 'area' or '11points', got {mode!r}")


def eval_map(det_results, annotations, iou_thr: float = 0.5, eval_mode: str = "area", use_legacy_coordinate=False):
    """mAP over classes that have ground truth.

    Args:
        det_results: per image, a list (one entry per class) of (n, 5) arrays ``[x1, y1, x2, y2, score]``.
        annotations: per image, ``dict(bboxes, labels, bboxes_ignore, labels_ignore)``.
    Returns:
        (mean_ap, per-class list of ``dict(num_gts, num_dets, recall, precision, ap)``).
    """
    if len(det_results) != len(annotations):
        raise ValueError(f"eval_map: {len(det_results)} detection results for {len(annotations)} annotations")
    num_classes = len(det_results[0]) if det_results else 0
    results = []
    for c in range(num_classes):
        tps, fps, scores, num_gts = [], [], [], 0
        for dets_img, ann in zip(det_results, annotations):
            dets = np.asarray(dets_img[c], dtype=np.float32).reshape(-1, 5)
            gts = np.asarray(ann["bboxes"], dtype=np.float32).reshape(-1, 4)[np.asarray(ann["labels"]) == c]
            ign_boxes = np.asarray(ann.get("bboxes_ignore", np.zeros((0, 4))), np.float32).reshape(-1, 4)
            ign_labels = np.asarray(ann.get("labels_ignore", np.zeros(0)))
            gts_ignore = ign_boxes[ign_labels == c]
            num_gts += len(gts)
            tp, fp = tpfp_default(dets, gts, gts_ignore, iou_thr, use_legacy_coordinate)
            tps.append(tp)
            fps.append(fp)
            scores.append(dets[:, 4])
        scores = np.concatenate(scores) if scores else np.zeros(0)
        order = np.argsort(-scores, kind="stable")
        tp = np.cumsum(np.concatenate(tps)[order]) if tps else np.zeros(0)
        fp = np.cumsum(np.concatenate(fps)[order]) if fps else np.zeros(0)
        recall = tp / max(num_gts, 1)
        precision = tp / np.maximum(tp + fp, np.finfo(np.float32).eps)
        ap = average_precision(recall, precision, eval_mode) if num_gts else 0.0
        results.append(dict(num_gts=num_gts, num_dets=len(scores), recall=recall, precision=precision, ap=ap))
    aps = [r["ap"] for r in results if r["num_gts"] > 0]
    return (float(np.mean(aps)) if aps else 0.0), results
