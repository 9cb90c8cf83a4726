import numpy as np
import pytest
import torch
from vk_core.structures import InstanceData
from vk_det.structures import DetDataSample
from vk_det.visualization import DetLocalVisualizer, DetVisualizationHook, palette_for


def _sample():
    s = DetDataSample()
    s.gt_instances = InstanceData(bboxes=torch.tensor([[10.0, 10.0, 40.0, 40.0]]), labels=torch.tensor([1]))
    masks = torch.zeros(2, 64, 64, dtype=torch.bool)
    masks[0, 5:20, 5:20] = True
    s.pred_instances = InstanceData(
        bboxes=torch.tensor([[5.0, 5.0, 20.0, 20.0], [30.0, 30.0, 60.0, 60.0]]),
        labels=torch.tensor([0, 1]),
        scores=torch.tensor([0.9, 0.1]),
        masks=masks,
    )
    return s


def test_draws_gt_left_pred_right_with_palette(tmp_path):
    vis = DetLocalVisualizer(alpha=1.0)
    vis.dataset_meta = dict(classes=("a", "b"), palette=[(255, 0, 0), (0, 255, 0)])
    img = np.full((64, 64, 3), 128, np.uint8)
    out = vis.add_datasample("x", img, _sample(), out_file=str(tmp_path / "v.jpg"), pred_score_thr=0.3)
    assert out.shape == (64, 128, 3)
    # gt box edge (class 1 -> green) on the left half
    assert tuple(out[25, 10]) == (0, 255, 0)
    # prediction of class 0 (red) on the right half; the 0.1-score box is filtered out
    assert tuple(out[12, 64 + 5]) == (255, 0, 0)
    assert tuple(out[45, 64 + 60]) == (128, 128, 128)
    # the mask tints inside the predicted square
    assert out[12, 64 + 12, 0] > 128 and out[12, 64 + 12, 1] < 128
    import cv2

    written = cv2.imread(str(tmp_path / "v.jpg"))
    assert written.shape == (64, 128, 3)


def test_pred_only_and_no_sample():
    vis = DetLocalVisualizer()
    img = np.zeros((32, 48, 3), np.uint8)
    # masks of another size are skipped, boxes still drawn: one panel only
    assert vis.add_datasample("x", img, _sample(), draw_gt=False).shape == (32, 48, 3)
    assert np.array_equal(vis.add_datasample("y", img, None), img)


def test_palette_for_fallback_and_hook_validation():
    assert palette_for(("a", "b"), [(1, 2, 3), (4, 5, 6)]) == [(1, 2, 3), (4, 5, 6)]
    fallback = palette_for(("a", "b", "c"))
    assert len(fallback) == 3 and fallback == palette_for(("a", "b", "c"))
    with pytest.raises(ValueError, match="interval"):
        DetVisualizationHook(interval=0)


def test_hook_writes_test_images(tmp_path):
    import cv2

    img_path = tmp_path / "im.jpg"
    cv2.imwrite(str(img_path), np.full((64, 64, 3), 50, np.uint8))
    sample = _sample()
    sample.set_metainfo(dict(img_path=str(img_path)))

    class Runner:
        work_dir = str(tmp_path)
        timestamp = "ts"
        visualizer = DetLocalVisualizer()
        iter = 0

    hook = DetVisualizationHook(draw=True, test_out_dir="vis")
    hook.after_test_iter(Runner, 0, None, [sample])
    assert (tmp_path / "ts" / "vis" / "im.jpg").is_file()
