"""vk_ops kernels against their pure-PyTorch references (CPU), at the sizes of issue 7.

Cases: nms on 2,000 / 5,000 / 20,000 boxes; batched_nms with 80 classes; roi_align forward+backward for 1,000
RoIs over a 4-level FPN (256 channels, 7x7, sampling_ratio 2); roi_align of 512 RoIs on 1x256x128x128 to 7x7
(the mmcv comparison case); sigmoid and softmax focal loss forward+backward on 100k x 80.

For roi_align the benchmark also states a memory-bandwidth estimate: the bytes the kernel must touch (4 corner
reads per bilinear sample per channel, plus the output) divided by this machine's measured copy bandwidth. The
printed ratio is measured time / estimated time (1.0 = running at copy bandwidth on the touched bytes).
"""

from __future__ import annotations

import time

import torch
import vk_ops
from harness import compare
from vk_ops import reference


def _boxes(n: int, g: torch.Generator, extent: float = 1000.0, max_size: float = 200.0) -> torch.Tensor:
    xy = torch.rand(n, 2, generator=g) * extent
    wh = torch.rand(n, 2, generator=g) * max_size + 1
    return torch.cat([xy, xy + wh], 1)


def _batched_reference(boxes, scores, idxs, iou_threshold):
    offsets = idxs.to(boxes) * (boxes.max() + 1)
    keep = reference.nms(boxes + offsets[:, None], scores, iou_threshold)
    return torch.cat([boxes[keep], scores[keep][:, None]], 1), keep


