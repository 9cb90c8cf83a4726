"""``make demo`` until the task packages provide theirs: shows the installation and runs a compiled op."""

from __future__ import annotations


def main() -> int:
    import torch

    from vk_core.cli.main import main as vk_main

    vk_main(["env"])
    try:
        import vk_ops
    except ImportError:
        print("vk-ops is not installed; skipping the operator check")
        return 0
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 15.0, 15.0]])
    print("IoU of two overlapping squares (kernel):", vk_ops.bbox_overlaps(boxes, boxes)[0, 1].item())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
