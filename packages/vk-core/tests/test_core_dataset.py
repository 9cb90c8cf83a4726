import functools
import json
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader
from vk_core.dataset import (
    BaseDataset,
    ClassBalancedDataset,
    Compose,
    ConcatDataset,
    DataRefetchError,
    DefaultSampler,
    InfiniteSampler,
    RepeatDataset,
    data_rng,
    default_collate,
    pseudo_collate,
    seed_data_rng,
    worker_init_fn,
)
from vk_core.dataset import sampler as sampler_mod
from vk_core.structures import BaseDataElement


def write_ann(path, n=6, metainfo=None, cats=None):
    data_list = [
        {"img_path": f"{i}.jpg", "height": 10, "width": 20, "cats": (cats[i] if cats else [i % 3])} for i in range(n)
    ]
    path.write_text(
        json.dumps({"metainfo": metainfo or {"classes": ["a", "b"], "from_file": 1}, "data_list": data_list})
    )
    return path


class ToyDataset(BaseDataset):
    METAINFO = dict(classes=("x", "y", "z"), palette=[(1, 2, 3)])

    def get_cat_ids(self, idx):
        return self.get_data_info(idx)["cats"]


@pytest.fixture
def ann(tmp_path):
    return write_ann(tmp_path / "ann.json")


# ---------------------------------------------------------------- BaseDataset
def test_loads_2_0_format_with_prefixes(ann, tmp_path):
    ds = ToyDataset("ann.json", data_root=str(tmp_path), data_prefix=dict(img_path="imgs"))
    assert len(ds) == 6
    info = ds.get_data_info(2)
    assert info == {
        "img_path": str(tmp_path / "imgs" / "2.jpg"),
        "height": 10,
        "width": 20,
        "cats": [2],
        "sample_idx": 2,
    }
    assert ds[-1]["sample_idx"] == 5  # no pipeline: the info itself
    ds.get_data_info(1)["height"] = 99
    assert ds.get_data_info(1)["height"] == 10  # copies, never the stored sample


def test_metainfo_precedence(ann, tmp_path):
    ds = ToyDataset(str(ann))
    # class METAINFO beats the annotation file; file-only keys are kept
    assert ds.metainfo["classes"] == ("x", "y", "z") and ds.metainfo["from_file"] == 1
    ds = ToyDataset(str(ann), metainfo=dict(classes=["k"]))
    assert ds.metainfo["classes"] == ["k"] and ds.metainfo["palette"] == [(1, 2, 3)]
    classes_txt = tmp_path / "classes.txt"
    classes_txt.write_text("cat\ndog\n")
    assert ToyDataset(str(ann), metainfo=dict(classes=str(classes_txt))).metainfo["classes"] == ["cat", "dog"]
    ds.metainfo["classes"].append("mutated")
    assert ds.metainfo["classes"] == ["k"]
    assert ToyDataset.METAINFO["classes"] == ("x", "y", "z")


def test_lazy_init(ann):
    ds = ToyDataset(str(ann), lazy_init=True)
    assert not ds._fully_initialized and "lazy_init" in repr(ds)
    assert len(ds) == 6 and ds._fully_initialized


@pytest.mark.parametrize("serialize", [True, False])
def test_indices_and_subsets(ann, serialize):
    ds = ToyDataset(str(ann), serialize_data=serialize, indices=[5, 1, 3])
    assert [ds.get_data_info(i)["img_path"] for i in range(3)] == ["5.jpg", "1.jpg", "3.jpg"]
    full = ToyDataset(str(ann), serialize_data=serialize)
    assert [d["img_path"] for d in (full.get_subset(2)[i] for i in range(2))] == ["0.jpg", "1.jpg"]
    last = full.get_subset(-2)
    assert len(last) == 2 and last[0]["img_path"] == "4.jpg" and len(full) == 6
    full.get_subset_([0, -1])
    assert len(full) == 2 and full[1]["img_path"] == "5.jpg"
    with pytest.raises(IndexError, match="index 7 is out of range for 2 samples"):
        full.get_subset([7])
    with pytest.raises(IndexError, match="out of range"):
        full.get_data_info(2)


def test_serialized_data_is_one_buffer(ann):
    ds = ToyDataset(str(ann))
    assert ds.data_list == [] and ds.data_bytes.dtype == np.uint8 and len(ds.data_address) == 6
    plain = ToyDataset(str(ann), serialize_data=False)
    assert all(ds.get_data_info(i) == plain.get_data_info(i) for i in range(6))
    assert pickle.loads(pickle.dumps(ds)).get_data_info(3) == ds.get_data_info(3)  # workers receive it pickled


