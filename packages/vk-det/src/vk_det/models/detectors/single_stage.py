"""SingleStageDetector: backbone -> neck -> dense head; and the RetinaNet, FCOS and ATSS names for it."""

from __future__ import annotations

from vk_det.models._compat import MODELS
from vk_det.models.detectors.base import BaseDetector


def _merge(cfg, **kwargs):
    cfg = dict(cfg)
    cfg.update(kwargs)
    return cfg


@MODELS.register_module()
class SingleStageDetector(BaseDetector):
    def __init__(self, backbone, neck=None, bbox_head=None, train_cfg=None, test_cfg=None, data_preprocessor=None,
                 init_cfg=None):  # fmt: skip
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if bbox_head is None:
            raise ValueError(f"{type(self).__name__}: bbox_head config is required")
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self.bbox_head = MODELS.build(_merge(bbox_head, train_cfg=train_cfg, test_cfg=test_cfg))
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):  # fmt: skip
        # An RPN checkpoint (rpn_head.*) loads into a single-stage detector's bbox_head, as in MMDetection.
        bbox_keys = [k for k in state_dict if k.startswith(prefix + "bbox_head")]
        rpn_keys = [k for k in state_dict if k.startswith(prefix + "rpn_head")]
        if not bbox_keys and rpn_keys:
            for key in rpn_keys:
                state_dict[prefix + "bbox_head" + key[len(prefix + "rpn_head") :]] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)  # fmt: skip

    def extract_feat(self, batch_inputs):
        x = self.backbone(batch_inputs)
        return self.neck(x) if self.with_neck else x

    def loss(self, batch_inputs, batch_data_samples):
        return self.bbox_head.loss(self.extract_feat(batch_inputs), batch_data_samples)

    def predict(self, batch_inputs, batch_data_samples, rescale=True):
        results = self.bbox_head.predict(self.extract_feat(batch_inputs), batch_data_samples, rescale=rescale)
        return self.add_pred_to_datasample(batch_data_samples, results)

    def _forward(self, batch_inputs, batch_data_samples=None):
        return self.bbox_head.forward(self.extract_feat(batch_inputs))


@MODELS.register_module()
class RetinaNet(SingleStageDetector):
    """RetinaNet (Lin et al. 2017): ResNet-FPN + RetinaHead with focal loss."""


@MODELS.register_module()
class FCOS(SingleStageDetector):
    """FCOS (Tian et al. 2019): anchor-free, per-point distances and centerness."""


@MODELS.register_module()
class ATSS(SingleStageDetector):
    """ATSS (Zhang et al. 2020): adaptive training sample selection."""
