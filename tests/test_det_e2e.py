"""End to end: shapes data -> CocoDataset + det transforms -> RetinaNet training with the vk_core Runner ->
CocoMetric test -> DetInferencer files, through ``python -m vk_det.demo --quick``."""

import json

import pytest


@pytest.mark.slow
def test_quick_demo_trains_evaluates_and_infers(tmp_path, capsys):
    from vk_det.demo import main

    out = main(
        ["--quick", "--work-dir", str(tmp_path / "work"), "--data-root", str(tmp_path / "data"), "--num-infer", "2"]
    )
    metrics = out["metrics"]
    for key in ("coco/bbox_mAP", "coco/bbox_mAP_50", "coco/bbox_mAP_75"):
        assert -1.0 <= metrics[key] <= 1.0
    assert (tmp_path / "work" / "last_checkpoint").is_file()
    preds = sorted((tmp_path / "work" / "inference" / "preds").iterdir())
    assert len(preds) == 2 and len(list((tmp_path / "work" / "inference" / "vis").iterdir())) == 2
    pred = json.loads(preds[0].read_text())
    assert set(pred) == {"labels", "scores", "bboxes"}
    printed = capsys.readouterr().out
    assert "coco/bbox_mAP" in printed and "drawings:" in printed
