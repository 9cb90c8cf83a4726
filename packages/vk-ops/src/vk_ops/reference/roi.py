"""Reference RoIAlign and RoIPool, vectorised over RoIs (grouped by sampling grid size) and channels."""

from __future__ import annotations

import torch

# Elements per gathered intermediate before the RoIs are processed in chunks (bounds peak memory).
_CHUNK_ELEMENTS = 1 << 23


def _pair(size, name: str) -> tuple[int, int]:
    if isinstance(size, int):
        size = (size, size)
    if not (isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise ValueError(f"{name}: output_size must be a positive int or a pair (h, w) of them, got {size!r}")
    return int(size[0]), int(size[1])


def _compute(t: torch.Tensor) -> torch.Tensor:
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def check_rois(op: str, input: torch.Tensor, rois: torch.Tensor) -> None:
    """Raises a ValueError naming the first RoI whose batch index is not in the input."""
    if rois.numel() == 0:
        return
    batch = rois[:, 0].long()
    bad = ((batch < 0) | (batch >= input.shape[0])).nonzero()
    if bad.numel():
        k = int(bad[0, 0])
        raise ValueError(
            f"{op}: rois[{k}, 0] = {rois[k, 0].item()} is not a batch index of the input (batch size {input.shape[0]})"
        )


def _bilinear(y: torch.Tensor, x: torch.Tensor, height: int, width: int):
    """Corner indices and weights with the RoIAlign border rule; y is (..., 1) and x (1, ...)-broadcastable."""
    valid = (y >= -1) & (y <= height) & (x >= -1) & (x <= width)
    y = y.clamp(min=0)
    x = x.clamp(min=0)
    y_low = y.floor().long()
    x_low = x.floor().long()
    y_edge = y_low >= height - 1
    x_edge = x_low >= width - 1
    y_low = torch.where(y_edge, height - 1, y_low)
    x_low = torch.where(x_edge, width - 1, x_low)
    y_high = torch.where(y_edge, y_low, y_low + 1)
    x_high = torch.where(x_edge, x_low, x_low + 1)
    y = torch.where(y_edge, y_low.to(y.dtype), y)
    x = torch.where(x_edge, x_low.to(x.dtype), x)
    ly, lx = y - y_low, x - x_low
    hy, hx = 1 - ly, 1 - lx
    weights = [hy * hx, hy * lx, ly * hx, ly * lx]
    weights = [torch.where(valid, w, torch.zeros((), dtype=w.dtype)) for w in weights]
    corners = [(y_low, x_low), (y_low, x_high), (y_high, x_low), (y_high, x_high)]
    return corners, weights, valid


def roi_align(
    input: torch.Tensor,
    rois: torch.Tensor,
    output_size,
    spatial_scale: float = 1.0,
    sampling_ratio: int = 0,
    pool_mode: str = "avg",
    aligned: bool = True,
) -> torch.Tensor:
    """Same contract as :func:`vk_ops.roi_align`; differentiable through autograd."""
    ph, pw = _pair(output_size, "roi_align")
    out_dtype = input.dtype
    x, r = _compute(input), _compute(rois)
    n_batch, channels, height, width = x.shape
    num = r.shape[0]
    check_rois("roi_align", input, rois)
    off = 0.5 if aligned else 0.0
    start_w = r[:, 1] * spatial_scale - off
    start_h = r[:, 2] * spatial_scale - off
    roi_w = r[:, 3] * spatial_scale - off - start_w
    roi_h = r[:, 4] * spatial_scale - off - start_h
    if aligned:
        bad = ((roi_w < 0) | (roi_h < 0)).nonzero()
        if bad.numel():
            raise ValueError(
                f"roi_align: rois[{int(bad[0, 0])}] has a negative width or height (aligned=True needs x2 >= x1 "
                "and y2 >= y1)"
            )
    else:
        roi_w = roi_w.clamp(min=1)
        roi_h = roi_h.clamp(min=1)
    bin_h, bin_w = roi_h / ph, roi_w / pw
    if sampling_ratio > 0:
        grid_h = torch.full((num,), sampling_ratio, dtype=torch.long, device=x.device)
        grid_w = grid_h
    else:
        grid_h = torch.ceil(roi_h / ph).long().clamp(min=0)
        grid_w = torch.ceil(roi_w / pw).long().clamp(min=0)
    # (N*H*W, C): one gather fetches every channel of a sample point.
    flat = x.permute(0, 2, 3, 1).reshape(-1, channels)
    pieces = []
    order = []
    pairs = torch.stack([grid_h, grid_w], 1).unique(dim=0) if num else grid_h.new_zeros((0, 2))
    for gh, gw in pairs.tolist():
        members = ((grid_h == gh) & (grid_w == gw)).nonzero()[:, 0]
        if gh * gw == 0:
            fill = -10000.0 if pool_mode == "max" else 0.0
            pieces.append(x.new_full((members.numel(), channels, ph, pw), fill))
            order.append(members)
            continue
        per_roi = ph * pw * gh * gw * channels
        step = max(1, _CHUNK_ELEMENTS // per_roi)
        for c0 in range(0, members.numel(), step):
            m = members[c0 : c0 + step]
            iy = torch.arange(gh, dtype=x.dtype, device=x.device)
            ix = torch.arange(gw, dtype=x.dtype, device=x.device)
            py = torch.arange(ph, dtype=x.dtype, device=x.device)
            px = torch.arange(pw, dtype=x.dtype, device=x.device)
            bh, bw = bin_h[m, None, None], bin_w[m, None, None]
            # Same operation order as roi_sample_y/x in csrc/common/geometry.h.
            ys = start_h[m, None, None] + py[None, :, None] * bh + (iy[None, None, :] + 0.5) * bh / gh  # (k, ph, gh)
            xs = start_w[m, None, None] + px[None, :, None] * bw + (ix[None, None, :] + 0.5) * bw / gw  # (k, pw, gw)
            corners, weights, _ = _bilinear(ys[:, :, :, None, None], xs[:, None, None, :, :], height, width)
            base = r[m, 0].long()[:, None, None, None, None] * (height * width)
            val = 0
            for (yy, xx), w in zip(corners, weights, strict=True):
                idx = base + yy * width + xx  # (k, ph, gh, pw, gw)
                val = val + w[..., None] * flat[idx]
            val = val.permute(0, 5, 1, 3, 2, 4).reshape(m.numel(), channels, ph, pw, gh * gw)
            if pool_mode == "max":
                # argmax is documented to pick the first maximum, as the kernels do (ties are common: samples
                # outside the map all read 0).
                first = val.argmax(dim=-1, keepdim=True)
                best = val.gather(-1, first)[..., 0].clamp(min=-10000.0)
            else:
                best = val.sum(dim=-1) / (gh * gw)
            pieces.append(best)
            order.append(m)
    out = x.new_zeros((num, channels, ph, pw))
    if pieces:
        out = out.index_copy(0, torch.cat(order), torch.cat(pieces))
    return out.to(out_dtype)


def roi_pool(input: torch.Tensor, rois: torch.Tensor, output_size, spatial_scale: float = 1.0) -> torch.Tensor:
    """Same contract as :func:`vk_ops.roi_pool`: max over integer bins; empty bins give 0 and no gradient."""
    ph, pw = _pair(output_size, "roi_pool")
    out_dtype = input.dtype
    x, r = _compute(input), _compute(rois)
    n_batch, channels, height, width = x.shape
    num = r.shape[0]
    check_rois("roi_pool", input, rois)
    x1, y1 = r[:, 1] * spatial_scale, r[:, 2] * spatial_scale
    x2, y2 = (r[:, 3] + 1) * spatial_scale, (r[:, 4] + 1) * spatial_scale
    rw, rh = x2 - x1, y2 - y1
    ok = (rw > 0) & (rh > 0)
    bw, bh = rw / pw, rh / ph
    pyv = torch.arange(ph, dtype=x.dtype, device=x.device)
    pxv = torch.arange(pw, dtype=x.dtype, device=x.device)
    h0 = torch.floor(pyv[None] * bh[:, None] + y1[:, None]).long().clamp(0, height)  # (K, ph)
    h1 = torch.ceil((pyv[None] + 1) * bh[:, None] + y1[:, None]).long().clamp(0, height)
    w0 = torch.floor(pxv[None] * bw[:, None] + x1[:, None]).long().clamp(0, width)  # (K, pw)
    w1 = torch.ceil((pxv[None] + 1) * bw[:, None] + x1[:, None]).long().clamp(0, width)
    hh = torch.arange(height, device=x.device)
    ww = torch.arange(width, device=x.device)
    out = x.new_zeros((num, channels, ph, pw))
    step = max(1, _CHUNK_ELEMENTS // max(1, channels * ph * pw * height * width))
    pieces = []
    for c0 in range(0, num, step):
        sl = slice(c0, c0 + step)
        in_h = (hh[None, None] >= h0[sl, :, None]) & (hh[None, None] < h1[sl, :, None])  # (k, ph, H)
        in_w = (ww[None, None] >= w0[sl, :, None]) & (ww[None, None] < w1[sl, :, None])  # (k, pw, W)
        mask = in_h[:, :, None, :, None] & in_w[:, None, :, None, :]  # (k, ph, pw, H, W)
        mask = mask & ok[sl, None, None, None, None]
        feats = x[r[sl, 0].long()]  # (k, C, H, W)
        vals = feats[:, :, None, None].masked_fill(~mask[:, None], float("-inf"))
        flat_vals = vals.flatten(-2)
        best = flat_vals.gather(-1, flat_vals.argmax(dim=-1, keepdim=True))[..., 0]  # (k, C, ph, pw), first max
        empty = ~mask.flatten(-2).any(-1)  # (k, ph, pw)
        pieces.append(torch.where(empty[:, None], torch.zeros((), dtype=x.dtype), best))
    if pieces:
        out = torch.cat(pieces)
    return out.to(out_dtype)
