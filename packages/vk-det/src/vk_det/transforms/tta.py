"""MultiScaleFlipAug: MMDetection 2.x style test-time augmentation on top of vk_core's TestTimeAug."""

from __future__ import annotations

from vk_core.transforms import TestTimeAug

from ..registry import TRANSFORMS
from .geometric import RandomFlip, Resize


@TRANSFORMS.register_module()
class MultiScaleFlipAug(TestTimeAug):
    """Every scale in ``img_scale`` (or ``scale_factor``) times (no flip, plus each of ``flip_direction`` when
    ``flip``), each followed by ``transforms`` (Resize/RandomFlip entries there are replaced by these).

    Returns ``{key: [value per view]}`` like TestTimeAug, views ordered scale-major, the unflipped view first.
    """

    def __init__(self, transforms, img_scale=None, scale_factor=None, flip: bool = False, flip_direction="horizontal"):
        if (img_scale is None) == (scale_factor is None):
            raise ValueError("MultiScaleFlipAug needs exactly one of img_scale and scale_factor")
        if img_scale is not None:
            scales = img_scale if isinstance(img_scale, list) else [img_scale]
            resizes = [Resize(scale=tuple(s), keep_ratio=True) for s in scales]
        else:
            factors = scale_factor if isinstance(scale_factor, list) else [scale_factor]
            resizes = [Resize(scale_factor=f, keep_ratio=True) for f in factors]
        directions = [flip_direction] if isinstance(flip_direction, str) else list(flip_direction)
        flips = [RandomFlip(prob=0.0)]
        if flip:
            flips += [RandomFlip(prob=1.0, direction=d) for d in directions]
        rest = [
            t
            for t in transforms
            if not (isinstance(t, dict) and str(t.get("type", "")).rsplit(".", 1)[-1] in ("Resize", "RandomFlip"))
            and not isinstance(t, (Resize, RandomFlip))
        ]
        super().__init__([resizes, flips, *[[t] for t in rest]])
        self.img_scale = img_scale
        self.scale_factor = scale_factor
        self.flip = flip
        self.flip_direction = flip_direction
