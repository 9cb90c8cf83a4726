import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from vk_det.tools.confusion_matrix import calculate_confusion_matrix, confusion_for_image, plot_confusion_matrix
from vk_det.tools.convert import images_to_coco, voc_to_coco

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def vk(*argv):
    from vk_core.cli.main import main

    return main(["det", *map(str, argv)])


@pytest.mark.skipif(not (DATA / "bccd").is_dir(), reason="../shared/data/bccd is absent")
def test_voc2coco_reproduces_the_bccd_coco_files(tmp_path):
    assert vk("convert", "voc2coco", DATA / "bccd" / "BCCD", "--splits", "val", "--classes", "RBC,WBC,Platelets",
              "--out-dir", tmp_path) == 0  # fmt: skip
    ours = json.loads((tmp_path / "instances_val.json").read_text())
    ref = json.loads((DATA / "bccd" / "annotations" / "instances_val.json").read_text())
    assert ours["categories"] == ref["categories"] and ours["images"] == ref["images"]
    key = lambda a: (a["image_id"], a["category_id"], a["bbox"])  # noqa: E731
    assert sorted(map(key, ours["annotations"])) == sorted(map(key, ref["annotations"]))


def test_voc2coco_clips_drops_and_marks_difficult(tmp_path):
    root = tmp_path / "voc"
    (root / "Annotations").mkdir(parents=True)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "s.txt").write_text("x\n")
    obj = "<object><name>{}</name><difficult>{}</difficult><bndbox><xmin>{}</xmin><ymin>{}</ymin><xmax>{}</xmax><ymax>{}</ymax></bndbox></object>"
    (root / "Annotations" / "x.xml").write_text(
        "<annotation><size><width>20</width><height>10</height></size>"
        + obj.format("a", 0, 5, 2, 30, 8)  # clipped at x=20
        + obj.format("b", 1, 1, 1, 4, 4)  # difficult -> iscrowd
        + obj.format("a", 0, 25, 2, 30, 8)  # outside -> dropped
        + "</annotation>"
    )
    coco = voc_to_coco(str(root), "s", ("a", "b"))
    assert [(a["bbox"], a["category_id"], a["iscrowd"]) for a in coco["annotations"]] == [
        ([5.0, 2.0, 15.0, 6.0], 1, 0),
        ([1.0, 1.0, 3.0, 3.0], 2, 1),
    ]
    with pytest.raises(FileNotFoundError, match="split list not found"):
        voc_to_coco(str(root), "nope", ("a",))


def test_images2coco(tmp_path):
    import cv2

    (tmp_path / "imgs" / "sub").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "imgs" / "a.jpg"), np.zeros((5, 7, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "imgs" / "sub" / "b.png"), np.zeros((9, 4, 3), np.uint8))
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    out = tmp_path / "out.json"
    assert vk("convert", "images2coco", tmp_path / "imgs", tmp_path / "classes.txt", out) == 0
    coco = json.loads(out.read_text())
    assert coco["images"] == [
        dict(id=1, file_name="a.jpg", width=7, height=5),
        dict(id=2, file_name="sub/b.png", width=4, height=9),
    ]
    assert coco["categories"] == [dict(id=1, name="cat"), dict(id=2, name="dog")] and coco["annotations"] == []
    assert images_to_coco(str(tmp_path / "imgs"), ("x",))["categories"] == [dict(id=1, name="x")]


def test_confusion_for_image_hand_counts():
    m = np.zeros((3, 3), np.int64)  # classes 0, 1 and background
    gt_boxes = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]], np.float32)
    gt_labels = np.array([0, 1, 1])
    det_boxes = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [60, 60, 70, 70], [40, 40, 50, 50]], np.float32)
    det_scores = np.array([0.9, 0.8, 0.7, 0.1])
    det_labels = np.array([0, 0, 1, 1])
    confusion_for_image(m, gt_boxes, gt_labels, det_boxes, det_scores, det_labels, 0.3, 0.5)
    # det0 -> gt0 (0,0); det1 -> gt1 labelled 1 (1,0); det2 background FP (-1,1); det3 under threshold;
    # gt1 and gt2 have no same-class detection -> (1,-1) twice
    assert m.tolist() == [[1, 0, 0], [1, 0, 2], [0, 1, 0]]


