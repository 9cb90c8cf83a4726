"""DetDataSample: the per-image interface between datasets, models, metrics and visualizers."""

from __future__ import annotations

from vk_core.structures import BaseDataElement, InstanceData, PixelData


def _field(name: str, dtype, doc: str):
    private = "_" + name

    def getter(self):
        return getattr(self, private)

    def setter(self, value):
        self.set_field(value, private, dtype=dtype)

    def deleter(self):
        delattr(self, private)

    return property(getter, setter, deleter, doc)


class DetDataSample(BaseDataElement):
    """Annotations and predictions of one image, MMDetection 3.x layout.

    Data fields: ``gt_instances``, ``pred_instances``, ``ignored_instances``, ``proposals`` (InstanceData with
    ``bboxes``/``labels``/``scores``/``masks``), ``gt_sem_seg``, ``pred_sem_seg``, ``gt_panoptic_seg``,
    ``pred_panoptic_seg`` (PixelData). Meta fields (``img_id``, ``img_path``, ``ori_shape``, ``img_shape``,
    ``scale_factor``, ``flip``, ...) go through ``set_metainfo``.
    """

    gt_instances = _field("gt_instances", InstanceData, "ground-truth instances")
    pred_instances = _field("pred_instances", InstanceData, "predicted instances")
    ignored_instances = _field("ignored_instances", InstanceData, "instances ignored in training (crowd)")
    proposals = _field("proposals", InstanceData, "region proposals")
    gt_sem_seg = _field("gt_sem_seg", PixelData, "ground-truth semantic segmentation")
    pred_sem_seg = _field("pred_sem_seg", PixelData, "predicted semantic segmentation")
    gt_panoptic_seg = _field("gt_panoptic_seg", PixelData, "ground-truth panoptic segmentation")
    pred_panoptic_seg = _field("pred_panoptic_seg", PixelData, "predicted panoptic segmentation")


SampleList = list[DetDataSample]
OptSampleList = SampleList | None
