import pickle

import pytest
import torch
from vk_core.evaluator import BaseMetric, DumpResults, Evaluator, get_metric_value, offline_evaluate
from vk_core.structures import BaseDataElement


class MeanScore(BaseMetric):
    default_prefix = "toy"

    def process(self, data_batch, data_samples):
        self.results.extend(float(s["score"]) for s in data_samples)

    def compute_metrics(self, results):
        return {"mean": sum(results) / len(results), "n": len(results)}


def test_evaluate_trims_padding_and_prefixes():
    metric = MeanScore()
    metric.process(None, [{"score": 1}, {"score": 3}, {"score": 100}])  # the last one is sampler padding
    assert metric.evaluate(2) == {"toy/mean": 2.0, "toy/n": 2}
    assert metric.results == []
    assert MeanScore(prefix="other").prefix == "other"
    with pytest.raises(ValueError, match="collect_device"):
        MeanScore(collect_device="tpu")


def test_evaluator_converts_data_elements_and_rejects_duplicate_names():
    evaluator = Evaluator([MeanScore(), MeanScore(prefix="b")])
    evaluator.dataset_meta = {"classes": ("x",)}
    assert all(m.dataset_meta == {"classes": ("x",)} for m in evaluator.metrics)
    evaluator.process([BaseDataElement(score=torch.tensor(2.0)), BaseDataElement(score=torch.tensor(4.0))])
    assert evaluator.evaluate(2) == {"toy/mean": 3.0, "toy/n": 2, "b/mean": 3.0, "b/n": 2}
    dup = Evaluator([MeanScore(), MeanScore()])
    dup.process([{"score": 1}])
    with pytest.raises(ValueError, match="'toy/mean' is produced by more than one metric"):
        dup.evaluate(1)
    with pytest.raises(TypeError, match=r"metrics\[0\] is a int"):
        Evaluator([3])


def test_dump_results_and_offline_evaluate(tmp_path):
    with pytest.raises(ValueError, match=r"\.pkl or \.pickle"):
        DumpResults(str(tmp_path / "x.json"))
    out = tmp_path / "preds.pkl"
    dump = Evaluator(DumpResults(str(out)))
    dump.process([{"score": torch.tensor(1.0)}, {"score": torch.tensor(5.0)}])
    assert dump.evaluate(2) == {}
    with open(out, "rb") as f:
        stored = pickle.load(f)
    assert [float(s["score"]) for s in stored] == [1.0, 5.0]
    assert offline_evaluate(MeanScore(), str(out), chunk_size=1) == {"toy/mean": 3.0, "toy/n": 2}
    with pytest.raises(ValueError, match="data has 1 items but data_samples has 2"):
        Evaluator(MeanScore()).offline_evaluate(stored, data=[0])


def test_get_metric_value():
    metrics = {"coco/AP": 0.5, "coco/AP50": 0.7}
    assert get_metric_value("AP", metrics) == 0.5
    assert get_metric_value("coco/AP50", metrics) == 0.7
    with pytest.raises(ValueError, match="'AR' not found"):
        get_metric_value("AR", metrics)
    with pytest.raises(ValueError, match="ambiguous"):
        get_metric_value("AP", {"a/AP": 1, "b/AP": 2})
