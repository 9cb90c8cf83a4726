"""DetVisualizationHook: draws validation/test predictions during a run."""

from __future__ import annotations

import os.path as osp

import numpy as np
from vk_core.hooks.hook import Hook

from ..registry import HOOKS


def _read_rgb(path: str) -> np.ndarray:
    import cv2

    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"DetVisualizationHook: cannot read image {path}")
    return img[:, :, ::-1]


@HOOKS.register_module()
class DetVisualizationHook(Hook):
    """With ``draw=True``: every ``interval``-th validation image goes to the visualizer's backends (step = the
    running image count); every test image is drawn, into ``work_dir/<timestamp>/<test_out_dir>/`` when
    ``test_out_dir`` is set."""

    priority = "NORMAL"

    def __init__(
        self,
        draw: bool = False,
        interval: int = 50,
        score_thr: float = 0.3,
        show: bool = False,
        wait_time: float = 0.0,
        test_out_dir: str | None = None,
        backend_args: dict | None = None,
    ):
        if interval <= 0:
            raise ValueError(f"DetVisualizationHook interval must be positive, got {interval}")
        self.draw = draw
        self.interval = interval
        self.score_thr = score_thr
        self.show = show
        self.wait_time = wait_time
        self.test_out_dir = test_out_dir
        self._test_index = 0

    @staticmethod
    def _visualizer(runner):
        vis = getattr(runner, "visualizer", None)
        if vis is None:
            from vk_core.visualization import Visualizer

            vis = Visualizer.get_current_instance()
        return vis

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.draw or not outputs:
            return
        total = getattr(runner, "iter", 0) + batch_idx
        if total % self.interval == 0:
            sample = outputs[0]
            img = _read_rgb(sample.img_path)
            self._visualizer(runner).add_datasample(
                osp.basename(sample.img_path) if sample.img_path else "val_img",
                img,
                data_sample=sample,
                show=self.show,
                wait_time=self.wait_time,
                pred_score_thr=self.score_thr,
                step=total,
            )

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.draw or not outputs:
            return
        out_dir = None
        if self.test_out_dir is not None:
            out_dir = osp.join(runner.work_dir, getattr(runner, "timestamp", ""), self.test_out_dir)
        for sample in outputs:
            self._test_index += 1
            img = _read_rgb(sample.img_path)
            name = osp.basename(sample.img_path)
            self._visualizer(runner).add_datasample(
                name,
                img,
                data_sample=sample,
                show=self.show,
                wait_time=self.wait_time,
                pred_score_thr=self.score_thr,
                out_file=osp.join(out_dir, name) if out_dir else None,
                step=self._test_index,
            )
