"""Box coders: regression targets between priors and ground-truth boxes, and back."""

from __future__ import annotations

import math

import torch

from vk_det.models._compat import TASK_UTILS


def _check_last_dim(name, t, n):
    if t.shape[-1] % n != 0 or t.shape[-1] == 0:
        raise ValueError(f"{name}: last dimension must be a multiple of {n}, got shape {tuple(t.shape)}")


@TASK_UTILS.register_module()
class DeltaXYWHBBoxCoder:
    """(dx, dy, dw, dh) deltas normalised by ``target_means``/``target_stds`` (R-CNN parameterisation)."""

    encode_size = 4

    def __init__(
        self,
        target_means=(0.0, 0.0, 0.0, 0.0),
        target_stds=(1.0, 1.0, 1.0, 1.0),
        clip_border=True,
        add_ctr_clamp=False,
        ctr_clamp=32,
        use_box_type=False,
    ):
        self.means = tuple(float(m) for m in target_means)
        self.stds = tuple(float(s) for s in target_stds)
        if len(self.means) != 4 or len(self.stds) != 4:
            raise ValueError(f"DeltaXYWHBBoxCoder: target_means/stds need 4 values, got {target_means}/{target_stds}")
        self.clip_border = clip_border
        self.add_ctr_clamp = add_ctr_clamp
        self.ctr_clamp = ctr_clamp
        self.use_box_type = use_box_type

    def encode(self, bboxes, gt_bboxes):
        if bboxes.shape[0] != gt_bboxes.shape[0] or bboxes.shape[-1] != 4 or gt_bboxes.shape[-1] != 4:
            raise ValueError(
                f"DeltaXYWHBBoxCoder.encode: bboxes {tuple(bboxes.shape)} and gt_bboxes {tuple(gt_bboxes.shape)} "
                "must both be (N, 4)"
            )
        p, g = bboxes.float(), gt_bboxes.float()
        pxy = (p[..., :2] + p[..., 2:]) * 0.5
        pwh = p[..., 2:] - p[..., :2]
        gxy = (g[..., :2] + g[..., 2:]) * 0.5
        gwh = g[..., 2:] - g[..., :2]
        deltas = torch.cat([(gxy - pxy) / pwh, torch.log(gwh / pwh)], dim=-1)
        means = deltas.new_tensor(self.means)
        stds = deltas.new_tensor(self.stds)
        return (deltas - means) / stds

    def decode(self, bboxes, pred_bboxes, max_shape=None, wh_ratio_clip=16 / 1000):
        """Apply ``pred_bboxes`` (N, 4*k) or (B, N, 4*k) deltas to ``bboxes``; clip to ``max_shape`` (h, w)."""
        _check_last_dim("DeltaXYWHBBoxCoder.decode", pred_bboxes, 4)
        if pred_bboxes.dim() == 3:
            if bboxes.dim() == 2:
                bboxes = bboxes[None].expand(pred_bboxes.shape[0], -1, -1)
            b, n = pred_bboxes.shape[:2]
            shapes = (
                max_shape
                if isinstance(max_shape, list | tuple) and max_shape and isinstance(max_shape[0], list | tuple)
                else None
            )
            out = []
            for i in range(b):
                out.append(self.decode(bboxes[i], pred_bboxes[i], shapes[i] if shapes else max_shape, wh_ratio_clip))
            return torch.stack(out)
        if bboxes.shape[0] != pred_bboxes.shape[0]:
            raise ValueError(f"DeltaXYWHBBoxCoder.decode: {bboxes.shape[0]} boxes but {pred_bboxes.shape[0]} deltas")
        num = pred_bboxes.size(0)
        if num == 0:
            return pred_bboxes
        num_classes = pred_bboxes.size(1) // 4
        deltas = pred_bboxes.reshape(-1, 4) * pred_bboxes.new_tensor(self.stds) + pred_bboxes.new_tensor(self.means)
        rois = bboxes.repeat(1, num_classes).reshape(-1, 4)
        pxy = (rois[:, :2] + rois[:, 2:]) * 0.5
        pwh = rois[:, 2:] - rois[:, :2]
        dxy_wh = pwh * deltas[:, :2]
        dwh = deltas[:, 2:]
        max_ratio = abs(math.log(wh_ratio_clip))
        if self.add_ctr_clamp:
            dxy_wh = torch.clamp(dxy_wh, max=self.ctr_clamp, min=-self.ctr_clamp)
            dwh = torch.clamp(dwh, max=max_ratio)
        else:
            dwh = dwh.clamp(min=-max_ratio, max=max_ratio)
        gxy = pxy + dxy_wh
        gwh = pwh * dwh.exp()
        out = torch.cat([gxy - gwh * 0.5, gxy + gwh * 0.5], dim=-1)
        if self.clip_border and max_shape is not None:
            out[:, 0::2] = out[:, 0::2].clamp(min=0, max=max_shape[1])
            out[:, 1::2] = out[:, 1::2].clamp(min=0, max=max_shape[0])
        return out.reshape(num, -1)


@TASK_UTILS.register_module()
class DistancePointBBoxCoder:
    """Distances (left, top, right, bottom) from points to box sides (FCOS, ATSS-style heads)."""

    encode_size = 4

    def __init__(self, clip_border=True, use_box_type=False):
        self.clip_border = clip_border
        self.use_box_type = use_box_type

    def encode(self, points, gt_bboxes, max_dis=None, eps=0.1):
        if points.shape[0] != gt_bboxes.shape[0] or points.shape[-1] != 2 or gt_bboxes.shape[-1] != 4:
            raise ValueError(
                f"DistancePointBBoxCoder.encode: points {tuple(points.shape)} must be (N, 2) and gt_bboxes "
                f"{tuple(gt_bboxes.shape)} (N, 4)"
            )
        left = points[..., 0] - gt_bboxes[..., 0]
        top = points[..., 1] - gt_bboxes[..., 1]
        right = gt_bboxes[..., 2] - points[..., 0]
        bottom = gt_bboxes[..., 3] - points[..., 1]
        dist = torch.stack([left, top, right, bottom], -1)
        if max_dis is not None:
            dist = dist.clamp(min=0, max=max_dis - eps)
        return dist

    def decode(self, points, pred_bboxes, max_shape=None):
        if points.shape[:-1] != pred_bboxes.shape[:-1] and points.shape[0] != pred_bboxes.shape[-2]:
            raise ValueError(
                f"DistancePointBBoxCoder.decode: points {tuple(points.shape)} and distances "
                f"{tuple(pred_bboxes.shape)} disagree"
            )
        x1 = points[..., 0] - pred_bboxes[..., 0]
        y1 = points[..., 1] - pred_bboxes[..., 1]
        x2 = points[..., 0] + pred_bboxes[..., 2]
        y2 = points[..., 1] + pred_bboxes[..., 3]
        out = torch.stack([x1, y1, x2, y2], -1)
        if self.clip_border and max_shape is not None:
            out[..., 0::2] = out[..., 0::2].clamp(min=0, max=max_shape[1])
            out[..., 1::2] = out[..., 1::2].clamp(min=0, max=max_shape[0])
        return out
