"""Mask pasting of the Mask R-CNN head: hand-computed cases and a per-box reference."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_det.models.roi_heads.utils import paste_masks_in_image


def _paste_one_reference(mask: torch.Tensor, box, img_h: int, img_w: int) -> torch.Tensor:
    """Paste one (m, m) mask: sample at every pixel centre of its box window plus one pixel, zero elsewhere."""
    x0, y0, x1, y1 = (float(v) for v in box)
    out = torch.zeros(img_h, img_w)
    xa, ya = max(int(torch.tensor(x0).floor()) - 1, 0), max(int(torch.tensor(y0).floor()) - 1, 0)
    xb, yb = min(int(torch.tensor(x1).ceil()) + 1, img_w), min(int(torch.tensor(y1).ceil()) + 1, img_h)
    if xb <= xa or yb <= ya:
        return out
    xs = (torch.arange(xa, xb, dtype=torch.float32) + 0.5 - x0) / (x1 - x0) * 2 - 1
    ys = (torch.arange(ya, yb, dtype=torch.float32) + 0.5 - y0) / (y1 - y0) * 2 - 1
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)[None]
    out[ya:yb, xa:xb] = F.grid_sample(mask[None, None].float(), grid, align_corners=False)[0, 0]
    return out


def test_paste_constant_mask_fills_exactly_the_integer_box():
    masks = torch.ones(1, 1, 28, 28)
    out = paste_masks_in_image(masks, torch.tensor([[2.0, 3.0, 6.0, 8.0]]), 10, 12, threshold=0.5)
    expected = torch.zeros(1, 10, 12, dtype=torch.bool)
    expected[0, 3:8, 2:6] = True
    assert out.dtype == torch.bool
    assert torch.equal(out, expected)


def test_paste_left_half_mask():
    masks = torch.zeros(1, 1, 4, 4)
    masks[..., :2] = 1.0  # left half of the box
    out = paste_masks_in_image(masks, torch.tensor([[0.0, 0.0, 8.0, 4.0]]), 4, 8, threshold=0.5)
    # Pixel centres 0.5..3.5 are in the left half; 4.5.. in the right; the centre column x=3.5 samples
    # mask coord 1.25 -> value 1.
    assert out[0, :, :4].all() and not out[0, :, 4:].any()


def test_paste_uint8_when_threshold_negative_and_empty_input():
    masks = torch.full((2, 1, 7, 7), 0.5)
    boxes = torch.tensor([[0.0, 0.0, 4.0, 4.0], [2.0, 2.0, 5.0, 5.0]])
    out = paste_masks_in_image(masks, boxes, 6, 6, threshold=-1)
    assert out.dtype == torch.uint8
    assert int(out[0, 1, 1]) == 127 and int(out[1, 3, 3]) == 127 and int(out[0, 5, 5]) == 0
    empty = paste_masks_in_image(torch.zeros(0, 1, 28, 28), torch.zeros(0, 4), 5, 7)
    assert empty.shape == (0, 5, 7) and empty.dtype == torch.bool


def test_paste_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"masks must have shape \(N, 1, m, m\)"):
        paste_masks_in_image(torch.zeros(2, 28, 28), torch.zeros(2, 4), 5, 5)
    with pytest.raises(ValueError, match=r"boxes must have shape \(2, 4\)"):
        paste_masks_in_image(torch.zeros(2, 1, 28, 28), torch.zeros(3, 4), 5, 5)


box_st = st.tuples(
    st.floats(-5, 40, allow_nan=False), st.floats(-5, 30, allow_nan=False), st.floats(0.5, 30), st.floats(0.5, 30)
)


@settings(max_examples=40, deadline=None)
@given(boxes=st.lists(box_st, min_size=1, max_size=5), seed=st.integers(0, 2**16))
def test_paste_matches_per_box_reference(boxes, seed):
    g = torch.Generator().manual_seed(seed)
    img_h, img_w = 31, 37
    b = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in boxes], dtype=torch.float32)
    masks = torch.rand(len(boxes), 1, 6, 6, generator=g)
    out = paste_masks_in_image(masks, b, img_h, img_w, threshold=-1)
    for i in range(len(boxes)):
        ref = (_paste_one_reference(masks[i, 0], b[i], img_h, img_w) * 255).to(torch.uint8)
        assert torch.equal(out[i], ref), f"box {i}: {b[i].tolist()}"
