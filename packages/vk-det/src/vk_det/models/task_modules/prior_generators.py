"""Prior generators: anchor boxes (AnchorGenerator) and points (MlvlPointGenerator) on feature-map grids.

Priors of one level are ordered location-major (row by row), then by base anchor within a location, which is
the order the heads flatten their (A*C, H, W) outputs in.
"""

from __future__ import annotations

import math

import torch

from vk_det.models._compat import TASK_UTILS


def _pair(x):
    return tuple(x) if isinstance(x, list | tuple) else (x, x)


def _meshgrid(x, y):
    xx = x.repeat(len(y))
    yy = y.view(-1, 1).repeat(1, len(x)).view(-1)
    return xx, yy


def _check_featmap_sizes(name, featmap_sizes, num_levels):
    if len(featmap_sizes) != num_levels:
        raise ValueError(f"{name}: got {len(featmap_sizes)} feature-map sizes for {num_levels} levels")


def _valid_flags_level(featmap_size, valid_size, num_base, device):
    feat_h, feat_w = featmap_size
    valid_h, valid_w = valid_size
    valid_x = torch.zeros(feat_w, dtype=torch.bool, device=device)
    valid_y = torch.zeros(feat_h, dtype=torch.bool, device=device)
    valid_x[:valid_w] = True
    valid_y[:valid_h] = True
    vx, vy = _meshgrid(valid_x, valid_y)
    valid = vx & vy
    return valid[:, None].expand(valid.size(0), num_base).contiguous().view(-1)


@TASK_UTILS.register_module()
class AnchorGenerator:
    """Anchors for each level: ``scales x ratios`` boxes around every ``stride`` step.

    Args:
        strides: per-level stride, int or (w, h).
        ratios: height/width ratios.
        scales: anchor scales relative to ``base_sizes``; or give ``octave_base_scale`` and ``scales_per_octave``
            (scales ``octave_base_scale * 2**(i / scales_per_octave)``).
        base_sizes: per-level base size (default: the level's smaller stride).
        scale_major: order anchors scale-major within a location (MMDetection's default).
        centers: explicit per-level anchor centres; default ``center_offset * base_size``.
    """

    def __init__(
        self,
        strides,
        ratios,
        scales=None,
        base_sizes=None,
        scale_major=True,
        octave_base_scale=None,
        scales_per_octave=None,
        centers=None,
        center_offset=0.0,
        use_box_type=False,
    ):
        if center_offset != 0 and centers is not None:
            raise ValueError("AnchorGenerator: center_offset must be 0 when centers are given")
        if not 0 <= center_offset <= 1:
            raise ValueError(f"AnchorGenerator: center_offset must be in [0, 1], got {center_offset}")
        if centers is not None and len(centers) != len(strides):
            raise ValueError(f"AnchorGenerator: {len(centers)} centers for {len(strides)} strides")
        self.strides = [_pair(s) for s in strides]
        self.base_sizes = [min(s) for s in self.strides] if base_sizes is None else list(base_sizes)
        if len(self.base_sizes) != len(self.strides):
            raise ValueError(f"AnchorGenerator: {len(self.base_sizes)} base_sizes for {len(self.strides)} strides")
        if (scales is None) == (octave_base_scale is None or scales_per_octave is None):
            raise ValueError("AnchorGenerator: give either scales or both octave_base_scale and scales_per_octave")
        if scales is not None:
            self.scales = torch.tensor(scales, dtype=torch.float32)
        else:
            octave = [2 ** (i / scales_per_octave) for i in range(scales_per_octave)]
            self.scales = torch.tensor(octave, dtype=torch.float32) * octave_base_scale
        self.octave_base_scale = octave_base_scale
        self.scales_per_octave = scales_per_octave
        self.ratios = torch.tensor(ratios, dtype=torch.float32)
        self.scale_major = scale_major
        self.centers = centers
        self.center_offset = center_offset
        self.use_box_type = use_box_type
        self.base_anchors = self.gen_base_anchors()

    @property
    def num_levels(self):
        return len(self.strides)

    @property
    def num_base_priors(self):
        return [b.size(0) for b in self.base_anchors]

    num_base_anchors = num_base_priors

    def gen_base_anchors(self):
        return [
            self.gen_single_level_base_anchors(
                size, self.scales, self.ratios, None if self.centers is None else self.centers[i]
            )
            for i, size in enumerate(self.base_sizes)
        ]

    def gen_single_level_base_anchors(self, base_size, scales, ratios, center=None):
        w = h = base_size
        if center is None:
            x_center, y_center = self.center_offset * w, self.center_offset * h
        else:
            x_center, y_center = center
        h_ratios = torch.sqrt(ratios)
        w_ratios = 1 / h_ratios
        if self.scale_major:
            ws = (w * w_ratios[:, None] * scales[None, :]).view(-1)
            hs = (h * h_ratios[:, None] * scales[None, :]).view(-1)
        else:
            ws = (w * scales[:, None] * w_ratios[None, :]).view(-1)
            hs = (h * scales[:, None] * h_ratios[None, :]).view(-1)
        return torch.stack([x_center - 0.5 * ws, y_center - 0.5 * hs, x_center + 0.5 * ws, y_center + 0.5 * hs], -1)

    def grid_priors(self, featmap_sizes, dtype=torch.float32, device="cpu"):
        _check_featmap_sizes("AnchorGenerator.grid_priors", featmap_sizes, self.num_levels)
        return [self.single_level_grid_priors(featmap_sizes[i], i, dtype, device) for i in range(self.num_levels)]

    def single_level_grid_priors(self, featmap_size, level_idx, dtype=torch.float32, device="cpu"):
        base = self.base_anchors[level_idx].to(device=device, dtype=dtype)
        feat_h, feat_w = featmap_size
        stride_w, stride_h = self.strides[level_idx]
        shift_x = torch.arange(0, feat_w, device=device).to(dtype) * stride_w
        shift_y = torch.arange(0, feat_h, device=device).to(dtype) * stride_h
        xx, yy = _meshgrid(shift_x, shift_y)
        shifts = torch.stack([xx, yy, xx, yy], dim=-1)
        return (base[None, :, :] + shifts[:, None, :]).view(-1, 4)

    def valid_flags(self, featmap_sizes, pad_shape, device="cpu"):
        """Per level, whether each anchor's grid cell lies inside the un-padded image ``pad_shape`` (h, w)."""
        _check_featmap_sizes("AnchorGenerator.valid_flags", featmap_sizes, self.num_levels)
        h, w = pad_shape[:2]
        flags = []
        for i, (feat_h, feat_w) in enumerate(featmap_sizes):
            stride_w, stride_h = self.strides[i]
            valid = (min(int(math.ceil(h / stride_h)), feat_h), min(int(math.ceil(w / stride_w)), feat_w))
            flags.append(_valid_flags_level((feat_h, feat_w), valid, self.num_base_anchors[i], device))
        return flags

    def __repr__(self):
        return (
            f"AnchorGenerator(strides={self.strides}, ratios={self.ratios.tolist()}, scales={self.scales.tolist()}, "
            f"base_sizes={self.base_sizes}, scale_major={self.scale_major}, center_offset={self.center_offset})"
        )


