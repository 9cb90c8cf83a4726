"""BaseDetector: the three forward modes of every detector and the prediction hand-off to data samples."""

from __future__ import annotations

from collections.abc import Mapping

from vk_det.models._compat import MODELS, BaseModel
from vk_det.models.utils import samplelist_boxtype2tensor

_MODES = ("loss", "predict", "tensor")


class BaseDetector(BaseModel):
    """``forward(inputs, data_samples, mode)``: 'loss' -> dict of losses, 'predict' -> data samples with
    ``pred_instances``, 'tensor' -> raw head outputs."""

    def __init__(self, data_preprocessor=None, init_cfg=None):
        if isinstance(data_preprocessor, Mapping):
            # Built from the vk_det registry so DetDataPreprocessor resolves whatever the current default scope.
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)

    @property
    def with_neck(self):
        return getattr(self, "neck", None) is not None

    @property
    def with_shared_head(self):
        return hasattr(self, "roi_head") and self.roi_head.with_shared_head

    @property
    def with_bbox(self):
        return (hasattr(self, "roi_head") and self.roi_head.with_bbox) or getattr(self, "bbox_head", None) is not None

    @property
    def with_mask(self):
        return (hasattr(self, "roi_head") and self.roi_head.with_mask) or getattr(self, "mask_head", None) is not None

    def forward(self, inputs, data_samples=None, mode="tensor"):
        if mode == "loss":
            self._check_samples(inputs, data_samples, mode)
            return self.loss(inputs, data_samples)
        if mode == "predict":
            self._check_samples(inputs, data_samples, mode)
            return self.predict(inputs, data_samples)
        if mode == "tensor":
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports {", ".join(_MODES)} mode')

    @staticmethod
    def _check_samples(inputs, data_samples, mode):
        if data_samples is None or len(data_samples) != inputs.shape[0]:
            got = "None" if data_samples is None else len(data_samples)
            raise ValueError(f"mode={mode!r} needs one data sample per image: {inputs.shape[0]} images, {got} samples")

    def loss(self, batch_inputs, batch_data_samples):
        raise NotImplementedError

    def predict(self, batch_inputs, batch_data_samples):
        raise NotImplementedError

    def _forward(self, batch_inputs, batch_data_samples=None):
        raise NotImplementedError

    def extract_feat(self, batch_inputs):
        raise NotImplementedError

    def add_pred_to_datasample(self, data_samples, results_list):
        for sample, pred in zip(data_samples, results_list):
            sample.pred_instances = pred
        samplelist_boxtype2tensor(data_samples)
        return data_samples