def test_calculate_confusion_matrix_and_plot(tmp_path):
    class DS:
        metainfo = dict(classes=("a", "b"))

        def __len__(self):
            return 2

        def get_data_info(self, i):
            return dict(instances=[dict(bbox=[0, 0, 10, 10], bbox_label=i, ignore_flag=0)])

    results = [
        dict(
            pred_instances=dict(
                bboxes=torch.tensor([[0.0, 0, 10, 10]]), scores=torch.tensor([0.9]), labels=torch.tensor([i])
            )
        )
        for i in (0, 0)
    ]
    m = calculate_confusion_matrix(DS(), results)
    assert m.tolist() == [[1, 0, 0], [1, 0, 1], [0, 0, 0]]
    with pytest.raises(ValueError, match="1 results for a dataset of 2"):
        calculate_confusion_matrix(DS(), results[:1])
    path = plot_confusion_matrix(m, ["a", "b", "background"], str(tmp_path / "cm.png"))
    assert Path(path).stat().st_size > 1000


@pytest.fixture(scope="module")
def shapes_cfg(tmp_path_factory):
    from vk_core.testing import make_shapes_dataset
    from vk_det.apis import resolve_config

    root = tmp_path_factory.mktemp("shapes")
    make_shapes_dataset(root, splits={"train": 3, "val": 3}, image_size=96, seed=1)
    cfg = resolve_config("retinanet_r18_fpn_shapes")
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        cfg[key]["dataset"]["data_root"] = str(root) + "/"
    cfg.val_evaluator["ann_file"] = str(root / "annotations" / "instances_val.json")
    cfg.model.test_cfg.nms_pre = 50
    return cfg, root


def test_browse_dataset_draws_pipeline_output(shapes_cfg, tmp_path):
    from vk_det.tools.browse_dataset import browse

    cfg, _ = shapes_cfg
    written = browse(cfg, str(tmp_path), "train", num=2)
    assert len(written) == 2
    import cv2

    img = cv2.imread(written[0])
    assert img.shape[2] == 3 and img.shape[0] == 320  # the pipeline resized 96 -> 320


def test_benchmark_dataloader_and_confusion_cli(shapes_cfg, tmp_path, capsys):
    from vk_det.tools.benchmark import benchmark

    cfg, root = shapes_cfg
    out = benchmark(cfg, task="dataloader", phase="val", num_images=2, warmup=1)
    assert out["images"] == 2 and out["images_per_s"] > 0
    with pytest.raises(ValueError, match="need more than warmup"):
        benchmark(cfg, task="dataloader", phase="val", warmup=5)
    # perfect predictions from the ground truth -> a diagonal matrix
    coco = json.loads((root / "annotations" / "instances_val.json").read_text())
    results = []
    for img in coco["images"]:
        anns = [a for a in coco["annotations"] if a["image_id"] == img["id"]]
        boxes = torch.tensor(
            [[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]] for a in anns]
        )
        results.append(dict(pred_instances=dict(bboxes=boxes.reshape(-1, 4), scores=torch.ones(len(anns)),
                                                labels=torch.tensor([a["category_id"] - 1 for a in anns]))))  # fmt: skip
    pkl = tmp_path / "res.pkl"
    pkl.write_bytes(pickle.dumps(results))
    cfg_file = tmp_path / "cfg.py"
    cfg.dump(str(cfg_file))
    assert vk("confusion-matrix", cfg_file, pkl, tmp_path / "cm") == 0
    m = np.load(tmp_path / "cm" / "confusion_matrix.npy")
    assert m.sum() == len(coco["annotations"]) and np.trace(m[:-1, :-1]) >= m.sum() - 2
    assert (tmp_path / "cm" / "confusion_matrix.png").is_file()


@pytest.mark.slow
def test_infer_cli(shapes_cfg, tmp_path):
    _, root = shapes_cfg
    img = next((root / "images" / "val").iterdir())
    cfg_text_path = tmp_path / "cfg.py"
    shapes_cfg[0].dump(str(cfg_text_path))
    assert vk("infer", cfg_text_path, img, "--out-dir", tmp_path / "out", "--pred-score-thr", "0.9") == 0
    assert (tmp_path / "out" / "preds" / f"{img.stem}.json").is_file()
    assert (tmp_path / "out" / "vis" / f"{img.stem}.jpg").is_file()


@pytest.mark.slow
def test_get_flops_scales_with_pixels(shapes_cfg, capsys):
    from vk_det.tools.get_flops import count

    cfg, _ = shapes_cfg
    small, big = count(cfg, (64, 64)), count(cfg, (128, 128))
    assert small["params"] == big["params"] > 1e6
    # convolutions dominate, so 4x the pixels is about 4x the FLOPs (extra FPN levels round up at 64 px)
    assert 3.6 < big["flops"] / small["flops"] < 4.1
    with pytest.raises(ValueError, match="--shape"):
        count(cfg, (1, 2, 3))
