"""TwoStageDetector (backbone -> neck -> RPN proposals -> RoI head) and the standalone RPN detector."""

from __future__ import annotations

import copy
import warnings

import torch
from torch import Tensor

from vk_det.registry import MODELS

from .. import roi_heads  # noqa: F401  (registers the RoI heads the configs name)
from ..dense_heads.rpn_head import RPNHead  # noqa: F401  (registers RPNHead)
from .base import BaseDetector
from .single_stage import SingleStageDetector


def _cfg_get(cfg, key, default=None):
    if cfg is None:
        return default
    return cfg.get(key, default) if isinstance(cfg, dict) else getattr(cfg, key, default)


def _rpn_data_samples(batch_data_samples: list) -> list:
    """Copies of the samples whose gt labels are all 0 (RPN is class-agnostic).

    Only metainfo, boxes/labels and ignored instances are carried over: the RPN never reads masks, and
    deep-copying mask containers every iteration is costly.
    """
    from vk_core.structures import InstanceData

    out = []
    for i, sample in enumerate(batch_data_samples):
        if "gt_instances" not in sample:
            raise KeyError(f"TwoStageDetector.loss: data sample {i} has no gt_instances")
        gt = sample.gt_instances
        new = type(sample)(metainfo=dict(sample.metainfo))
        new.gt_instances = InstanceData(bboxes=gt.bboxes, labels=torch.zeros_like(gt.labels))
        ignored = sample.get("ignored_instances", None)
        if ignored is not None:
            new.ignored_instances = ignored
        out.append(new)
    return out


def _force_one_class(head_cfg: dict, who: str) -> dict:
    head_cfg = copy.deepcopy(head_cfg)
    num_classes = head_cfg.get("num_classes", None)
    if num_classes is not None and num_classes != 1:
        warnings.warn(f"{who}: rpn_head.num_classes={num_classes} is ignored; the RPN has one class", stacklevel=3)
    head_cfg["num_classes"] = 1
    return head_cfg


