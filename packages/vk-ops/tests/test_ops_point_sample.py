import pytest
import torch
import vk_ops


def test_point_sample_hits_pixel_centres():
    x = torch.arange(12, dtype=torch.float32).view(1, 1, 3, 4)
    # (x, y) in [0, 1]: pixel (row 1, col 2) has its centre at ((2 + 0.5) / 4, (1 + 0.5) / 3).
    pts = torch.tensor([[[2.5 / 4, 1.5 / 3], [0.5 / 4, 0.5 / 3]]])
    out = vk_ops.point_sample(x, pts)
    assert out.shape == (1, 1, 2)
    torch.testing.assert_close(out[0, 0], torch.tensor([6.0, 0.0]))
    grid = vk_ops.point_sample(x, pts[:, None])  # (N, Hg, Wg, 2) keeps its grid shape
    assert grid.shape == (1, 1, 1, 2)
    with pytest.raises(ValueError, match=r"points must have shape \(1, P, 2\)"):
        vk_ops.point_sample(x, torch.zeros(1, 2, 3))


def test_rel_roi_point_to_rel_img_point():
    rois = torch.tensor([[0.0, 10.0, 20.0, 30.0, 60.0]])
    rel = torch.tensor([[[0.0, 0.0], [0.5, 0.25], [1.0, 1.0]]])
    absolute = vk_ops.rel_roi_point_to_abs_img_point(rois, rel)
    torch.testing.assert_close(absolute, torch.tensor([[[10.0, 20.0], [20.0, 30.0], [30.0, 60.0]]]))
    # image (h, w) = (100, 40); spatial_scale 1
    rel_img = vk_ops.rel_roi_point_to_rel_img_point(rois, rel, (100, 40))
    torch.testing.assert_close(rel_img, torch.tensor([[[0.25, 0.2], [0.5, 0.3], [0.75, 0.6]]]))
    feat = torch.zeros(1, 3, 25, 10)  # a stride-4 feature map of that image
    torch.testing.assert_close(vk_ops.rel_roi_point_to_rel_img_point(rois, rel, feat, 0.25), rel_img)
    with pytest.raises(ValueError, match=r"rel_roi_points must have shape \(1, P, 2\)"):
        vk_ops.rel_roi_point_to_abs_img_point(rois, torch.zeros(2, 3, 2))
