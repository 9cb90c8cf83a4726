"""vk_ops.bbox_overlaps: compiled CPU kernel against the pure-PyTorch reference."""

import torch
import vk_ops
from harness import compare
from vk_ops import reference


def _boxes(n: int, generator: torch.Generator) -> torch.Tensor:
    xy = torch.rand(n, 2, generator=generator) * 500
    wh = torch.rand(n, 2, generator=generator) * 100 + 1
    return torch.cat([xy, xy + wh], dim=1)


def main() -> None:
    g = torch.Generator().manual_seed(0)
    for n in (1000, 3000):
        a, b = _boxes(n, g), _boxes(n, g)
        compare(
            f"bbox_overlaps iou {n}x{n}",
            {
                "reference": lambda a=a, b=b: reference.bbox_overlaps(a, b),
                "vk_ops": lambda a=a, b=b: vk_ops.bbox_overlaps(a, b),
            },
            baseline="reference",
            params={"boxes": n},
        )