@MODELS.register_module()
class TwoStageDetector(BaseDetector):
    """Base of Faster/Mask R-CNN: ``train_cfg``/``test_cfg`` hold ``rpn``, ``rpn_proposal`` and ``rcnn``."""

    def __init__(
        self,
        backbone: dict,
        neck: dict | None = None,
        rpn_head: dict | None = None,
        roi_head: dict | None = None,
        train_cfg=None,
        test_cfg=None,
        data_preprocessor=None,
        init_cfg=None,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        if rpn_head is not None:
            if test_cfg is None or _cfg_get(test_cfg, "rpn") is None:
                raise KeyError("TwoStageDetector: test_cfg.rpn is required when rpn_head is set")
            rpn_head_ = _force_one_class(rpn_head, type(self).__name__)
            rpn_head_.update(train_cfg=_cfg_get(train_cfg, "rpn"), test_cfg=_cfg_get(test_cfg, "rpn"))
            self.rpn_head = MODELS.build(rpn_head_)
        if roi_head is not None:
            roi_head_ = copy.deepcopy(roi_head)
            roi_head_.update(train_cfg=_cfg_get(train_cfg, "rcnn"), test_cfg=_cfg_get(test_cfg, "rcnn"))
            self.roi_head = MODELS.build(roi_head_)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:
        # A checkpoint of a standalone RPN stores the head as ``bbox_head``; map it onto ``rpn_head``.
        bbox_keys = [k for k in state_dict if k.startswith(prefix + "bbox_head.")]
        has_rpn = any(k.startswith(prefix + "rpn_head.") for k in state_dict)
        if bbox_keys and not has_rpn:
            for k in bbox_keys:
                state_dict[prefix + "rpn_head." + k[len(prefix + "bbox_head.") :]] = state_dict.pop(k)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    @property
    def with_rpn(self) -> bool:
        return getattr(self, "rpn_head", None) is not None

    @property
    def with_roi_head(self) -> bool:
        return getattr(self, "roi_head", None) is not None

    @property
    def with_neck(self) -> bool:
        return getattr(self, "neck", None) is not None

    def extract_feat(self, batch_inputs: Tensor) -> tuple[Tensor]:
        x = self.backbone(batch_inputs)
        if self.with_neck:
            x = self.neck(x)
        return x

    def _proposals_from_samples(self, batch_data_samples) -> list:
        for i, sample in enumerate(batch_data_samples or []):
            if sample.get("proposals", None) is None:
                raise KeyError(f"{type(self).__name__}: no rpn_head, so data sample {i} must carry 'proposals'")
        return [sample.proposals for sample in batch_data_samples]

    def _forward(self, batch_inputs: Tensor, batch_data_samples=None) -> tuple:
        x = self.extract_feat(batch_inputs)
        if self.with_rpn:
            if batch_data_samples is None:
                batch_data_samples = self._dummy_samples(batch_inputs)
            rpn_results_list = self.rpn_head.predict(x, batch_data_samples, rescale=False)
        else:
            rpn_results_list = self._proposals_from_samples(batch_data_samples)
        roi_outs = self.roi_head.forward(x, rpn_results_list, batch_data_samples)
        return (roi_outs,)

    @staticmethod
    def _dummy_samples(batch_inputs: Tensor) -> list:
        """Metainfo for tensor mode without samples: the padded input is the image."""
        from vk_det.structures import DetDataSample

        h, w = batch_inputs.shape[-2:]
        meta = dict(
            img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), scale_factor=(1.0, 1.0), batch_input_shape=(h, w)
        )
        return [DetDataSample(metainfo=dict(meta)) for _ in range(batch_inputs.shape[0])]

    def loss(self, batch_inputs: Tensor, batch_data_samples: list) -> dict:
        x = self.extract_feat(batch_inputs)
        losses = dict()
        if self.with_rpn:
            proposal_cfg = _cfg_get(self.train_cfg, "rpn_proposal", _cfg_get(self.test_cfg, "rpn"))
            rpn_losses, rpn_results_list = self.rpn_head.loss_and_predict(
                x, _rpn_data_samples(batch_data_samples), proposal_cfg=proposal_cfg
            )
            # Keep RPN losses apart from the RoI head's (``loss_cls`` -> ``rpn_loss_cls``).
            for key in list(rpn_losses.keys()):
                if "loss" in key and "rpn" not in key:
                    rpn_losses[f"rpn_{key}"] = rpn_losses.pop(key)
            losses.update(rpn_losses)
        else:
            rpn_results_list = self._proposals_from_samples(batch_data_samples)
        losses.update(self.roi_head.loss(x, rpn_results_list, batch_data_samples))
        return losses

    def predict(self, batch_inputs: Tensor, batch_data_samples: list, rescale: bool = True) -> list:
        if not self.with_roi_head or not self.roi_head.with_bbox:
            raise RuntimeError(f"{type(self).__name__}.predict needs a roi_head with a bbox_head")
        x = self.extract_feat(batch_inputs)
        if batch_data_samples[0].get("proposals", None) is None:
            rpn_results_list = self.rpn_head.predict(x, batch_data_samples, rescale=False)
        else:
            rpn_results_list = [sample.proposals for sample in batch_data_samples]
        results_list = self.roi_head.predict(x, rpn_results_list, batch_data_samples, rescale=rescale)
        return self.add_pred_to_datasample(batch_data_samples, results_list)


@MODELS.register_module()
class RPN(SingleStageDetector):
    """Region proposal network alone: its head is stored as ``bbox_head`` (MMDetection's layout)."""

    def __init__(
        self,
        backbone: dict,
        neck: dict | None,
        rpn_head: dict,
        train_cfg,
        test_cfg,
        data_preprocessor=None,
        init_cfg=None,
        **kwargs,
    ) -> None:
        # Skip SingleStageDetector.__init__: the head config needs the rpn sub-configs first.
        BaseDetector.__init__(self, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        if test_cfg is None or _cfg_get(test_cfg, "rpn") is None:
            raise KeyError("RPN: test_cfg.rpn is required")
        head = _force_one_class(rpn_head, "RPN")
        head.update(train_cfg=_cfg_get(train_cfg, "rpn"), test_cfg=_cfg_get(test_cfg, "rpn"))
        self.bbox_head = MODELS.build(head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    @property
    def with_neck(self) -> bool:
        return getattr(self, "neck", None) is not None

    def extract_feat(self, batch_inputs: Tensor) -> tuple[Tensor]:
        x = self.backbone(batch_inputs)
        if self.with_neck:
            x = self.neck(x)
        return x

    def loss(self, batch_inputs: Tensor, batch_data_samples: list) -> dict:
        x = self.extract_feat(batch_inputs)
        return self.bbox_head.loss(x, _rpn_data_samples(batch_data_samples))