@pytest.mark.parametrize(
    "content, match",
    [
        ([1, 2], "must hold a dict with 'metainfo' and 'data_list', got a list"),
        ({"images": [], "annotations": []}, r"lacks \['metainfo', 'data_list'\]"),
        ({"metainfo": {}, "data_list": {}}, "'data_list' a list"),
        ({"metainfo": {}, "data_list": [{"img_path": "a"}, "oops"]}, r"data_list\[1\] must be a dict"),
        ({"metainfo": {}, "data_list": [{"img_path": "a"}, {"path": "b"}]}, r"data_list\[1\]: .*'img_path'"),
    ],
)
def test_wrong_layout_names_file_and_entry(tmp_path, content, match):
    path = tmp_path / "bad_ann.json"
    path.write_text(json.dumps(content))
    with pytest.raises((TypeError, ValueError, KeyError), match=match) as info:
        BaseDataset(str(path))
    assert "bad_ann.json" in str(info.value)


def test_constructor_validation(ann):
    with pytest.raises(ValueError, match="max_refetch must be an int >= 0"):
        BaseDataset(str(ann), max_refetch=-1)
    with pytest.raises(TypeError, match="metainfo must be a dict"):
        BaseDataset(str(ann), metainfo=["a"])
    with pytest.raises(ValueError, match="ann_file is empty"):
        BaseDataset()


def _failing_loader(bad):
    def load(results):
        if results["sample_idx"] in bad:
            raise FileNotFoundError(f"image file not found: {results['img_path']}")
        return results

    return load


def test_refetch_skips_bad_samples_and_counts_failures(ann):
    seed_data_rng(0)
    ds = ToyDataset(str(ann), pipeline=[_failing_loader({1})], max_refetch=10)
    with pytest.warns(UserWarning, match=r"ToyDataset\[1\] failed \(FileNotFoundError: image file not found: 1.jpg\)"):
        out = ds[1]
    assert out["sample_idx"] != 1
    all_bad = ToyDataset(str(ann), pipeline=[_failing_loader(set(range(6)))], max_refetch=3)
    with pytest.warns(UserWarning), pytest.raises(DataRefetchError, match=r"4 attempts failed \(max_refetch=3\)"):
        all_bad[0]
    none_pipeline = ToyDataset(str(ann), pipeline=[lambda r: None], max_refetch=2)
    with pytest.raises(DataRefetchError, match="3 attempts failed.*returned None"):
        none_pipeline[0]


def test_test_mode_raises_with_index_and_file(ann):
    ds = ToyDataset(str(ann), pipeline=[_failing_loader({4})], test_mode=True)
    with pytest.raises(FileNotFoundError, match=r"ToyDataset\[4\]: image file not found: 4.jpg"):
        ds[4]
    with pytest.raises(DataRefetchError, match=r"ToyDataset\[0\]: the pipeline returned None in test mode"):
        ToyDataset(str(ann), pipeline=[lambda r: None], test_mode=True)[0]


def test_pipeline_from_config_dicts(ann):
    ds = ToyDataset(str(ann), pipeline=[dict(type="RandomFlip", prob=0.0)])
    assert isinstance(ds.pipeline, Compose)
    with pytest.raises(KeyError, match="has no 'type' key"):
        Compose([dict(prob=0.5)])
    with pytest.raises(TypeError, match="transform 0 is a int"):
        Compose([3])


# ---------------------------------------------------------------- wrappers
def test_concat_dataset(tmp_path):
    a = ToyDataset(str(write_ann(tmp_path / "a.json", 3)))
    b = ToyDataset(str(write_ann(tmp_path / "b.json", 4)))
    cat = ConcatDataset([a, b])
    assert len(cat) == 7 and cat.metainfo == a.metainfo
    assert cat[3]["img_path"] == "0.jpg" and cat[2]["img_path"] == "2.jpg" and cat[-1]["img_path"] == "3.jpg"
    assert cat.get_cat_ids(4) == [1]
    with pytest.raises(IndexError, match="index 7 out of range for 7"):
        cat[7]
    with pytest.raises(NotImplementedError, match="does not support get_subset"):
        cat.get_subset(1)
    c = ToyDataset(str(write_ann(tmp_path / "c.json", 2)), metainfo=dict(classes=["other"]))
    with pytest.raises(ValueError, match=r"metainfo\['classes'\] of dataset 1"):
        ConcatDataset([a, c])
    assert len(ConcatDataset([a, c], ignore_keys="classes")) == 5


