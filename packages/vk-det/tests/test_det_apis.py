import json

import numpy as np
import pytest
import torch
from vk_det.apis import DetInferencer, get_test_pipeline_cfg, inference_detector, init_detector, resolve_config


@pytest.fixture(scope="module")
def small_cfg():
    cfg = resolve_config("retinanet_r18_fpn_1x_coco")
    cfg.merge_from_dict(
        {
            "model.backbone.init_cfg": None,
            # untrained heads score every anchor alike: keep post-processing small so the tests stay fast
            "model.test_cfg.nms_pre": 50,
            "model.test_cfg.max_per_img": 20,
            "model.neck.out_channels": 32,
            "model.bbox_head.in_channels": 32,
            "model.bbox_head.feat_channels": 32,
            "model.bbox_head.stacked_convs": 1,
            "test_dataloader.dataset.pipeline.1.scale": (96, 64),
            "test_dataloader.dataset.metainfo": dict(classes=tuple(f"c{i}" for i in range(80))),
        }
    )
    return cfg


@pytest.fixture(scope="module")
def inferencer(small_cfg):
    torch.manual_seed(0)
    return DetInferencer(small_cfg, device="cpu", show_progress=False)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    import cv2

    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for name, size in (("a.jpg", (48, 64)), ("b.png", (70, 50)), ("c.jpg", (64, 64))):
        cv2.imwrite(str(root / name), rng.integers(0, 255, (*size, 3), dtype=np.uint8))
    (root / "notes.txt").write_text("not an image")
    return root


def test_resolve_config_names_and_errors():
    assert resolve_config("retinanet_r18_fpn_1x_coco").model.backbone.depth == 18
    with pytest.raises(FileNotFoundError, match="did you mean retinanet_r18_fpn_1x_coco"):
        resolve_config("retinanet_r18_fpn_1x_cooc")


def test_test_pipeline_drops_annotations_and_swaps_loader(small_cfg):
    steps = get_test_pipeline_cfg(small_cfg, from_ndarray=True)
    names = [s["type"] for s in steps]
    assert "LoadAnnotations" not in names and names[0] == "LoadImageFromNDArray" and names[-1] == "PackDetInputs"


@pytest.mark.slow
def test_folder_batch_and_out_dir(inferencer, images, tmp_path):
    out = inferencer(str(images), batch_size=2, out_dir=str(tmp_path), pred_score_thr=0.0, return_vis=True)
    preds = out["predictions"]
    assert len(preds) == 3 and len(out["visualization"]) == 3
    for p in preds:
        assert set(p) == {"labels", "scores", "bboxes"}
        assert len(p["labels"]) == len(p["scores"]) == len(p["bboxes"])
        b = np.array(p["bboxes"]).reshape(-1, 4)
        assert np.all(b[:, 2] >= b[:, 0]) and np.all(b[:, 3] >= b[:, 1])
    # boxes are in the original image frame: 'b.png' is 50 wide and 70 high
    b = np.array(preds[1]["bboxes"]).reshape(-1, 4)
    assert b[:, 2].max() <= 50 + 1e-3 and b[:, 3].max() <= 70 + 1e-3
    assert sorted(p.name for p in (tmp_path / "preds").iterdir()) == ["a.json", "b.json", "c.json"]
    assert json.loads((tmp_path / "preds" / "a.json").read_text()) == preds[0]
    assert sorted(p.name for p in (tmp_path / "vis").iterdir()) == ["a.jpg", "b.jpg", "c.jpg"]
    assert out["visualization"][1].shape == (70, 50, 3)


def test_ndarray_list_same_as_path(inferencer, images, tmp_path):
    import cv2

    arr = cv2.imread(str(images / "a.jpg"))
    by_array = inferencer([arr], out_dir=str(tmp_path), no_save_vis=True, return_datasamples=True)
    by_path = inferencer(str(images / "a.jpg"))
    samples = by_array["predictions"]
    np.testing.assert_allclose(samples[0].pred_instances.scores, by_path["predictions"][0]["scores"], atol=1e-5)
    assert (tmp_path / "preds" / "00000000.json").is_file() and not (tmp_path / "vis").exists()
    assert samples[0].pred_instances.bboxes.shape[1] == 4 and samples[0].ori_shape == (48, 64)


def test_score_threshold_only_filters_drawing(inferencer, images):
    import cv2

    low = inferencer(str(images / "c.jpg"), pred_score_thr=0.0, return_vis=True)
    high = inferencer(str(images / "c.jpg"), pred_score_thr=1.0, return_vis=True)
    assert low["predictions"] == high["predictions"] and low["predictions"][0]["labels"]
    # nothing scores above 1.0, so the high-threshold drawing is the bare image
    bare = cv2.imread(str(images / "c.jpg"))[:, :, ::-1]
    assert np.array_equal(high["visualization"][0], bare)
    assert not np.array_equal(low["visualization"][0], bare)


def test_bad_inputs(inferencer, tmp_path):
    with pytest.raises(FileNotFoundError, match="not a file or a folder"):
        inferencer(str(tmp_path / "missing.jpg"))
    with pytest.raises(FileNotFoundError, match="no images"):
        inferencer(str(tmp_path))
    with pytest.raises(ValueError, match="batch_size"):
        inferencer(np.zeros((8, 8, 3), np.uint8), batch_size=0)
    with pytest.raises(TypeError, match="inputs must be"):
        inferencer(3)


@pytest.mark.slow
def test_init_and_inference_detector(small_cfg, images, tmp_path):
    torch.manual_seed(0)
    model = init_detector(small_cfg, device="cpu")
    assert len(model.dataset_meta["classes"]) == 80 and not model.training
    # a checkpoint written with meta.dataset_meta gives the model its classes
    ckpt = tmp_path / "w.pth"
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=("x",) * 80))), ckpt)
    model2 = init_detector(small_cfg, str(ckpt), device="cpu")
    assert model2.dataset_meta["classes"][0] == "x"
    single = inference_detector(model2, str(images / "a.jpg"))
    many = inference_detector(model, [str(images / "a.jpg"), str(images / "b.png")])
    assert len(many) == 2
    torch.testing.assert_close(single.pred_instances.scores, many[0].pred_instances.scores)


@pytest.mark.slow
def test_inferencer_from_weights_only_uses_the_saved_config(small_cfg, images, tmp_path):
    model = init_detector(small_cfg, device="cpu")
    ckpt = tmp_path / "w.pth"
    torch.save(dict(state_dict=model.state_dict(), meta=dict(cfg=small_cfg.pretty_text)), ckpt)
    inferencer = DetInferencer(weights=str(ckpt), device="cpu")
    assert inferencer.cfg.model.neck.out_channels == 32
    assert len(inferencer(str(images / "a.jpg"))["predictions"]) == 1
    bare = tmp_path / "bare.pth"
    torch.save(dict(state_dict=model.state_dict()), bare)
    with pytest.raises(ValueError, match="carries no config"):
        DetInferencer(weights=str(bare))
    with pytest.raises(ValueError, match="needs a config"):
        DetInferencer()