@TASK_UTILS.register_module()
class MlvlPointGenerator:
    """One point per feature-map cell at ``(index + offset) * stride`` for each level (anchor-free heads)."""

    def __init__(self, strides, offset=0.5):
        self.strides = [_pair(s) for s in strides]
        self.offset = offset

    @property
    def num_levels(self):
        return len(self.strides)

    @property
    def num_base_priors(self):
        return [1 for _ in self.strides]

    def grid_priors(self, featmap_sizes, dtype=torch.float32, device="cpu", with_stride=False):
        _check_featmap_sizes("MlvlPointGenerator.grid_priors", featmap_sizes, self.num_levels)
        return [
            self.single_level_grid_priors(featmap_sizes[i], i, dtype, device, with_stride)
            for i in range(self.num_levels)
        ]

    def single_level_grid_priors(self, featmap_size, level_idx, dtype=torch.float32, device="cpu", with_stride=False):
        feat_h, feat_w = featmap_size
        stride_w, stride_h = self.strides[level_idx]
        shift_x = ((torch.arange(0, feat_w, device=device) + self.offset) * stride_w).to(dtype)
        shift_y = ((torch.arange(0, feat_h, device=device) + self.offset) * stride_h).to(dtype)
        xx, yy = _meshgrid(shift_x, shift_y)
        if not with_stride:
            return torch.stack([xx, yy], dim=-1)
        sw = xx.new_full((xx.shape[0],), stride_w)
        sh = xx.new_full((xx.shape[0],), stride_h)
        return torch.stack([xx, yy, sw, sh], dim=-1)

    def valid_flags(self, featmap_sizes, pad_shape, device="cpu"):
        _check_featmap_sizes("MlvlPointGenerator.valid_flags", featmap_sizes, self.num_levels)
        h, w = pad_shape[:2]
        flags = []
        for i, (feat_h, feat_w) in enumerate(featmap_sizes):
            stride_w, stride_h = self.strides[i]
            valid = (min(int(math.ceil(h / stride_h)), feat_h), min(int(math.ceil(w / stride_w)), feat_w))
            flags.append(_valid_flags_level((feat_h, feat_w), valid, 1, device))
        return flags

    def sparse_priors(self, prior_idxs, featmap_size, level_idx, dtype=torch.float32, device="cpu"):
        height, width = featmap_size
        x = (prior_idxs % width + self.offset) * self.strides[level_idx][0]
        y = ((prior_idxs // width) % height + self.offset) * self.strides[level_idx][1]
        return torch.stack([x, y], 1).to(dtype).to(device)