def test_concat_from_configs(tmp_path):
    path = str(write_ann(tmp_path / "a.json", 3))
    cat = ConcatDataset([dict(type="BaseDataset", ann_file=path), dict(type="BaseDataset", ann_file=path)])
    assert len(cat) == 6


def test_repeat_dataset(ann):
    ds = ToyDataset(str(ann))
    rep = RepeatDataset(ds, times=3)
    assert len(rep) == 18 and rep[13]["img_path"] == "1.jpg" and rep.get_data_info(17)["sample_idx"] == 5
    with pytest.raises(ValueError, match="times must be an int >= 1"):
        RepeatDataset(ds, times=0)
    lazy = RepeatDataset(ds, times=2, lazy_init=True)
    assert not lazy._fully_initialized and len(lazy) == 12


def test_class_balanced_dataset(tmp_path):
    # class 0 in all 4 images, class 1 only in image 3: f(0)=1, f(1)=0.25
    ann = write_ann(tmp_path / "cb.json", 4, cats=[[0], [0], [0], [0, 1]])
    ds = ToyDataset(str(ann))
    cb = ClassBalancedDataset(ds, oversample_thr=1.0)
    # r(1) = sqrt(1 / 0.25) = 2 -> image 3 twice; r(0) = 1
    assert cb.repeat_indices == [0, 1, 2, 3, 3] and len(cb) == 5 and cb[4]["img_path"] == "3.jpg"
    cb = ClassBalancedDataset(ds, oversample_thr=0.5)  # r(1) = sqrt(2) -> ceil 2
    assert cb.repeat_indices == [0, 1, 2, 3, 3]
    assert ClassBalancedDataset(ds, oversample_thr=0.1).repeat_indices == [0, 1, 2, 3]
    with pytest.raises(NotImplementedError, match="must implement get_cat_ids"):
        ClassBalancedDataset(BaseDataset(str(ann)), oversample_thr=0.5)


# ---------------------------------------------------------------- samplers
def test_default_sampler_single_process():
    data = list(range(10))
    s = DefaultSampler(data, shuffle=True, seed=3)
    first = list(s)
    assert sorted(first) == data and len(s) == 10
    assert list(DefaultSampler(data, shuffle=True, seed=3)) == first
    s.set_epoch(1)
    assert list(s) != first and sorted(s) == data
    assert list(DefaultSampler(data, shuffle=False)) == data


@pytest.mark.parametrize("round_up", [True, False])
def test_default_sampler_shards_across_ranks(monkeypatch, round_up):
    data = list(range(10))
    shards = []
    for rank in range(4):
        monkeypatch.setattr(sampler_mod, "_dist_info", lambda r=rank: (r, 4))
        s = DefaultSampler(data, shuffle=False, round_up=round_up)
        shards.append(list(s))
        assert len(s) == len(shards[-1])
    if round_up:
        assert [len(x) for x in shards] == [3, 3, 3, 3]
        assert shards[0] == [0, 4, 8] and shards[2] == [2, 6, 0] and shards[3] == [3, 7, 1]
    else:
        assert [len(x) for x in shards] == [3, 3, 2, 2]
        assert sorted(sum(shards, [])) == data


def test_infinite_sampler(monkeypatch):
    data = list(range(5))
    it = iter(InfiniteSampler(data, shuffle=False))
    assert [next(it) for _ in range(12)] == [0, 1, 2, 3, 4] * 2 + [0, 1]
    it = iter(InfiniteSampler(data, shuffle=True, seed=1))
    stream = [next(it) for _ in range(10)]
    assert sorted(stream[:5]) == data and sorted(stream[5:]) == data
    monkeypatch.setattr(sampler_mod, "_dist_info", lambda: (1, 2))
    it = iter(InfiniteSampler(data, shuffle=False))
    assert [next(it) for _ in range(5)] == [1, 3, 0, 2, 4]
    with pytest.raises(ValueError, match="empty"):
        InfiniteSampler([])


# ---------------------------------------------------------------- collate
def test_pseudo_collate_transposes_without_stacking():
    batch = [
        dict(inputs=torch.zeros(3, 2), meta=dict(id=0), pair=(1, "a")),
        dict(inputs=torch.ones(3, 4), meta=dict(id=1), pair=(2, "b")),
    ]
    out = pseudo_collate(batch)
    assert isinstance(out["inputs"], list) and out["inputs"][1].shape == (3, 4)
    assert out["meta"] == {"id": [0, 1]} and out["pair"] == [[1, 2], ["a", "b"]]
    with pytest.raises(RuntimeError, match="sample 0 has 2 elements but sample 1 has 3"):
        pseudo_collate([[1, 2], [1, 2, 3]])


