"""CocoMetric: COCO bbox / segm / proposal evaluation through faster-coco-eval (or pycocotools).

Per batch, predictions are turned into small numpy arrays and RLE dicts at once (nothing stays a tensor);
``compute_metrics`` builds the COCO result list and runs the library's COCOeval. For bbox and segm the
standard COCO ``maxDets`` (1, 10, 100) are used, so the 12 stats are the ones any COCO tool reports;
for ``proposal`` the ``proposal_nums`` are the maxDets.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os.path as osp
import tempfile
import warnings
from collections import OrderedDict

import numpy as np
from vk_core.evaluator import BaseMetric

from ..registry import METRICS
from ..structures import encode_mask_results

STAT_NAMES = (
    "mAP", "mAP_50", "mAP_75", "mAP_s", "mAP_m", "mAP_l",
    "AR@1", "AR@10", "AR@100", "AR_s@100", "AR_m@100", "AR_l@100",
)  # fmt: skip
BACKENDS = ("faster_coco_eval", "pycocotools")


def coco_api(backend: str):
    """(COCO, COCOeval) classes of ``backend``; the pycocotools one is imported lazily with a clear message."""
    if backend == "faster_coco_eval":
        from faster_coco_eval import COCO, COCOeval_faster

        return COCO, COCOeval_faster
    if backend == "pycocotools":
        try:
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval
        except ImportError as exc:
            raise ImportError("backend='pycocotools' needs pycocotools: pip install 'vk-det[pycocotools]'") from exc
        return COCO, COCOeval
    raise ValueError(f"CocoMetric backend must be one of {BACKENDS}, got {backend!r}")


def _np(x):
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _get(d, key, default=None):
    if isinstance(d, dict):
        return d.get(key, default)
    return getattr(d, key, default)


def xyxy2xywh(boxes: np.ndarray) -> np.ndarray:
    out = boxes.astype(np.float64).copy()
    out[:, 2:] -= out[:, :2]
    return out


@METRICS.register_module()
class CocoMetric(BaseMetric):
    """COCO evaluation of ``pred_instances`` (bboxes in the original image, xyxy; scores; labels; masks).

    Args:
        ann_file: COCO instance JSON of the ground truth. Without it the ground truth is built from the data
            samples' ``instances`` (keep ``instances`` in PackDetInputs' meta_keys) or ``gt_instances``.
        metric: 'bbox', 'segm', 'proposal' or a list of them.
        classwise: add a per-class AP table (logged) and ``{metric}_{class}_precision`` values.
        format_only: only write ``{outfile_prefix}.bbox.json`` / ``.segm.json`` (test-dev submission).
        backend: 'faster_coco_eval' (default) or 'pycocotools'; both give the same numbers.
    """

    default_prefix = "coco"

    def __init__(
        self,
        ann_file: str | None = None,
        metric="bbox",
        classwise: bool = False,
        proposal_nums=(100, 300, 1000),
        iou_thrs=None,
        metric_items=None,
        format_only: bool = False,
        outfile_prefix: str | None = None,
        backend_args: dict | None = None,
        collect_device: str = "cpu",
        prefix: str | None = None,
        sort_categories: bool = False,
        backend: str = "faster_coco_eval",
    ):
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = [metric] if isinstance(metric, str) else list(metric)
        for m in metrics:
            if m not in ("bbox", "segm", "proposal", "proposal_fast"):
                raise KeyError(f"CocoMetric: metric must be 'bbox', 'segm' or 'proposal', got {m!r}")
        if format_only and outfile_prefix is None:
            raise ValueError("CocoMetric(format_only=True) needs outfile_prefix to know where to write the results")
        coco_api(backend)  # fail early on a missing backend
        self.metrics = metrics
        self.classwise = classwise
        self.proposal_nums = list(proposal_nums)
        self.iou_thrs = np.linspace(0.5, 0.95, 10) if iou_thrs is None else np.asarray(iou_thrs, dtype=np.float64)
        self.metric_items = metric_items
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self.backend = backend
        self.sort_categories = sort_categories
        self.ann_file = ann_file
        self._coco_gt = None
        if ann_file is not None:
            if not osp.isfile(ann_file):
                raise FileNotFoundError(f"CocoMetric: ann_file not found: {ann_file}")
            COCO, _ = coco_api(backend)
            with contextlib.redirect_stdout(io.StringIO()):
                self._coco_gt = COCO(ann_file)
            if sort_categories:
                cats = self._coco_gt.cats
                self._coco_gt.cats = {k: cats[k] for k in sorted(cats)}
        self.stats: dict[str, np.ndarray] = {}
        self.cat_ids: list[int] | None = None
        self.img_ids: list[int] = []

    # ------------------------------------------------------------------ per batch
    def process(self, data_batch, data_samples) -> None:
        for sample in data_samples:
            pred = _get(sample, "pred_instances")
            if pred is None:
                raise KeyError("CocoMetric.process: a data sample has no 'pred_instances'")
            result = dict(
                img_id=_get(sample, "img_id"),
                bboxes=_np(_get(pred, "bboxes")).astype(np.float32).reshape(-1, 4),
                scores=_np(_get(pred, "scores")).astype(np.float32).reshape(-1),
                labels=_np(_get(pred, "labels")).astype(np.int64).reshape(-1),
            )
            if result["img_id"] is None:
                raise KeyError("CocoMetric.process: a data sample has no 'img_id' in its metainfo")
            masks = _get(pred, "masks")
            if masks is not None and "segm" in self.metrics:
                result["masks"] = encode_mask_results(_np(masks))
                mask_scores = _get(pred, "mask_scores")
                result["mask_scores"] = _np(mask_scores).reshape(-1) if mask_scores is not None else result["scores"]
            gt = None
            if self._coco_gt is None:
                gt = self._gt_from_sample(sample)
            self.results.append((gt, result))

    @staticmethod
    def _gt_from_sample(sample) -> dict:
        ori_shape = _get(sample, "ori_shape")
        gt = dict(width=ori_shape[1], height=ori_shape[0], img_id=_get(sample, "img_id"))
        instances = _get(sample, "instances")
        if instances is not None:
            gt["anns"] = [
                dict(bbox=list(map(float, inst["bbox"])), bbox_label=int(inst["bbox_label"]),
                     ignore_flag=int(inst.get("ignore_flag", 0)), mask=inst.get("mask"))
                for inst in instances
            ]  # fmt: skip
            return gt
        gt_instances = _get(sample, "gt_instances")
        if gt_instances is None:
            raise KeyError(
                "CocoMetric without ann_file needs the ground truth in each data sample: keep 'instances' in "
                "PackDetInputs(meta_keys=...) or provide gt_instances"
            )
        # As in MMDetection test pipelines, LoadAnnotations runs after Resize: gt boxes are in the original image.
        boxes = _np(_get(gt_instances, "bboxes")).reshape(-1, 4).astype(np.float64)
        labels = _np(_get(gt_instances, "labels")).reshape(-1)
        gt["anns"] = [dict(bbox=b.tolist(), bbox_label=int(lb), ignore_flag=0) for b, lb in zip(boxes, labels)]
        return gt

    # ------------------------------------------------------------------ reduction
    def _class_names(self) -> tuple:
        meta = self.dataset_meta or {}
        return tuple(meta.get("classes", ()))

    def gt_to_coco_json(self, gts: list[dict]) -> dict:
        """Ground truth collected from data samples as a COCO dict (boxes only unless masks were given)."""
        classes = self._class_names()
        if not classes:
            raise ValueError("CocoMetric without ann_file needs dataset_meta['classes'] (set by the runner)")
        categories = [dict(id=i, name=name) for i, name in enumerate(classes)]
        images, annotations = [], []
        for gt in gts:
            images.append(dict(id=gt["img_id"], width=gt["width"], height=gt["height"], file_name=""))
            for ann in gt["anns"]:
                x1, y1, x2, y2 = ann["bbox"]
                entry = dict(
                    id=len(annotations) + 1, image_id=gt["img_id"], category_id=ann["bbox_label"],
                    bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1), iscrowd=ann["ignore_flag"],
                )  # fmt: skip
                if ann.get("mask") is not None:
                    entry["segmentation"] = ann["mask"]
                annotations.append(entry)
        return dict(images=images, annotations=annotations, categories=categories)

    def results_to_json(self, preds: list[dict]) -> dict[str, list]:
        """COCO result entries per iou type: bbox as xywh, segm as RLE with str counts."""
        cat_ids = self.cat_ids
        out = {"bbox": [], "segm": []}
        for pred in preds:
            if len(pred["labels"]) and pred["labels"].max() >= len(cat_ids):
                raise ValueError(
                    f"CocoMetric: image {pred['img_id']} has label {pred['labels'].max()} but there are only "
                    f"{len(cat_ids)} classes"
                )
            xywh = xyxy2xywh(pred["bboxes"])
            for i in range(len(pred["labels"])):
                out["bbox"].append(
                    dict(image_id=pred["img_id"], bbox=xywh[i].tolist(), score=float(pred["scores"][i]),
                         category_id=cat_ids[pred["labels"][i]])
                )  # fmt: skip
            for i, rle in enumerate(pred.get("masks", [])):
                out["segm"].append(
                    dict(image_id=pred["img_id"], segmentation=rle, score=float(pred["mask_scores"][i]),
                         category_id=cat_ids[pred["labels"][i]])
                )  # fmt: skip
        return out

    def compute_metrics(self, results: list) -> dict:
        gts, preds = zip(*results) if results else ((), ())
        COCO, COCOeval = coco_api(self.backend)
        coco_gt = self._coco_gt
        if coco_gt is None:
            coco_gt = COCO()
            coco_gt.dataset = self.gt_to_coco_json(list(gts))
            with contextlib.redirect_stdout(io.StringIO()):
                coco_gt.createIndex()
        classes = self._class_names()
        if classes:
            by_name = {}
            for cat in coco_gt.dataset["categories"]:
                by_name.setdefault(cat["name"], cat["id"])
            missing = [c for c in classes if c not in by_name]
            if missing:
                raise ValueError(f"CocoMetric: classes {missing} are not categories of the ground truth")
            self.cat_ids = [by_name[c] for c in classes]
        else:
            self.cat_ids = sorted(c["id"] for c in coco_gt.dataset["categories"])
            classes = tuple(coco_gt.cats[c]["name"] for c in self.cat_ids)
        self.img_ids = [p["img_id"] for p in preds]
        result_json = self.results_to_json(list(preds))

        if self.format_only or self.outfile_prefix:
            prefix = self.outfile_prefix or osp.join(tempfile.mkdtemp(), "results")
            for iou_type, entries in result_json.items():
                if iou_type == "bbox" or entries:
                    with open(f"{prefix}.{iou_type}.json", "w", encoding="utf-8") as f:
                        json.dump(entries, f)
            if self.format_only:
                from vk_core.logging import print_log

                print_log(f"CocoMetric: results written to {osp.dirname(prefix) or '.'}", logger="current")
                return OrderedDict()

        metrics = OrderedDict()
        for metric in self.metrics:
            iou_type = "bbox" if metric in ("proposal", "proposal_fast") else metric
            entries = result_json[iou_type]
            if metric.startswith("proposal"):
                entries = [dict(e, category_id=self.cat_ids[0]) for e in entries]
            if not entries:
                warnings.warn(f"CocoMetric: no {iou_type} predictions; the {metric} metrics are 0", stacklevel=2)
                stats = np.zeros(12)
                self.stats[metric] = stats
                metrics.update(self._named(metric, stats))
                continue
            with contextlib.redirect_stdout(io.StringIO()):
                coco_dt = coco_gt.loadRes(entries)
                evaluator = COCOeval(coco_gt, coco_dt, iou_type)
                evaluator.params.imgIds = list(dict.fromkeys(self.img_ids))
                evaluator.params.iouThrs = self.iou_thrs
                if metric.startswith("proposal"):
                    evaluator.params.useCats = 0
                    evaluator.params.maxDets = self.proposal_nums
                else:
                    evaluator.params.catIds = self.cat_ids
                evaluator.evaluate()
                evaluator.accumulate()
                evaluator.summarize()
            stats = np.asarray(evaluator.stats[:12], dtype=np.float64)
            self.stats[metric] = stats
            metrics.update(self._named(metric, stats))
            if self.classwise and not metric.startswith("proposal"):
                metrics.update(self._classwise(metric, evaluator, classes))
        return metrics

    def _named(self, metric: str, stats: np.ndarray) -> dict:
        if metric.startswith("proposal"):
            names = [f"AR@{n}" for n in self.proposal_nums] + [f"AR_s@{self.proposal_nums[-1]}",
                     f"AR_m@{self.proposal_nums[-1]}", f"AR_l@{self.proposal_nums[-1]}"]  # fmt: skip
            values = stats[6:12]
            wanted = self.metric_items or names
            return {name: round(float(v), 4) for name, v in zip(names, values) if name in wanted}
        wanted = self.metric_items or STAT_NAMES[:6]
        for item in wanted:
            if item not in STAT_NAMES:
                raise KeyError(f"CocoMetric: metric_items entry {item!r} is not one of {STAT_NAMES}")
        out = {f"{metric}_{name}": round(float(v), 4) for name, v in zip(STAT_NAMES, stats) if name in wanted}
        out[f"{metric}_mAP_copypaste"] = " ".join(f"{v:.3f}" for v in stats[:6])
        return out

    def _classwise(self, metric: str, evaluator, classes) -> dict:
        """Per-class AP (IoU 0.5:0.95, area all, maxDets 100) as values and a logged table."""
        precisions = evaluator.eval["precision"]  # (iou, recall, class, area, maxdet)
        rows, out = [], {}
        for k, name in enumerate(classes):
            p = precisions[:, :, k, 0, -1]
            p = p[p > -1]
            ap = float(np.mean(p)) if p.size else float("nan")
            out[f"{metric}_{name}_precision"] = round(ap, 4)
            rows.append((name, f"{ap:.3f}"))
        from vk_core.logging import print_log

        flat = list(itertools.chain(*rows))
        lines = [" | ".join(flat[i : i + 6]) for i in range(0, len(flat), 6)]
        print_log(f"{metric} per-class AP:\n" + "\n".join(lines), logger="current")
        return out
