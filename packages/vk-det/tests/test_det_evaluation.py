import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from vk_det.evaluation import CocoMetric, VOCMetric, average_precision, eval_map
from vk_det.structures import polygons_to_bitmap

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
pycocotools = pytest.importorskip("pycocotools")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    from vk_core.testing import make_shapes_dataset

    info = make_shapes_dataset(tmp_path_factory.mktemp("shapes"), splits={"val": 12}, image_size=96, seed=3)
    return info


def _perturbed_predictions(coco, classes, seed, with_masks):
    """Detections built from the ground truth: jittered boxes, wrong labels, duplicates, false positives."""
    rng = np.random.default_rng(seed)
    name_to_label = {n: i for i, n in enumerate(classes)}
    cat_name = {c["id"]: c["name"] for c in coco["categories"]}
    by_img = {}
    for ann in coco["annotations"]:
        by_img.setdefault(ann["image_id"], []).append(ann)
    samples = []
    for img in coco["images"]:
        h, w = img["height"], img["width"]
        boxes, labels, masks = [], [], []
        for ann in by_img.get(img["id"], []):
            if cat_name[ann["category_id"]] not in name_to_label or (with_masks and ann.get("iscrowd")):
                continue
            x, y, bw, bh = ann["bbox"]
            for _ in range(rng.integers(1, 3)):
                j = rng.normal(0, 0.1, 4) * [bw, bh, bw, bh]
                boxes.append([x + j[0], y + j[1], x + bw + j[2], y + bh + j[3]])
                lab = name_to_label[cat_name[ann["category_id"]]]
                labels.append(lab if rng.random() > 0.1 else int(rng.integers(len(classes))))
                if with_masks:
                    m = polygons_to_bitmap(ann["segmentation"], h, w)
                    masks.append(np.roll(m, int(rng.integers(-2, 3)), axis=1))
        for _ in range(rng.integers(0, 3)):
            x1, y1 = rng.uniform(0, w - 10), rng.uniform(0, h - 10)
            boxes.append([x1, y1, x1 + rng.uniform(4, 40), y1 + rng.uniform(4, 40)])
            labels.append(int(rng.integers(len(classes))))
            if with_masks:
                m = np.zeros((h, w), np.uint8)
                m[int(y1) : int(y1) + 5, int(x1) : int(x1) + 5] = 1
                masks.append(m)
        pred = dict(
            bboxes=torch.tensor(np.array(boxes, np.float32).reshape(-1, 4)),
            scores=torch.rand(len(boxes), generator=torch.Generator().manual_seed(int(img["id"]) + seed)),
            labels=torch.tensor(labels, dtype=torch.long),
        )
        if with_masks:
            pred["masks"] = torch.from_numpy(np.array(masks, np.uint8).reshape(-1, h, w)).bool()
        samples.append(dict(img_id=img["id"], ori_shape=(h, w), pred_instances=pred))
    return samples


def _pycocotools_stats(ann_file, result_entries, iou_type, img_ids, cat_ids):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(ann_file))
        dt = gt.loadRes(result_entries)
        ev = COCOeval(gt, dt, iou_type)
        ev.params.imgIds = img_ids
        ev.params.catIds = cat_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats)


def _run_metric(metric, samples, classes, batch=4):
    metric.dataset_meta = dict(classes=classes)
    for i in range(0, len(samples), batch):
        metric.process({}, samples[i : i + batch])
    with contextlib.redirect_stdout(io.StringIO()):
        return metric.evaluate(len(samples))


@pytest.mark.parametrize("backend", ["faster_coco_eval", "pycocotools"])
def test_coco_metric_equals_pycocotools_on_shapes(shapes, backend):
    ann_file = shapes["splits"]["val"]["ann_file"]
    coco = json.loads(Path(ann_file).read_text())
    classes = tuple(shapes["classes"])
    samples = _perturbed_predictions(coco, classes, seed=1, with_masks=True)
    metric = CocoMetric(ann_file=ann_file, metric=["bbox", "segm"], backend=backend, classwise=True)
    out = _run_metric(metric, samples, classes)
    entries = metric.results_to_json([dict(img_id=s["img_id"], **_np_pred(s)) for s in samples])
    img_ids = [s["img_id"] for s in samples]
    for iou_type in ("bbox", "segm"):
        ref = _pycocotools_stats(ann_file, entries[iou_type], iou_type, img_ids, metric.cat_ids)
        np.testing.assert_allclose(metric.stats[iou_type], ref, atol=1e-6, rtol=0)
        assert 0.05 < ref[0] < 0.95  # the perturbation leaves a non-trivial score
        assert out[f"coco/{iou_type}_mAP"] == round(float(ref[0]), 4)
    assert f"coco/bbox_{classes[0]}_precision" in out