def test_default_collate_stacks():
    sample = BaseDataElement(metainfo=dict(a=1))
    batch = [dict(x=torch.ones(2), n=np.zeros(3), k=1, s="a", d=sample) for _ in range(3)]
    out = default_collate(batch)
    assert out["x"].shape == (3, 2) and out["n"].shape == (3, 3) and isinstance(out["n"], torch.Tensor)
    assert out["k"].tolist() == [1, 1, 1] and out["s"] == ["a"] * 3 and out["d"] == [sample] * 3
    with pytest.raises(RuntimeError, match="different shapes"):
        default_collate([torch.zeros(2), torch.zeros(3)])


def test_collate_functions_are_registered():
    from vk_core.registry import FUNCTIONS

    assert FUNCTIONS.get("pseudo_collate") is pseudo_collate and FUNCTIONS.get("default_collate") is default_collate


# ---------------------------------------------------------------- seeding
class _RandomDataset(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return float(data_rng().random())


def _epoch(num_workers, seed):
    torch.manual_seed(seed)
    init = functools.partial(worker_init_fn, num_workers=num_workers, rank=0, seed=seed)
    loader = DataLoader(_RandomDataset(), batch_size=1, num_workers=num_workers, worker_init_fn=init)
    return [float(x) for x in loader]


def test_worker_seeding_is_reproducible_and_distinct():
    a, b = _epoch(2, seed=7), _epoch(2, seed=7)
    assert a == b
    assert len(set(a)) == 8  # the two workers do not replay each other's stream
    assert _epoch(2, seed=8) != a


def test_unseeded_workers_do_not_share_a_stream():
    torch.manual_seed(0)
    loader = DataLoader(_RandomDataset(), batch_size=1, num_workers=2)  # no worker_init_fn
    first = [float(x) for x in loader]
    assert len(set(first)) == 8
    torch.manual_seed(0)
    assert [float(x) for x in DataLoader(_RandomDataset(), batch_size=1, num_workers=2)] == first


def test_seed_data_rng():
    seed_data_rng(5)
    x = data_rng().random(3)
    seed_data_rng(5)
    assert np.array_equal(data_rng().random(3), x)


def test_full_init_restores_the_garbage_collector(ann):
    import gc

    class Failing(ToyDataset):
        def load_data_list(self):
            assert not gc.isenabled()  # paused while loading
            raise ValueError("boom")

    assert gc.isenabled()
    with pytest.raises(ValueError, match="boom"):
        Failing(str(ann))
    assert gc.isenabled()
    gc.disable()
    try:
        ToyDataset(str(ann))
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


# ---------------------------------------------------------------- upstream documentation examples
def test_upstream_metainfo_merge_example(tmp_path):
    ann = write_ann(tmp_path / "meta.json", 2, metainfo={"task_name": "file_task", "dataset_type": "file_type"})

    class CustomDataset(BaseDataset):
        METAINFO = dict(task_name="custom_task", dataset_type="custom_type")

    ds = CustomDataset(str(ann), metainfo=dict(task_name="custom_task_name"))
    assert ds.metainfo == {"task_name": "custom_task_name", "dataset_type": "custom_type"}


@pytest.mark.parametrize("serialize", [True, False])
def test_upstream_subset_example(tmp_path, serialize):
    ds = BaseDataset(str(write_ann(tmp_path / "hundred.json", 100)), serialize_data=serialize)
    assert len(ds.get_subset(90)) == 90 and len(ds.get_subset(list(range(10)))) == 10
    last3 = ds.get_subset(-3)
    assert len(last3) == 3 and last3[0]["img_path"] == "97.jpg"
    ds.get_subset_(list(range(0, 100, 10)))
    assert len(ds) == 10 and ds[9]["img_path"] == "90.jpg"
    ds.get_subset_(-3)
    assert [ds[i]["img_path"] for i in range(3)] == ["70.jpg", "80.jpg", "90.jpg"]


def test_upstream_repeat_factor_example(tmp_path):
    # 8 images; class 1 in one image (f = 0.125 -> r = sqrt(0.5 / 0.125) = 2), class 0 in all (r = 1).
    cats = [[0]] * 7 + [[0, 1]]
    ds = ToyDataset(str(write_ann(tmp_path / "rf.json", 8, cats=cats)))
    factors = ClassBalancedDataset._get_repeat_factors(ds, 0.5)
    np.testing.assert_allclose(factors, [1.0] * 7 + [2.0])
    assert len(ClassBalancedDataset(ds, 0.5)) == 9
