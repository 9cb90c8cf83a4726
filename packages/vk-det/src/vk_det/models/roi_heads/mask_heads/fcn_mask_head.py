"""FCNMaskHead: the Mask R-CNN mask branch (convs, 2x upsampling, per-class 1x1 logits)."""

from __future__ import annotations

import torch
import torch.nn as nn
from torch import Tensor
from vk_core.model import BaseModule, ConvModule

from vk_det.registry import MODELS

from ..utils import empty_instances, get_box_tensor, paste_masks_in_image


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _cfg_get(cfg, key, default=None):
    if cfg is None:
        return default
    return cfg.get(key, default) if isinstance(cfg, dict) else getattr(cfg, key, default)


_UPSAMPLE_METHODS = (None, "deconv", "nearest", "bilinear")


@MODELS.register_module()
class FCNMaskHead(BaseModule):
    """``num_convs`` convs on the RoI features, ``upsample_cfg`` (2x deconv by default), then 1x1 logits.

    Training targets are the ground-truth masks cropped to each positive RoI and resized to
    ``train_cfg.mask_size``; at test time the probabilities are pasted back into the image at each box.
    """

    def __init__(
        self,
        num_convs: int = 4,
        roi_feat_size: int = 14,
        in_channels: int = 256,
        conv_kernel_size: int = 3,
        conv_out_channels: int = 256,
        num_classes: int = 80,
        class_agnostic: bool = False,
        upsample_cfg: dict | None = None,
        conv_cfg: dict | None = None,
        norm_cfg: dict | None = None,
        predictor_cfg: dict | None = None,
        loss_mask: dict | None = None,
        init_cfg=None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        upsample_cfg = dict(upsample_cfg if upsample_cfg is not None else dict(type="deconv", scale_factor=2))
        self.upsample_method = upsample_cfg.get("type")
        if self.upsample_method not in _UPSAMPLE_METHODS:
            raise ValueError(
                f"FCNMaskHead: upsample_cfg type must be one of {_UPSAMPLE_METHODS}, got {self.upsample_method!r}"
            )
        if conv_kernel_size % 2 != 1:
            raise ValueError(f"FCNMaskHead: conv_kernel_size must be odd, got {conv_kernel_size}")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"FCNMaskHead: num_classes must be a positive int, got {num_classes!r}")
        self.num_convs = num_convs
        self.roi_feat_size = _pair(roi_feat_size)
        self.in_channels = in_channels
        self.conv_kernel_size = conv_kernel_size
        self.conv_out_channels = conv_out_channels
        self.scale_factor = upsample_cfg.get("scale_factor", 2)
        self.num_classes = num_classes
        self.class_agnostic = class_agnostic
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.predictor_cfg = dict(predictor_cfg or dict(type="Conv"))
        if loss_mask is None:
            loss_mask = dict(type="CrossEntropyLoss", use_mask=True, loss_weight=1.0)
        self.loss_mask = MODELS.build(loss_mask)

        self.convs = nn.ModuleList()
        padding = (conv_kernel_size - 1) // 2
        for i in range(num_convs):
            conv_in = in_channels if i == 0 else conv_out_channels
            self.convs.append(
                ConvModule(
                    conv_in, conv_out_channels, conv_kernel_size, padding=padding, conv_cfg=conv_cfg, norm_cfg=norm_cfg
                )
            )
        upsample_in_channels = conv_out_channels if num_convs > 0 else in_channels
        if self.upsample_method is None:
            self.upsample = None
        elif self.upsample_method == "deconv":
            self.upsample = nn.ConvTranspose2d(
                upsample_in_channels, conv_out_channels, self.scale_factor, stride=self.scale_factor
            )
        else:
            align = None if self.upsample_method == "nearest" else upsample_cfg.get("align_corners", False)
            self.upsample = nn.Upsample(scale_factor=self.scale_factor, mode=self.upsample_method, align_corners=align)
        out_channels = 1 if class_agnostic else num_classes
        logits_in_channel = conv_out_channels if self.upsample_method == "deconv" else upsample_in_channels
        if self.predictor_cfg.get("type", "Conv") not in ("Conv", "Conv2d"):
            raise ValueError(f"FCNMaskHead: predictor_cfg type must be 'Conv', got {self.predictor_cfg!r}")
        self.conv_logits = nn.Conv2d(logits_in_channel, out_channels, 1)
        self.relu = nn.ReLU(inplace=True)

    def init_weights(self) -> None:
        super().init_weights()
        for m in (self.upsample, self.conv_logits):
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = conv(x)
        if self.upsample is not None:
            x = self.upsample(x)
            if self.upsample_method == "deconv":
                x = self.relu(x)
        return self.conv_logits(x)

    # ---------------------------------------------------------------- training
    def get_targets(self, sampling_results: list, batch_gt_instances: list, rcnn_train_cfg) -> Tensor:
        """Ground-truth masks cropped to each positive RoI and resized to ``mask_size``: ``(num_pos, h, w)``."""
        mask_size = _pair(_cfg_get(rcnn_train_cfg, "mask_size", 28))
        binarize = not _cfg_get(rcnn_train_cfg, "soft_mask_target", False)
        targets = []
        for img_id, (res, gt) in enumerate(zip(sampling_results, batch_gt_instances)):
            proposals = get_box_tensor(res.pos_priors)
            device = proposals.device
            if proposals.size(0) == 0:
                targets.append(proposals.new_zeros((0, *mask_size)))
                continue
            if "masks" not in gt:
                raise KeyError(
                    f"FCNMaskHead: gt_instances of image {img_id} have no 'masks' (LoadAnnotations with_mask)"
                )
            gt_masks = gt.masks
            proposals_np = proposals.detach().cpu().numpy().copy()
            proposals_np[:, [0, 2]] = proposals_np[:, [0, 2]].clip(0, gt_masks.width)
            proposals_np[:, [1, 3]] = proposals_np[:, [1, 3]].clip(0, gt_masks.height)
            cropped = gt_masks.crop_and_resize(
                proposals_np,
                mask_size,
                inds=res.pos_assigned_gt_inds.cpu().numpy(),
                device=device,
                binarize=binarize,
            ).to_ndarray()
            targets.append(torch.as_tensor(cropped, dtype=torch.float32, device=device))
        return torch.cat(targets, 0)

    def loss_and_target(
        self, mask_preds: Tensor, sampling_results: list, batch_gt_instances: list, rcnn_train_cfg
    ) -> dict:
        mask_targets = self.get_targets(sampling_results, batch_gt_instances, rcnn_train_cfg)
        pos_labels = torch.cat([res.pos_gt_labels for res in sampling_results])
        if mask_preds.size(0) == 0:
            loss_mask = mask_preds.sum()
        elif self.class_agnostic:
            loss_mask = self.loss_mask(mask_preds, mask_targets, torch.zeros_like(pos_labels))
        else:
            loss_mask = self.loss_mask(mask_preds, mask_targets, pos_labels)
        return dict(loss_mask=dict(loss_mask=loss_mask), mask_targets=mask_targets)

    # ---------------------------------------------------------------- inference
    def predict_by_feat(
        self,
        mask_preds: tuple,
        results_list: list,
        batch_img_metas: list[dict],
        rcnn_test_cfg,
        rescale: bool = False,
        activate_map: bool = False,
    ) -> list:
        """Add ``masks`` (N, H, W) to each image's results; boxes are rescaled in place when ``rescale``."""
        if not (len(mask_preds) == len(results_list) == len(batch_img_metas)):
            raise ValueError(
                f"FCNMaskHead.predict_by_feat: {len(mask_preds)} mask groups, {len(results_list)} results and "
                f"{len(batch_img_metas)} image metas must be equal in number"
            )
        thr = _cfg_get(rcnn_test_cfg, "mask_thr_binary", 0.5)
        for img_id, (preds, results, img_meta) in enumerate(zip(mask_preds, results_list, batch_img_metas)):
            bboxes = results.bboxes
            if bboxes.shape[0] == 0:
                results_list[img_id] = empty_instances(
                    [img_meta], bboxes.device, task_type="mask", instance_results=[results], mask_thr_binary=thr
                )[0]
            else:
                results.masks = self._predict_by_feat_single(
                    preds, bboxes, results.labels, img_meta, thr, rescale, activate_map
                )
        return results_list

    def _predict_by_feat_single(
        self, mask_preds, bboxes, labels, img_meta, thr=0.5, rescale=False, activate_map=False
    ) -> Tensor:
        mask_preds = mask_preds if activate_map else mask_preds.sigmoid()
        if "scale_factor" not in img_meta or "ori_shape" not in img_meta:
            raise KeyError("FCNMaskHead: image metas need 'scale_factor' and 'ori_shape' to paste masks")
        sx, sy = img_meta["scale_factor"][:2]
        img_h, img_w = img_meta["ori_shape"][:2]
        if rescale:
            # Boxes were predicted on the network input; move them (in place, as the caller expects) to the
            # original image.
            bboxes /= bboxes.new_tensor([sx, sy, sx, sy])
        else:
            img_h = int(round(img_h * sy))
            img_w = int(round(img_w * sx))
        if not self.class_agnostic:
            mask_preds = mask_preds[torch.arange(mask_preds.size(0), device=mask_preds.device), labels]
        else:
            mask_preds = mask_preds[:, 0]
        return paste_masks_in_image(mask_preds[:, None], bboxes, img_h, img_w, threshold=thr)
