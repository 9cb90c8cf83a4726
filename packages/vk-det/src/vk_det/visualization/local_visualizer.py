"""DetLocalVisualizer: draws ground truth and predictions of a DetDataSample with the dataset palette."""

from __future__ import annotations

import numpy as np
from vk_core.visualization import Visualizer

from ..registry import VISUALIZERS


def _np(x):
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    if hasattr(x, "to_ndarray"):  # BitmapMasks / PolygonMasks
        return x.to_ndarray()
    return np.asarray(x)


def _get(d, key, default=None):
    if isinstance(d, dict):
        return d.get(key, default)
    return getattr(d, key, default) if d is not None and key in d else default


def palette_for(classes, palette=None) -> list[tuple[int, int, int]]:
    """The dataset palette, or a fixed random one, with one RGB colour per class."""
    n = max(len(classes), 1)
    if palette is not None and len(palette) >= n:
        return [tuple(int(c) for c in color) for color in palette[:n]]
    rng = np.random.RandomState(42)
    return [tuple(int(v) for v in rng.randint(0, 256, 3)) for _ in range(n)]


@VISUALIZERS.register_module()
class DetLocalVisualizer(Visualizer):
    """Boxes, ``class score`` labels and masks; ground truth on the left and predictions on the right when both
    are drawn. ``bbox_color``/``text_color``/``mask_color`` of None use the class palette."""

    def __init__(
        self,
        name: str = "visualizer",
        image=None,
        vis_backends=None,
        save_dir=None,
        bbox_color=None,
        text_color=(200, 200, 200),
        mask_color=None,
        line_width: int = 2,
        alpha: float = 0.8,
    ):
        super().__init__(name=name, image=image, vis_backends=vis_backends, save_dir=save_dir)
        self.bbox_color = bbox_color
        self.text_color = text_color
        self.mask_color = mask_color
        self.line_width = line_width
        self.alpha = alpha

    def _draw_instances(self, image: np.ndarray, instances, classes, palette) -> np.ndarray:
        self.set_image(image)
        if instances is None:
            return self.get_image()
        colors = palette_for(classes, palette)
        labels = _get(instances, "labels")
        labels = _np(labels).astype(int).reshape(-1) if labels is not None else None
        masks = _get(instances, "masks")
        if masks is not None and len(masks):
            masks = _np(masks).astype(bool)
            if masks.ndim == 3 and masks.shape[1:] == image.shape[:2]:
                mask_colors = [
                    self.mask_color or colors[lb % len(colors)]
                    for lb in (labels if labels is not None else [0] * len(masks))
                ]
                self.draw_binary_masks(masks, colors=mask_colors, alphas=self.alpha * 0.6)
        boxes = _get(instances, "bboxes")
        if boxes is not None and len(boxes):
            boxes = _np(boxes).reshape(-1, 4)
            boxes = np.maximum(boxes, 0)
            boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
            if labels is None:
                labels = np.zeros(len(boxes), int)
            box_colors = [self.bbox_color or colors[lb % len(colors)] for lb in labels]
            self.draw_bboxes(boxes, edge_colors=box_colors, line_widths=self.line_width, alpha=self.alpha)
            scores = _get(instances, "scores")
            scores = _np(scores).reshape(-1) if scores is not None else None
            texts = []
            for i, lb in enumerate(labels):
                name = classes[lb] if 0 <= lb < len(classes) else f"class {lb}"
                texts.append(f"{name} {scores[i]:.2f}" if scores is not None else name)
            positions = np.stack([boxes[:, 0], np.maximum(boxes[:, 1] - 14, 0)], axis=1)
            font = int(min(max(image.shape[0] / 30, 10), 20))
            self.draw_texts(texts, positions, font_sizes=font, colors=self.text_color, bboxes={"facecolor": "black"})
        return self.get_image()

    def add_datasample(
        self,
        name: str,
        image: np.ndarray,
        data_sample=None,
        draw_gt: bool = True,
        draw_pred: bool = True,
        show: bool = False,
        wait_time: float = 0,
        out_file: str | None = None,
        pred_score_thr: float = 0.3,
        step: int = 0,
    ) -> np.ndarray:
        """Draw ``data_sample`` over ``image`` (RGB); write ``out_file`` if given, else record to the backends.
        Returns the drawn RGB image."""
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        image = np.clip(image, 0, 255).astype(np.uint8)
        meta = self.dataset_meta or {}
        classes = tuple(meta.get("classes", ()))
        palette = meta.get("palette")
        gt_img = pred_img = None
        if data_sample is not None:
            if draw_gt and _get(data_sample, "gt_instances") is not None:
                gt_img = self._draw_instances(image, _get(data_sample, "gt_instances"), classes, palette)
            if draw_pred and _get(data_sample, "pred_instances") is not None:
                pred = _get(data_sample, "pred_instances")
                scores = _get(pred, "scores")
                if scores is not None:
                    keep = _np(scores).reshape(-1) > pred_score_thr
                    if isinstance(pred, dict):
                        pred = _filter_dict(pred, keep)
                    else:
                        import torch

                        pred = pred[torch.from_numpy(keep)]
                pred_img = self._draw_instances(image, pred, classes, palette)
        if gt_img is not None and pred_img is not None:
            drawn = np.concatenate([gt_img, pred_img], axis=1)
        elif gt_img is not None:
            drawn = gt_img
        elif pred_img is not None:
            drawn = pred_img
        else:
            drawn = image
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            import os

            import cv2

            os.makedirs(os.path.dirname(os.path.abspath(out_file)), exist_ok=True)
            if not cv2.imwrite(str(out_file), drawn[:, :, ::-1]):
                raise OSError(f"DetLocalVisualizer: could not write {out_file}")
        else:
            self.add_image(name, drawn, step)
        return drawn


def _filter_dict(instances: dict, keep: np.ndarray) -> dict:
    out = {}
    for k, v in instances.items():
        if hasattr(v, "__len__") and len(v) == len(keep):
            out[k] = v[keep] if not isinstance(v, list) else [x for x, m in zip(v, keep) if m]
        else:
            out[k] = v
    return out
