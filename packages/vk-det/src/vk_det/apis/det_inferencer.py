"""DetInferencer: images in, predictions (and drawings, and files) out, MMDetection 3.x style."""

from __future__ import annotations

import json
import os
import os.path as osp
import sys

import numpy as np
import torch

from ..registry import INFERENCERS
from .inference import _build_pipeline, get_test_pipeline_cfg, init_detector

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def list_images(folder: str) -> list[str]:
    files = sorted(
        osp.join(root, f) for root, _, names in os.walk(folder) for f in names if f.lower().endswith(IMG_EXTENSIONS)
    )
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMG_EXTENSIONS)}) found under {folder}")
    return files


@INFERENCERS.register_module()
class DetInferencer:
    """Run a detector on paths, folders, arrays (BGR, HxWx3) or lists of them.

    ``inferencer(inputs, batch_size=1, pred_score_thr=0.3, out_dir='', return_vis=False, return_datasamples=False)``
    returns ``{'predictions': [...], 'visualization': [...]}``; each prediction is a dict with ``labels``,
    ``scores``, ``bboxes`` (xyxy, original image) and ``masks`` (COCO RLE) when the model predicts masks.
    With ``out_dir`` it writes ``preds/NAME.json`` and ``vis/NAME.jpg`` (arrays are named ``00000000`` ...).
    """

    def __init__(
        self, model=None, weights=None, device=None, scope: str = "vk_det", palette: str = "none", show_progress=True
    ):
        if model is None and weights is None:
            raise ValueError("DetInferencer needs a config (path, shipped name or Config) as model, and/or weights")
        if model is None:
            ckpt = torch.load(weights, map_location="cpu", weights_only=True)
            model = (ckpt.get("meta") or {}).get("cfg")
            if model is None:
                raise ValueError(f"{weights}: the checkpoint carries no config; pass model=CONFIG")
            from vk_core.config import Config

            model = Config.fromstring(model, ".py") if isinstance(model, str) else Config(model)
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = init_detector(model, weights, palette=palette, device=device)
        self.cfg = self.model.cfg
        self.device = device
        self.show_progress = show_progress
        self._pipelines: dict[bool, object] = {}
        self.visualizer = None

    def _pipeline(self, from_ndarray: bool):
        if from_ndarray not in self._pipelines:
            self._pipelines[from_ndarray] = _build_pipeline(get_test_pipeline_cfg(self.cfg, from_ndarray))
        return self._pipelines[from_ndarray]

    def _get_visualizer(self):
        if self.visualizer is None:
            from ..visualization import DetLocalVisualizer

            self.visualizer = DetLocalVisualizer(name=f"det_inferencer_{id(self)}")
            self.visualizer.dataset_meta = self.model.dataset_meta
        return self.visualizer

    @staticmethod
    def _inputs_to_list(inputs) -> list:
        if isinstance(inputs, (str, os.PathLike)):
            inputs = str(inputs)
            if osp.isdir(inputs):
                return list_images(inputs)
            if not osp.isfile(inputs):
                raise FileNotFoundError(f"DetInferencer: input {inputs} is not a file or a folder")
            return [inputs]
        if isinstance(inputs, np.ndarray):
            return [inputs]
        if isinstance(inputs, (list, tuple)):
            out = []
            for i, item in enumerate(inputs):
                if isinstance(item, (str, os.PathLike)) and osp.isdir(str(item)):
                    out.extend(list_images(str(item)))
                elif isinstance(item, np.ndarray) or (isinstance(item, (str, os.PathLike)) and osp.isfile(str(item))):
                    out.append(item if isinstance(item, np.ndarray) else str(item))
                else:
                    raise FileNotFoundError(
                        f"DetInferencer: inputs[{i}] = {item!r} is not an image file, folder or array"
                    )
            return out
        raise TypeError(
            f"DetInferencer: inputs must be a path, a folder, an array or a list, got {type(inputs).__name__}"
        )

    def _progress(self, total: int):
        if self.show_progress and total > 1 and sys.stderr.isatty():
            from rich.progress import Progress

            return Progress(transient=True)
        return None

    def __call__(
        self,
        inputs,
        batch_size: int = 1,
        return_vis: bool = False,
        show: bool = False,
        wait_time: float = 0,
        no_save_vis: bool = False,
        draw_pred: bool = True,
        pred_score_thr: float = 0.3,
        return_datasamples: bool = False,
        print_result: bool = False,
        no_save_pred: bool = False,
        out_dir: str = "",
    ) -> dict:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DetInferencer: batch_size must be a positive int, got {batch_size!r}")
        items = self._inputs_to_list(inputs)
        results = dict(predictions=[], visualization=[])
        progress = self._progress(len(items))
        task = None
        if progress is not None:
            progress.start()
            task = progress.add_task("inference", total=len(items))
        try:
            for start in range(0, len(items), batch_size):
                chunk = items[start : start + batch_size]
                samples = self._forward(chunk, start)
                for k, (item, sample) in enumerate(zip(chunk, samples)):
                    index = start + k
                    name = osp.splitext(osp.basename(item))[0] if isinstance(item, str) else f"{index:08d}"
                    vis = None
                    if return_vis or show or (out_dir and not no_save_vis):
                        vis = self._draw(
                            item, sample, name, show, wait_time, draw_pred, pred_score_thr, out_dir, no_save_vis
                        )
                    pred = sample if return_datasamples else self.pred2dict(sample)
                    if out_dir and not no_save_pred:
                        self._save_pred(self.pred2dict(sample) if return_datasamples else pred, out_dir, name)
                    if print_result:
                        print(pred)
                    results["predictions"].append(pred)
                    if return_vis:
                        results["visualization"].append(vis)
                if progress is not None:
                    progress.advance(task, len(chunk))
        finally:
            if progress is not None:
                progress.stop()
        return results

    def _forward(self, chunk: list, start: int) -> list:
        inputs, data_samples = [], []
        for k, item in enumerate(chunk):
            if isinstance(item, np.ndarray):
                data = self._pipeline(True)(dict(img=item, img_id=start + k))
            else:
                data = self._pipeline(False)(dict(img_path=item, img_id=start + k))
            inputs.append(data["inputs"])
            data_samples.append(data["data_samples"])
        with torch.no_grad():
            return self.model.test_step(dict(inputs=inputs, data_samples=data_samples))

    def _draw(self, item, sample, name, show, wait_time, draw_pred, thr, out_dir, no_save_vis):
        import cv2

        img = cv2.imread(item, cv2.IMREAD_COLOR) if isinstance(item, str) else item
        if img is None:
            raise FileNotFoundError(f"DetInferencer: cannot read {item}")
        out_file = osp.join(out_dir, "vis", f"{name}.jpg") if out_dir and not no_save_vis else None
        return self._get_visualizer().add_datasample(
            name,
            img[:, :, ::-1],
            sample,
            draw_gt=False,
            draw_pred=draw_pred,
            show=show,
            wait_time=wait_time,
            out_file=out_file,
            pred_score_thr=thr,
        )

    @staticmethod
    def pred2dict(sample) -> dict:
        """JSON-ready prediction: lists of labels, scores, xyxy bboxes and (if any) RLE masks."""
        pred = sample.pred_instances
        out = dict(
            labels=pred.labels.tolist(),
            scores=pred.scores.tolist(),
            bboxes=pred.bboxes.tolist(),
        )
        if "masks" in pred:
            from ..structures import encode_mask_results

            out["masks"] = encode_mask_results(pred.masks)
        return out

    @staticmethod
    def _save_pred(pred: dict, out_dir: str, name: str) -> None:
        path = osp.join(out_dir, "preds", f"{name}.json")
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(pred, f)
