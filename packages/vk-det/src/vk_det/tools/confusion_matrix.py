"""``vk det confusion-matrix CONFIG RESULTS SAVE_DIR``: class confusion of stored test predictions."""

from __future__ import annotations

import os
import os.path as osp
import pickle

import numpy as np

HELP = "confusion matrix (with a background row/column) from a DumpResults pickle of test predictions"


def _np(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-6)


def confusion_for_image(matrix, gt_boxes, gt_labels, det_boxes, det_scores, det_labels, score_thr, tp_iou_thr):
    """Add one image to ``matrix`` ((C+1) x (C+1), rows = truth, columns = prediction, last = background).

    As MMDetection: a kept detection counts once for every ground truth it overlaps by ``tp_iou_thr`` (in that
    ground truth's row); one overlapping nothing is a background false positive; a ground truth no detection of its
    own class overlaps is a false negative (background column).
    """
    keep = det_scores >= score_thr
    det_boxes, det_labels = det_boxes[keep], det_labels[keep]
    num_gt = len(gt_labels)
    if num_gt and len(det_labels):
        match = _iou(det_boxes, gt_boxes) >= tp_iou_thr  # (D, G)
    else:
        match = np.zeros((len(det_labels), num_gt), bool)
    d_idx, g_idx = np.nonzero(match)
    np.add.at(matrix, (gt_labels[g_idx], det_labels[d_idx]), 1)
    unmatched = ~match.any(axis=1)
    np.add.at(matrix, (np.full(unmatched.sum(), -1), det_labels[unmatched]), 1)
    same = match & (det_labels[:, None] == gt_labels[None, :])
    missed = ~same.any(axis=0)
    np.add.at(matrix, (gt_labels[missed], np.full(missed.sum(), -1)), 1)
    return matrix


def calculate_confusion_matrix(dataset, results, score_thr=0.3, tp_iou_thr=0.5, nms_iou_thr=None) -> np.ndarray:
    num_classes = len(dataset.metainfo["classes"])
    if len(results) != len(dataset):
        raise ValueError(f"{len(results)} results for a dataset of {len(dataset)} images")
    matrix = np.zeros((num_classes + 1, num_classes + 1), dtype=np.int64)
    for idx, result in enumerate(results):
        info = dataset.get_data_info(idx)
        inst = [i for i in info["instances"] if not i.get("ignore_flag", 0)]
        gt_boxes = np.array([i["bbox"] for i in inst], np.float32).reshape(-1, 4)
        gt_labels = np.array([i["bbox_label"] for i in inst], np.int64)
        pred = result["pred_instances"]
        boxes, scores, labels = _np(pred["bboxes"]), _np(pred["scores"]), _np(pred["labels"]).astype(np.int64)
        if nms_iou_thr is not None and len(boxes):
            import torch
            from vk_ops import batched_nms

            _, keep = batched_nms(
                torch.from_numpy(boxes).float(),
                torch.from_numpy(scores).float(),
                torch.from_numpy(labels),
                dict(iou_threshold=nms_iou_thr),
            )
            keep = keep.numpy()
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        confusion_for_image(matrix, gt_boxes, gt_labels, boxes, scores, labels, score_thr, tp_iou_thr)
    return matrix


def plot_confusion_matrix(matrix: np.ndarray, labels, save_path: str, title: str = "Normalized confusion matrix"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sums = matrix.sum(axis=1, keepdims=True)
    norm = matrix.astype(np.float64) / np.maximum(sums, 1) * 100
    n = len(labels)
    fig, ax = plt.subplots(figsize=(0.5 * n + 3, 0.5 * n + 2.5), dpi=120)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=100)
    fig.colorbar(im, ax=ax)
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("Prediction")
    ax.set_ylabel("Ground truth")
    ax.set_title(title)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{norm[i, j]:.0f}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 50 else "black")  # fmt: skip
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(save_path)), exist_ok=True)
    fig.savefig(save_path)
    plt.close(fig)
    return save_path


def add_arguments(parser) -> None:
    parser.add_argument("config", help="config path or shipped config name (its test dataset is used)")
    parser.add_argument("prediction_path", help="pickle written by DumpResults (vk test ... --out results.pkl)")
    parser.add_argument("save_dir", help="writes confusion_matrix.png and confusion_matrix.npy here")
    parser.add_argument("--score-thr", type=float, default=0.3)
    parser.add_argument("--tp-iou-thr", type=float, default=0.5)
    parser.add_argument("--nms-iou-thr", type=float, default=None, help="extra class-wise NMS before matching")


def run(args) -> int:
    from ..apis import resolve_config
    from .browse_dataset import build_dataset

    cfg = resolve_config(args.config)
    cfg.test_dataloader["dataset"]["pipeline"] = []
    dataset = build_dataset(cfg, "test")
    with open(args.prediction_path, "rb") as f:
        results = pickle.load(f)
    results = [r.to_dict() if hasattr(r, "to_dict") else r for r in results]
    matrix = calculate_confusion_matrix(dataset, results, args.score_thr, args.tp_iou_thr, args.nms_iou_thr)
    os.makedirs(args.save_dir, exist_ok=True)
    np.save(osp.join(args.save_dir, "confusion_matrix.npy"), matrix)
    labels = [*dataset.metainfo["classes"], "background"]
    path = plot_confusion_matrix(matrix, labels, osp.join(args.save_dir, "confusion_matrix.png"))
    print(f"wrote {path}")
    return 0