def _np_pred(sample):
    from vk_det.structures import encode_mask_results

    p = sample["pred_instances"]
    d = dict(bboxes=p["bboxes"].numpy(), scores=p["scores"].numpy(), labels=p["labels"].numpy())
    if "masks" in p:
        d["masks"] = encode_mask_results(p["masks"])
        d["mask_scores"] = d["scores"]
    return d


@pytest.mark.skipif(not (DATA / "coco128").is_dir(), reason="../shared/data/coco128 is absent")
def test_coco_metric_equals_pycocotools_on_coco128_boxes():
    ann_file = DATA / "coco128" / "annotations" / "instances_val2017_boxes.json"
    coco = json.loads(ann_file.read_text())
    COCO_CLASSES = tuple(c["name"] for c in sorted(coco["categories"], key=lambda c: c["id"]))
    samples = _perturbed_predictions(coco, COCO_CLASSES, seed=7, with_masks=False)
    metric = CocoMetric(ann_file=str(ann_file), metric="bbox")
    out = _run_metric(metric, samples, COCO_CLASSES, batch=16)
    entries = metric.results_to_json([dict(img_id=s["img_id"], **_np_pred(s)) for s in samples])
    ref = _pycocotools_stats(ann_file, entries["bbox"], "bbox", [s["img_id"] for s in samples], metric.cat_ids)
    np.testing.assert_allclose(metric.stats["bbox"], ref, atol=1e-6, rtol=0)
    assert 0.1 < ref[0] < 0.9
    assert out["coco/bbox_mAP_50"] == round(float(ref[1]), 4)


def test_coco_metric_perfect_predictions_and_gt_from_samples():
    classes = ("a", "b")
    samples = []
    for img_id in range(3):
        boxes = torch.tensor([[10.0, 10.0, 50.0, 60.0], [5.0, 70.0, 40.0, 95.0]]) + img_id
        labels = torch.tensor([0, 1])
        samples.append(
            dict(
                img_id=img_id,
                ori_shape=(100, 120),
                gt_instances=dict(bboxes=boxes, labels=labels),
                pred_instances=dict(bboxes=boxes, labels=labels, scores=torch.tensor([0.9, 0.8])),
            )
        )
    metric = CocoMetric(metric="bbox", prefix="x", metric_items=["mAP", "mAP_50", "mAP_s", "mAP_l"])
    out = _run_metric(metric, samples, classes)
    assert out["x/bbox_mAP"] == 1.0 and out["x/bbox_mAP_50"] == 1.0
    # areas 2000 (medium) and 875 (small); no large object, which COCO reports as -1
    assert out["x/bbox_mAP_s"] == 1.0 and out["x/bbox_mAP_l"] == -1.0


def test_coco_metric_format_only_and_errors(tmp_path):
    with pytest.raises(ValueError, match="outfile_prefix"):
        CocoMetric(format_only=True)
    with pytest.raises(KeyError, match="metric must be"):
        CocoMetric(metric="keypoints")
    with pytest.raises(FileNotFoundError, match="nope.json"):
        CocoMetric(ann_file=str(tmp_path / "nope.json"))
    with pytest.raises(ValueError, match="backend"):
        CocoMetric(backend="detectron")
    metric = CocoMetric(format_only=True, outfile_prefix=str(tmp_path / "res"))
    sample = dict(
        img_id=4,
        ori_shape=(10, 10),
        gt_instances=dict(bboxes=torch.zeros(0, 4), labels=torch.zeros(0)),
        pred_instances=dict(
            bboxes=torch.tensor([[1.0, 2.0, 4.0, 8.0]]), labels=torch.tensor([1]), scores=torch.tensor([0.5])
        ),
    )
    assert _run_metric(metric, [sample], ("a", "b")) == {}
    written = json.loads((tmp_path / "res.bbox.json").read_text())
    assert written == [dict(image_id=4, bbox=[1.0, 2.0, 3.0, 6.0], score=0.5, category_id=1)]


