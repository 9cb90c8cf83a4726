"""Point sampling helpers of PointRend, MMCV API.

``point_sample`` is ``F.grid_sample`` on points in [0, 1] coordinates; as in MMCV it needs no kernel of its
own (grid_sample already has CPU and CUDA kernels, autograd and compile support), so it is plain PyTorch here and
in :mod:`vk_ops.reference` alike.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def normalize(grid: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]."""
    return grid * 2.0 - 1.0


def denormalize(grid: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1]."""
    return (grid + 1.0) / 2.0


def point_sample(input: torch.Tensor, points: torch.Tensor, align_corners: bool = False, **kwargs) -> torch.Tensor:
    """Samples ``input`` (N, C, H, W) at ``points`` (N, P, 2) or (N, Hg, Wg, 2) given as (x, y) in [0, 1].

    Returns (N, C, P) or (N, C, Hg, Wg). ``kwargs`` go to ``F.grid_sample`` (``mode``, ``padding_mode``).
    """
    if not isinstance(input, torch.Tensor) or input.dim() != 4:
        raise ValueError(f"point_sample: input must have shape (N, C, H, W), got {getattr(input, 'shape', input)}")
    if points.dim() not in (3, 4) or points.shape[-1] != 2 or points.shape[0] != input.shape[0]:
        raise ValueError(
            f"point_sample: points must have shape ({input.shape[0]}, P, 2) or ({input.shape[0]}, H, W, 2) as "
            f"(x, y) in [0, 1], got {tuple(points.shape)}"
        )
    add_dim = points.dim() == 3
    if add_dim:
        points = points.unsqueeze(2)
    output = F.grid_sample(input, normalize(points).to(input.dtype), align_corners=align_corners, **kwargs)
    return output.squeeze(3) if add_dim else output


def rel_roi_point_to_abs_img_point(rois: torch.Tensor, rel_roi_points: torch.Tensor) -> torch.Tensor:
    """Points relative to their RoI ([0, 1] in the box) to absolute image coordinates.

    rois: (K, 4) or (K, 5) (a leading batch index is dropped); rel_roi_points: (K, P, 2). Returns (K, P, 2).
    """
    if rois.dim() != 2 or rois.shape[1] not in (4, 5):
        raise ValueError(
            f"rel_roi_point_to_abs_img_point: rois must have shape (K, 4) or (K, 5), got {tuple(rois.shape)}"
        )
    if rel_roi_points.dim() != 3 or rel_roi_points.shape[2] != 2 or rel_roi_points.shape[0] != rois.shape[0]:
        raise ValueError(
            f"rel_roi_point_to_abs_img_point: rel_roi_points must have shape ({rois.shape[0]}, P, 2), got "
            f"{tuple(rel_roi_points.shape)}"
        )
    with torch.no_grad():
        if rois.shape[1] == 5:
            rois = rois[:, 1:]
        xs = rel_roi_points[:, :, 0] * (rois[:, None, 2] - rois[:, None, 0]) + rois[:, None, 0]
        ys = rel_roi_points[:, :, 1] * (rois[:, None, 3] - rois[:, None, 1]) + rois[:, None, 1]
        return torch.stack([xs, ys], dim=2)


def get_shape_from_feature_map(x: torch.Tensor) -> torch.Tensor:
    """(1, 1, 2) tensor (W, H) of a feature map."""
    return torch.tensor([x.shape[3], x.shape[2]], dtype=torch.float, device=x.device).view(1, 1, 2)


def abs_img_point_to_rel_img_point(abs_img_points: torch.Tensor, img, spatial_scale: float = 1.0) -> torch.Tensor:
    """Absolute image points to [0, 1] coordinates of ``img``: an (h, w) tuple or an (N, C, H, W) feature map."""
    if isinstance(img, tuple) and len(img) == 2:
        h, w = img
        scale = torch.tensor([w, h], dtype=torch.float, device=abs_img_points.device).view(1, 1, 2)
    elif isinstance(img, torch.Tensor) and img.dim() == 4:
        scale = get_shape_from_feature_map(img)
    else:
        raise ValueError(
            f"abs_img_point_to_rel_img_point: img must be an (h, w) tuple or an (N, C, H, W) tensor, got {img!r:.80}"
        )
    return abs_img_points / scale * spatial_scale


def rel_roi_point_to_rel_img_point(
    rois: torch.Tensor, rel_roi_points: torch.Tensor, img, spatial_scale: float = 1.0
) -> torch.Tensor:
    """Points relative to their RoI to [0, 1] coordinates of the image (or feature map) ``img``."""
    abs_points = rel_roi_point_to_abs_img_point(rois, rel_roi_points)
    return abs_img_point_to_rel_img_point(abs_points, img, spatial_scale)
