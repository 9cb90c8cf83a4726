import json

import cv2
import numpy as np
import pytest
import torch
from vk_core.visualization import LocalVisBackend, TensorboardVisBackend, Visualizer, color_val


def _vis(name, **kw):
    return Visualizer.get_instance(name, **kw)


def test_draw_bboxes_pixels_opaque():
    vis = _vis("vis_boxes", image=np.zeros((20, 20, 3), np.uint8))
    vis.draw_bboxes(torch.tensor([[2, 3, 10, 12]]), edge_colors="red", line_widths=1, alpha=1.0)
    img = vis.get_image()
    assert tuple(img[3, 5]) == (255, 0, 0)  # top edge
    assert tuple(img[12, 10]) == (255, 0, 0)  # bottom-right corner
    assert tuple(img[7, 6]) == (0, 0, 0)  # inside stays empty
    with pytest.raises(ValueError, match=r"x2 >= x1"):
        vis.draw_bboxes(np.array([[5, 5, 1, 1]]))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        vis.draw_bboxes(np.zeros((2, 3)))


def test_draw_binary_masks_blend_exact():
    vis = _vis("vis_masks", image=np.full((4, 4, 3), 100, np.uint8))
    mask = np.zeros((4, 4), bool)
    mask[:2] = True
    vis.draw_binary_masks(mask, colors=(200, 0, 0), alphas=0.5)
    img = vis.get_image()
    assert tuple(img[0, 0]) == (150, 50, 50)
    assert tuple(img[3, 3]) == (100, 100, 100)
    with pytest.raises(ValueError, match="do not match the image"):
        vis.draw_binary_masks(np.zeros((3, 3), bool))


def test_draw_misc_and_colors():
    vis = _vis("vis_misc", image=np.zeros((30, 30, 3), np.uint8))
    vis.draw_points([[5, 5]], colors="g", sizes=2).draw_polygons(np.array([[1, 1], [20, 1], [20, 20]]), alpha=1.0)
    vis.draw_texts("hi", np.array([[2, 2]]), colors="white").draw_circles([15, 15], [4], alpha=1.0)
    assert vis.get_image()[5, 5, 1] == 255
    assert color_val((0.0, 1.0, 0.0)) == (0, 255, 0)
    with pytest.raises(ValueError, match="unknown colour name 'mauve'"):
        color_val("mauve")
    heat = Visualizer.draw_featmap(torch.rand(8, 6, 5), channel_reduction=None, topk=4, arrangement=(2, 2))
    assert heat.shape == (12, 10, 3) and heat.dtype == np.uint8
    with pytest.raises(RuntimeError, match="set_image"):
        _vis("vis_empty").draw_bboxes(np.zeros((0, 4)))


def test_local_backend_writes_scalars_config_images(tmp_path):
    vis = _vis("vis_local", vis_backends=[dict(type="LocalVisBackend")], save_dir=str(tmp_path / "vis_data"))
    assert not (tmp_path / "vis_data").exists()  # lazy: nothing written before the first record
    vis.add_scalars({"loss": torch.tensor(0.5), "lr": 0.1}, step=3)
    vis.add_scalar("acc", np.float32(0.25), step=4)
    vis.add_config("a = 1\n")
    vis.add_image("sample", np.zeros((4, 5, 3), np.uint8), step=2)
    lines = (tmp_path / "vis_data" / "scalars.json").read_text().splitlines()
    assert [json.loads(x) for x in lines] == [{"loss": 0.5, "lr": 0.1, "step": 3}, {"acc": 0.25, "step": 4}]
    assert (tmp_path / "vis_data" / "config.py").read_text() == "a = 1\n"
    img = cv2.imread(str(tmp_path / "vis_data" / "vis_image" / "sample_2.png"))
    assert img.shape == (4, 5, 3)
    with pytest.raises(ValueError, match="bare file name"):
        LocalVisBackend(str(tmp_path), scalar_save_file="a/b.json")
    with pytest.raises(TypeError, match="'bad' must be a number"):
        vis.add_scalars({"bad": [1, 2]})


def test_tensorboard_events_read_back(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    backend = TensorboardVisBackend(str(tmp_path / "tb"))
    for step in range(3):
        backend.add_scalars({"loss": 1.0 / (step + 1)}, step=step)
    backend.close()
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    events = acc.Scalars("loss")
    assert [e.step for e in events] == [0, 1, 2]
    assert [round(e.value, 5) for e in events] == [1.0, 0.5, 0.33333]


def test_wandb_backend_offline(tmp_path):
    pytest.importorskip("wandb")
    from vk_core.visualization import WandbVisBackend

    backend = WandbVisBackend(str(tmp_path), init_kwargs=dict(mode="offline", project="vk-test"))
    backend.add_scalars({"loss": 0.5}, step=1)
    backend.close()
    assert any(tmp_path.rglob("*.wandb"))


def test_mlflow_backend_file_store(tmp_path):
    pytest.importorskip("mlflow")
    from vk_core.visualization import MLflowVisBackend

    backend = MLflowVisBackend(str(tmp_path), exp_name="vk-test")
    backend.add_scalars({"loss": 0.5}, step=1)
    backend.close()
    assert any((tmp_path / "mlruns").rglob("loss"))
