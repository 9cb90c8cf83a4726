"""BaseRoIHead: builds the box/mask branches and the training assigner/sampler; subclasses add the logic."""

from __future__ import annotations

from vk_core.model import BaseModule

from vk_det.registry import MODELS


class BaseRoIHead(BaseModule):
    def __init__(
        self,
        bbox_roi_extractor: dict | None = None,
        bbox_head: dict | None = None,
        mask_roi_extractor: dict | None = None,
        mask_head: dict | None = None,
        shared_head: dict | None = None,
        train_cfg=None,
        test_cfg=None,
        init_cfg=None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        if shared_head is not None:
            self.shared_head = MODELS.build(shared_head)
        if bbox_head is not None:
            self.init_bbox_head(bbox_roi_extractor, bbox_head)
        if mask_head is not None:
            self.init_mask_head(mask_roi_extractor, mask_head)
        self.init_assigner_sampler()

    @property
    def with_bbox(self) -> bool:
        return getattr(self, "bbox_head", None) is not None

    @property
    def with_mask(self) -> bool:
        return getattr(self, "mask_head", None) is not None

    @property
    def with_shared_head(self) -> bool:
        return getattr(self, "shared_head", None) is not None

    def init_bbox_head(self, bbox_roi_extractor, bbox_head) -> None:
        raise NotImplementedError

    def init_mask_head(self, mask_roi_extractor, mask_head) -> None:
        raise NotImplementedError

    def init_assigner_sampler(self) -> None:
        raise NotImplementedError

    def loss(self, x, rpn_results_list, batch_data_samples):
        raise NotImplementedError

    def predict(self, x, rpn_results_list, batch_data_samples, rescale: bool = False):
        """Boxes (and masks) per image; when there is a mask head boxes are rescaled by the mask step."""
        if not self.with_bbox:
            raise RuntimeError(f"{type(self).__name__}: predict needs a bbox_head")
        batch_img_metas = [s.metainfo for s in batch_data_samples]
        bbox_rescale = rescale if not self.with_mask else False
        results_list = self.predict_bbox(
            x, batch_img_metas, rpn_results_list, rcnn_test_cfg=self.test_cfg, rescale=bbox_rescale
        )
        if self.with_mask:
            results_list = self.predict_mask(x, batch_img_metas, results_list, rescale=rescale)
        return results_list
