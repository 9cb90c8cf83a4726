"""Checks an installed vk-ops wheel: it is the wheel (not a source tree) that imports, its kernels load, the op
table is complete, and every op agrees with its PyTorch reference on a small random input.

    python ci/check_ops_wheel.py --expect-tag cpu|cuXYZ|none
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

OPS = ("bbox_overlaps", "nms", "soft_nms", "nms_match", "roi_align", "roi_pool", "sigmoid_focal_loss",
       "softmax_focal_loss")  # fmt: skip


def smoke(vk_ops, device: str) -> None:
    from vk_ops import reference

    g = torch.Generator().manual_seed(0)
    xy = torch.rand(300, 2, generator=g) * 100
    boxes = torch.cat([xy, xy + torch.rand(300, 2, generator=g) * 40], 1).to(device)
    scores = torch.rand(300, generator=g).to(device)
    _, keep = vk_ops.nms(boxes, scores, 0.5)
    assert torch.equal(keep.cpu(), reference.nms(boxes.cpu(), scores.cpu(), 0.5)), f"nms on {device}"
    torch.testing.assert_close(
        vk_ops.bbox_overlaps(boxes, boxes).cpu(), reference.bbox_overlaps(boxes.cpu(), boxes.cpu())
    )
    feats = torch.randn(2, 8, 32, 32, generator=g).to(device)
    rois = torch.cat([torch.randint(0, 2, (50, 1), generator=g).float().to(device), boxes[:50] / 4], 1)
    for mode in ("avg", "max"):
        got = vk_ops.roi_align(feats, rois, 7, 0.5, 2, mode).cpu()
        torch.testing.assert_close(got, reference.roi_align(feats.cpu(), rois.cpu(), 7, 0.5, 2, mode), msg=mode)
    torch.testing.assert_close(
        vk_ops.roi_pool(feats, rois, 7, 0.5).cpu(), reference.roi_pool(feats.cpu(), rois.cpu(), 7, 0.5)
    )
    logits = torch.randn(64, 10, generator=g).to(device)
    target = torch.randint(0, 11, (64,), generator=g).to(device)
    for name in ("sigmoid_focal_loss", "softmax_focal_loss"):
        got = getattr(vk_ops, name)(logits, target).cpu()
        torch.testing.assert_close(got, getattr(reference, name)(logits.cpu(), target.cpu()), msg=name)
    print(f"   numerical smoke test on {device}: ok")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expect-tag", required=True, help="local version tag: cpu, cu126, ... or none")
    args = parser.parse_args()
    import vk_ops

    location = Path(vk_ops.__file__).resolve()
    if "site-packages" not in location.parts:
        print(f"vk_ops was imported from {location}, not from an installed wheel", file=sys.stderr)
        return 1
    info = vk_ops.build_info()
    print(f"   vk_ops {info['version']} from {location.parent}")
    print(f"   built for torch {info['torch_version']} (CUDA {info['torch_cuda'] or '-'}, archs "
          f"{info['cuda_archs'] or '-'}), {info['compiler']}; running torch {torch.__version__}")  # fmt: skip
    tag = info["version"].partition("+")[2] or "none"
    if tag != args.expect_tag:
        print(f"wheel has local tag {tag!r}, expected {args.expect_tag!r}", file=sys.stderr)
        return 1
    if args.expect_tag != "none" and not info["kernels_loaded"]:
        print(f"kernels did not load: {info['reason']}", file=sys.stderr)
        return 1
    table = vk_ops.available()
    print("   op                    cpu        cuda")
    for op in OPS:
        print(f"   {op:<21} {table[op]['cpu']:<10} {table[op]['cuda']}")
    if args.expect_tag != "none":
        missing = [op for op in OPS if table[op]["cpu"] != "kernel"]
        if args.expect_tag.startswith("cu"):
            missing += [
                f"{op} (cuda)"
                for op in ("nms", "roi_align", "roi_pool", "bbox_overlaps")
                if table[op]["cuda"] != "kernel"
            ]
        if missing:
            print(f"no kernel for: {', '.join(missing)}", file=sys.stderr)
            return 1
    smoke(vk_ops, "cpu")
    if info["cuda"] and torch.cuda.is_available():
        smoke(vk_ops, "cuda")
    print("   OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
