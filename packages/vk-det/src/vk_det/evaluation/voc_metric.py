"""VOCMetric: Pascal VOC mAP at one or more IoU thresholds."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from vk_core.evaluator import BaseMetric

from ..registry import METRICS
from .coco_metric import _get, _np
from .mean_ap import eval_map


@METRICS.register_module()
class VOCMetric(BaseMetric):
    """mAP with ``eval_mode`` 'area' (VOC2010+) or '11points' (VOC2007). Ground truth comes from each sample's
    ``gt_instances`` / ``ignored_instances`` (difficult objects), in original-image coordinates."""

    default_prefix = "pascal_voc"

    def __init__(
        self,
        iou_thrs=0.5,
        scale_ranges=None,
        metric: str = "mAP",
        proposal_nums=(100, 300, 1000),
        eval_mode: str = "area",
        use_legacy_coordinate: bool = True,
        collect_device: str = "cpu",
        prefix: str | None = None,
    ):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thrs = [iou_thrs] if isinstance(iou_thrs, float) else list(iou_thrs)
        if metric != "mAP":
            raise KeyError(f"VOCMetric supports metric='mAP', got {metric!r}")
        if eval_mode not in ("area", "11points"):
            raise ValueError(f"VOCMetric eval_mode must be 'area' or '11points', got {eval_mode!r}")
        self.eval_mode = eval_mode
        self.use_legacy_coordinate = use_legacy_coordinate

    def process(self, data_batch, data_samples) -> None:
        for sample in data_samples:
            gt = _get(sample, "gt_instances")
            ign = _get(sample, "ignored_instances") or {}
            ann = dict(
                labels=_np(_get(gt, "labels")).reshape(-1),
                bboxes=_np(_get(gt, "bboxes")).reshape(-1, 4),
                labels_ignore=_np(_get(ign, "labels", np.zeros(0))).reshape(-1),
                bboxes_ignore=_np(_get(ign, "bboxes", np.zeros((0, 4)))).reshape(-1, 4),
            )
            pred = _get(sample, "pred_instances")
            boxes = _np(_get(pred, "bboxes")).reshape(-1, 4)
            scores = _np(_get(pred, "scores")).reshape(-1)
            labels = _np(_get(pred, "labels")).reshape(-1)
            num_classes = len((self.dataset_meta or {}).get("classes", ())) or int(
                max(labels.max(initial=-1), ann["labels"].max(initial=-1)) + 1
            )
            dets = np.hstack([boxes, scores[:, None]])
            self.results.append((ann, [dets[labels == c] for c in range(num_classes)]))

    def compute_metrics(self, results: list) -> dict:
        anns, dets = zip(*results) if results else ((), ())
        out = OrderedDict()
        aps = []
        for thr in self.iou_thrs:
            mean_ap, _ = eval_map(list(dets), list(anns), thr, self.eval_mode, self.use_legacy_coordinate)
            aps.append(mean_ap)
            out[f"AP{int(thr * 100):02d}"] = round(mean_ap, 3)
        out["mAP"] = sum(aps) / len(aps)
        return out