def copy_bandwidth() -> float:
    """Bytes per second of a large tensor copy (read + write) on this machine, median of 5."""
    src = torch.empty(64 * 1024 * 1024 // 4)  # 64 MiB, far beyond the caches
    src.fill_(1.0)
    dst = torch.empty_like(src)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        dst.copy_(src)
        times.append(time.perf_counter() - start)
    return 2 * src.numel() * 4 / sorted(times)[2]


def roi_align_touched_bytes(rois: torch.Tensor, channels: int, out: int, sampling_ratio: int, scale: float) -> int:
    if sampling_ratio > 0:
        samples = rois.shape[0] * (out * sampling_ratio) ** 2
    else:
        size = (rois[:, 3:] - rois[:, 1:3]) * scale
        grid = torch.ceil(size / out).clamp(min=1)
        samples = int((grid[:, 0] * grid[:, 1]).sum()) * out * out
    return samples * channels * 4 * 4 + rois.shape[0] * channels * out * out * 4


def bench_nms() -> None:
    g = torch.Generator().manual_seed(0)
    for n in (2000, 5000, 20000):
        boxes, scores = _boxes(n, g), torch.rand(n, generator=g)
        compare(
            f"nms {n} boxes (iou 0.5)",
            {
                "reference": lambda b=boxes, s=scores: reference.nms(b, s, 0.5),
                "vk_ops": lambda b=boxes, s=scores: vk_ops.nms(b, s, 0.5),
            },
            baseline="reference",
            repeat=3 if n > 5000 else 5,
            params={"boxes": n, "kept": int(vk_ops.nms(boxes, scores, 0.5)[1].numel())},
        )
    n = 10000
    boxes, scores = _boxes(n, g), torch.rand(n, generator=g)
    idxs = torch.randint(0, 80, (n,), generator=g)
    cfg = dict(type="nms", iou_threshold=0.5)
    compare(
        f"batched_nms {n} boxes, 80 classes",
        {
            "reference": lambda: _batched_reference(boxes, scores, idxs, 0.5),
            "vk_ops": lambda: vk_ops.batched_nms(boxes, scores, idxs, cfg),
        },
        baseline="reference",
        repeat=3,
        params={"boxes": n, "classes": 80},
    )


def _fpn_case(g: torch.Generator):
    # An 800x1216 image: strides 4..32, 250 RoIs per level sized for that level.
    feats, rois = [], []
    for level, stride in enumerate((4, 8, 16, 32)):
        h, w = 800 // stride, 1216 // stride
        feats.append(torch.randn(1, 256, h, w, generator=g))
        size = 32 * 2**level
        xy = torch.rand(250, 2, generator=g) * torch.tensor([1216.0 - size, 800.0 - size])
        wh = (0.5 + torch.rand(250, 2, generator=g)) * size
        rois.append(torch.cat([torch.zeros(250, 1), xy, xy + wh], 1))
    return feats, rois


def _roi_fwd_bwd(fn, feats, rois):
    inputs = [f.detach().requires_grad_() for f in feats]
    total = sum(fn(x, r, 7, 1 / s, 2, "avg", True).sum() for x, r, s in zip(inputs, rois, (4, 8, 16, 32), strict=True))
    total.backward()


def bench_roi_align(bandwidth: float) -> None:
    g = torch.Generator().manual_seed(1)
    feats, rois = _fpn_case(g)
    compare(
        "roi_align fwd+bwd 1000 RoIs, 4-level FPN, 256ch, 7x7, sr=2",
        {
            "reference": lambda: _roi_fwd_bwd(reference.roi_align, feats, rois),
            "vk_ops": lambda: _roi_fwd_bwd(vk_ops.roi_align, feats, rois),
        },
        baseline="reference",
        repeat=3,
        params={"rois": 1000, "channels": 256},
    )
    # The mmcv comparison case: 512 RoIs on 1x256x128x128 to 7x7, adaptive sampling (sampling_ratio=0).
    x = torch.randn(1, 256, 128, 128, generator=g)
    xy = torch.rand(512, 2, generator=g) * 96
    r = torch.cat([torch.zeros(512, 1), xy, xy + 8 + torch.rand(512, 2, generator=g) * 56], 1)
    touched = roi_align_touched_bytes(r, 256, 7, 0, 1.0)
    estimate = touched / bandwidth
    comp = compare(
        "roi_align fwd 512 RoIs on 1x256x128x128 -> 7x7 (mmcv 2.1: 343 ms)",
        {
            "reference": lambda: reference.roi_align(x, r, 7, 1.0, 0),
            "vk_ops": lambda: vk_ops.roi_align(x, r, 7, 1.0, 0),
        },
        baseline="reference",
        repeat=3,  # the reference takes about a minute per run here
        params={"touched_MB": round(touched / 1e6, 1), "bandwidth_estimate_ms": round(estimate * 1e3, 2)},
    )
    measured = comp.case("vk_ops").median_s
    comp.params["measured_over_estimate"] = round(measured / estimate, 2)
    # The floor: read the feature map once and write the output once at DRAM bandwidth.
    floor = (x.numel() + 512 * 256 * 49) * 4 / bandwidth
    comp.params["dram_floor_ms"] = round(floor * 1e3, 2)
    print(
        f"roi_align 512 RoIs: touches {touched / 1e6:.0f} MB (4 corners x samples x 256 ch x 4 B + output); at the "
        f"measured copy bandwidth {bandwidth / 1e9:.1f} GB/s that is {estimate * 1e3:.1f} ms; vk_ops takes "
        f"{measured * 1e3:.1f} ms = {measured / estimate:.2f}x the estimate (below 1: the touched bytes mostly hit "
        f"cache). DRAM floor (features read once, output written once): {floor * 1e3:.1f} ms. "
        "mmcv 2.1 took 343 ms here."
    )


def bench_focal() -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(100_000, 80, generator=g)
    t = torch.randint(0, 81, (100_000,), generator=g)

    def fwd_bwd(fn):
        xx = x.detach().requires_grad_()
        fn(xx, t, 2.0, 0.25, None, "mean").backward()

    for name in ("sigmoid_focal_loss", "softmax_focal_loss"):
        compare(
            f"{name} fwd+bwd 100k x 80",
            {
                "reference": lambda n=name: fwd_bwd(getattr(reference, n)),
                "vk_ops": lambda n=name: fwd_bwd(getattr(vk_ops, n)),
            },
            baseline="reference",
            repeat=5,
            params={"rows": 100_000, "classes": 80},
        )


def main() -> None:
    torch.manual_seed(0)
    bandwidth = copy_bandwidth()
    print(f"threads: {torch.get_num_threads()}, copy bandwidth: {bandwidth / 1e9:.1f} GB/s")
    bench_nms()
    bench_roi_align(bandwidth)
    bench_focal()