def test_average_precision_hand_values():
    rec = np.array([0.5, 0.5, 1.0])
    prec = np.array([1.0, 0.5, 2 / 3])
    assert average_precision(rec, prec, "area") == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    # 11 points: recall 0..0.5 -> max prec 1.0 (6 points), 0.6..1.0 -> 2/3 (5 points)
    assert average_precision(rec, prec, "11points") == pytest.approx((6 + 5 * 2 / 3) / 11)
    with pytest.raises(ValueError, match="eval_mode"):
        average_precision(rec, prec, "auc")


def test_eval_map_and_voc_metric():
    gt = dict(bboxes=np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32), labels=np.array([0, 0]),
              bboxes_ignore=np.array([[50, 50, 60, 60]], np.float32), labels_ignore=np.array([0]))  # fmt: skip
    dets = [[np.array([[0, 0, 10, 10, 0.9], [50, 50, 60, 60, 0.8], [0, 0, 10, 10, 0.7], [80, 80, 90, 90, 0.6]])]]
    mean_ap, per_class = eval_map(dets, [gt], 0.5, "area")
    # ranked: tp, (ignored), fp(duplicate), fp -> recall 0.5 at precision 1, never reaches 1.0
    assert per_class[0]["num_gts"] == 2 and mean_ap == pytest.approx(0.5)
    metric = VOCMetric(iou_thrs=[0.5, 0.75], use_legacy_coordinate=False)
    metric.dataset_meta = dict(classes=("a",))
    metric.process(
        {},
        [
            dict(
                gt_instances=dict(bboxes=torch.from_numpy(gt["bboxes"]), labels=torch.tensor([0, 0])),
                ignored_instances=dict(bboxes=torch.from_numpy(gt["bboxes_ignore"]), labels=torch.tensor([0])),
                pred_instances=dict(
                    bboxes=torch.tensor(dets[0][0][:, :4]), scores=torch.tensor(dets[0][0][:, 4]), labels=torch.zeros(4)
                ),
            )
        ],
    )
    out = metric.evaluate(1)
    assert out == {"pascal_voc/AP50": 0.5, "pascal_voc/AP75": 0.5, "pascal_voc/mAP": 0.5}


def test_proposal_recall_and_empty_predictions(shapes):
    ann_file = shapes["splits"]["val"]["ann_file"]
    coco = json.loads(Path(ann_file).read_text())
    classes = tuple(shapes["classes"])
    samples = _perturbed_predictions(coco, classes, seed=2, with_masks=False)
    metric = CocoMetric(ann_file=ann_file, metric="proposal", proposal_nums=(1, 10, 100))
    out = _run_metric(metric, samples, classes)
    assert set(out) == {"coco/AR@1", "coco/AR@10", "coco/AR@100", "coco/AR_s@100", "coco/AR_m@100", "coco/AR_l@100"}
    assert 0 < out["coco/AR@1"] <= out["coco/AR@10"] <= out["coco/AR@100"] <= 1
    empty = [
        dict(s, pred_instances=dict(bboxes=torch.zeros(0, 4), scores=torch.zeros(0), labels=torch.zeros(0)))
        for s in samples
    ]
    with pytest.warns(UserWarning, match="no bbox predictions"):
        out = _run_metric(CocoMetric(ann_file=ann_file), empty, classes)
    assert out["coco/bbox_mAP"] == 0.0


@pytest.mark.skipif(not (DATA / "coco128").is_dir(), reason="../shared/data/coco128 is absent")
def test_coco_metric_segm_equals_pycocotools_on_coco128_train_with_crowd():
    """Real polygons and crowd RLE ground truth; predictions are shifted ground-truth masks."""
    ann_file = DATA / "coco128" / "annotations" / "instances_train2017.json"
    coco = json.loads(ann_file.read_text())
    coco["images"] = coco["images"][:24]
    classes = tuple(c["name"] for c in sorted(coco["categories"], key=lambda c: c["id"]))
    samples = _perturbed_predictions(coco, classes, seed=5, with_masks=True)
    metric = CocoMetric(ann_file=str(ann_file), metric=["bbox", "segm"])
    _run_metric(metric, samples, classes, batch=8)
    entries = metric.results_to_json([dict(img_id=s["img_id"], **_np_pred(s)) for s in samples])
    img_ids = [s["img_id"] for s in samples]
    for iou_type in ("bbox", "segm"):
        ref = _pycocotools_stats(ann_file, entries[iou_type], iou_type, img_ids, metric.cat_ids)
        np.testing.assert_allclose(metric.stats[iou_type], ref, atol=1e-6, rtol=0)
        assert 0.05 < ref[0] < 0.95
