"""DetDataPreprocessor: normalise and pad the images of a batch and record the shapes in the data samples."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from vk_det.models._compat import MODELS, ImgDataPreprocessor
from vk_det.models.utils import samplelist_boxtype2tensor


@MODELS.register_module()
class DetDataPreprocessor(ImgDataPreprocessor):
    """ImgDataPreprocessor plus the detection bookkeeping.

    Sets ``batch_input_shape`` (the padded batch (h, w)) and ``pad_shape`` (each image's own size rounded up to
    ``pad_size_divisor``) in every data sample's meta information, converts box-type boxes to tensors
    (``boxtype2tensor``), pads ground-truth masks (``pad_mask``) and semantic maps (``pad_seg``) to the batch
    shape while training, then applies the ``batch_augments`` (callables or MODELS configs taking and returning
    ``(inputs, data_samples)``) while training.
    """

    def __init__(
        self,
        mean=None,
        std=None,
        pad_size_divisor=1,
        pad_value=0,
        pad_mask=False,
        mask_pad_value=0,
        pad_seg=False,
        seg_pad_value=255,
        bgr_to_rgb=False,
        rgb_to_bgr=False,
        boxtype2tensor=True,
        non_blocking=False,
        batch_augments=None,
    ):
        super().__init__(
            mean=mean,
            std=std,
            pad_size_divisor=pad_size_divisor,
            pad_value=pad_value,
            bgr_to_rgb=bgr_to_rgb,
            rgb_to_bgr=rgb_to_bgr,
            non_blocking=non_blocking,
        )
        if batch_augments is not None:
            built = [MODELS.build(a) if isinstance(a, dict) else a for a in batch_augments]
            for i, aug in enumerate(built):
                if not callable(aug):
                    raise TypeError(f"DetDataPreprocessor: batch_augments[{i}] is not callable: {aug!r}")
            self.batch_augments = nn.ModuleList([a for a in built if isinstance(a, nn.Module)])
            self._batch_augment_fns = built
        else:
            self.batch_augments = None
            self._batch_augment_fns = []
        self.pad_mask = pad_mask
        self.mask_pad_value = mask_pad_value
        self.pad_seg = pad_seg
        self.seg_pad_value = seg_pad_value
        self.boxtype2tensor = boxtype2tensor

    def _get_pad_shape(self, data):
        inputs = data["inputs"]
        d = self.pad_size_divisor
        if isinstance(inputs, torch.Tensor):
            h, w = inputs.shape[-2:]
            return [(math.ceil(h / d) * d, math.ceil(w / d) * d)] * inputs.shape[0]
        return [(math.ceil(t.shape[-2] / d) * d, math.ceil(t.shape[-1] / d) * d) for t in inputs]

    def forward(self, data, training=False):
        pad_shapes = self._get_pad_shape(data)
        data = super().forward(data, training)
        inputs, samples = data["inputs"], data.get("data_samples")
        if samples is not None:
            if len(samples) != inputs.shape[0]:
                raise ValueError(f"DetDataPreprocessor: {inputs.shape[0]} images but {len(samples)} data samples")
            batch_input_shape = tuple(inputs.shape[-2:])
            for sample, pad_shape in zip(samples, pad_shapes):
                sample.set_metainfo({"batch_input_shape": batch_input_shape, "pad_shape": pad_shape})
            if self.boxtype2tensor:
                samplelist_boxtype2tensor(samples)
            if training and self.pad_mask:
                self._pad_gt_masks(samples)
            if training and self.pad_seg:
                self._pad_gt_sem_seg(samples)
        if training:
            for aug in self._batch_augment_fns:
                inputs, samples = aug(inputs, samples)
        return {"inputs": inputs, "data_samples": samples}

    def _pad_gt_masks(self, samples):
        for sample in samples:
            masks = getattr(sample.gt_instances, "masks", None) if "masks" in sample.gt_instances else None
            if masks is not None and hasattr(masks, "pad"):
                sample.gt_instances.masks = masks.pad(sample.batch_input_shape, pad_val=self.mask_pad_value)

    def _pad_gt_sem_seg(self, samples):
        for sample in samples:
            if "gt_sem_seg" not in sample:
                continue
            seg = sample.gt_sem_seg.sem_seg
            h, w = seg.shape[-2:]
            ph, pw = sample.batch_input_shape
            sample.gt_sem_seg.sem_seg = F.pad(seg, (0, max(pw - w, 0), 0, max(ph - h, 0)), value=self.seg_pad_value)
