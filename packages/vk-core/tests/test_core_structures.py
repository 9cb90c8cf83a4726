import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_core.structures import BaseDataElement, InstanceData, LabelData, PixelData


def make_instances(n=4):
    meta = dict(img_shape=(800, 1196, 3), pad_shape=(800, 1216, 3))
    return InstanceData(
        metainfo=meta,
        bboxes=torch.arange(n * 4, dtype=torch.float32).reshape(n, 4),
        labels=torch.arange(n),
        scores=np.linspace(0, 1, n),
        names=[f"obj{i}" for i in range(n)],
        polys=tuple((i, i) for i in range(n)),
    )


# ---------------------------------------------------------------- BaseDataElement
def test_metainfo_and_data_are_separate_sets():
    el = BaseDataElement(metainfo=dict(img_id=3, img_shape=(2, 3)), gt=torch.ones(2))
    assert set(el.metainfo_keys()) == {"img_id", "img_shape"}
    assert el.keys() == ["gt"]
    assert set(el.all_keys()) == {"img_id", "img_shape", "gt"}
    assert "img_id" in el and "gt" in el and "other" not in el
    assert el.metainfo == dict(img_id=3, img_shape=(2, 3))
    with pytest.raises(AttributeError, match="img_id.*metainfo"):
        el.img_id = 4  # a metainfo name cannot become data
    with pytest.raises(AttributeError, match="gt.*data"):
        el.set_metainfo(dict(gt=1))


def test_set_metainfo_deep_copies():
    meta = dict(shape=[1, 2])
    el = BaseDataElement(metainfo=meta)
    meta["shape"].append(3)
    assert el.shape == [1, 2]


def test_get_pop_del_item_access():
    el = BaseDataElement(metainfo=dict(m=1), a=torch.zeros(1), b=2)
    assert el.get("a") is el.a and el.get("zz", 7) == 7
    assert el["b"] == 2
    assert el.pop("b") == 2 and "b" not in el
    assert el.pop("missing", None) is None
    with pytest.raises(KeyError, match="missing"):
        el.pop("missing")
    del el.m
    assert el.metainfo_keys() == []
    with pytest.raises(KeyError, match="'nope' is not a field"):
        el["nope"]


def test_reserved_names_cannot_be_set():
    el = BaseDataElement()
    with pytest.raises(AttributeError, match="reserved"):
        el._data_fields = set()


def test_new_replaces_the_given_field_set_and_keeps_the_other():
    el = BaseDataElement(metainfo=dict(m=1), a=torch.zeros(2))
    same = el.new()
    assert same.m == 1 and same.a is el.a  # shallow
    other = el.new(b=torch.ones(1))
    assert other.keys() == ["b"] and other.m == 1
    meta = el.new(metainfo=dict(x=2))
    assert meta.metainfo == dict(x=2) and meta.a is el.a


def test_clone_is_deep():
    el = BaseDataElement(metainfo=dict(m=[1]), a=torch.zeros(2))
    c = el.clone()
    c.a[0] = 5
    c.m.append(2)
    assert el.a[0] == 0 and el.m == [1]


def test_update_and_to_dict_nested():
    inner = InstanceData(labels=torch.tensor([1, 2]))
    el = BaseDataElement(metainfo=dict(m=1), inst=inner)
    el.update(BaseDataElement(metainfo=dict(n=2), x=3))
    d = el.to_dict()
    assert d["m"] == 1 and d["n"] == 2 and d["x"] == 3
    assert torch.equal(d["inst"]["labels"], torch.tensor([1, 2]))


def test_tensor_conversions_apply_to_nested_data_only():
    el = BaseDataElement(metainfo=dict(scale=np.ones(2)), t=torch.ones(2, requires_grad=True), n=5)
    el.inner = InstanceData(x=torch.ones(3))
    arr = el.numpy()
    assert isinstance(arr.t, np.ndarray) and isinstance(arr.inner.x, np.ndarray) and arr.n == 5
    assert isinstance(arr.scale, np.ndarray)  # metainfo untouched
    back = arr.to_tensor()
    assert isinstance(back.t, torch.Tensor) and isinstance(back.inner.x, torch.Tensor)
    assert not el.detach().t.requires_grad and el.t.requires_grad
    assert el.to(torch.float64).t.dtype == torch.float64
    assert el.cpu().t.device.type == "cpu"


def test_repr_layout():
    el = BaseDataElement(metainfo=dict(img_id=1, path="a.jpg"), gt=2)
    text = repr(el)
    assert text == (
        "<BaseDataElement(\n\n    META INFORMATION\n    img_id: 1\n    path: 'a.jpg'\n\n    DATA FIELDS\n    gt: 2\n"
        f") at {hex(id(el))}>"
    )


def test_nested_repr_matches_upstream_example():
    # MMEngine docs: a BaseDataElement holding another one, the inner block indented by 8 spaces.
    metainfo = dict(img_shape=(800, 1196, 3))
    gt_instances = BaseDataElement(metainfo=metainfo, det_labels=torch.LongTensor([0, 1, 2, 3]))
    sample = BaseDataElement(metainfo=metainfo, gt_instances=gt_instances)
    lines = [line for line in repr(sample).split("\n") if line.strip()]
    assert lines == [
        "<BaseDataElement(",
        "    META INFORMATION",
        "    img_shape: (800, 1196, 3)",
        "    DATA FIELDS",
        "    gt_instances: <BaseDataElement(",
        "            META INFORMATION",
        "            img_shape: (800, 1196, 3)",
        "            DATA FIELDS",
        "            det_labels: tensor([0, 1, 2, 3])",
        f"        ) at {hex(id(gt_instances))}>",
        f") at {hex(id(sample))}>",
    ]


class _Sample(BaseDataElement):
    @property
    def gt_instances(self):
        return self._gt_instances

    @gt_instances.setter
    def gt_instances(self, value):
        self.set_field(value, "_gt_instances", dtype=InstanceData)

    @gt_instances.deleter
    def gt_instances(self):
        del self._gt_instances


def test_typed_property_subclass():
    s = _Sample()
    s.gt_instances = InstanceData(labels=torch.tensor([1]))
    assert s.keys() == ["gt_instances"]
    with pytest.raises(AssertionError, match="should be a"):
        s.gt_instances = torch.zeros(1)
    c = s.clone()
    assert isinstance(c.gt_instances, InstanceData)
    del s.gt_instances
    assert s.keys() == [] and "gt_instances" not in s


# ---------------------------------------------------------------- InstanceData
def test_instance_length_is_enforced():
    inst = make_instances(4)
    assert len(inst) == 4
    with pytest.raises(AssertionError, match="'extra' has length 3, but the other fields have length 4"):
        inst.extra = torch.zeros(3)
    with pytest.raises(ValueError):
        inst.extra = [1, 2]
    with pytest.raises(TypeError, match="must have a length"):
        inst.extra = 5


def test_int_index_keeps_dimension():
    inst = make_instances(4)
    one = inst[1]
    assert one.bboxes.shape == (1, 4) and one.labels.tolist() == [1]
    assert one.names == ["obj1"] and one.polys == ((1, 1),) and one.scores.shape == (1,)
    assert inst[-1].labels.tolist() == [3]
    assert one.metainfo == inst.metainfo
    with pytest.raises(IndexError, match="out of range"):
        inst[4]


def test_mask_long_list_and_slice_indices():
    inst = make_instances(5)
    mask = inst.labels % 2 == 0
    assert inst[mask].labels.tolist() == [0, 2, 4] and inst[mask].names == ["obj0", "obj2", "obj4"]
    assert inst[torch.tensor([3, 0])].names == ["obj3", "obj0"]
    assert inst[[4, 1]].labels.tolist() == [4, 1]
    assert inst[[True, False, False, False, True]].labels.tolist() == [0, 4]
    assert inst[np.array([2])].scores.tolist() == [0.5]
    assert inst[1:3].names == ["obj1", "obj2"]
    empty = inst[torch.zeros(5, dtype=torch.bool)]
    assert empty.bboxes.shape == (0, 4) and len(empty) == 0 and empty.names == []
    with pytest.raises(IndexError, match="bool mask of length 3"):
        inst[torch.ones(3, dtype=torch.bool)]
    with pytest.raises(IndexError, match="out of range"):
        inst[torch.tensor([7])]
    with pytest.raises(TypeError, match="bool or integer"):
        inst[torch.tensor([0.5])]
    assert inst["labels"] is inst.labels


def test_cat_requires_same_keys():
    a, b = make_instances(2), make_instances(3)
    c = InstanceData.cat([a, b])
    assert len(c) == 5 and c.names == a.names + b.names and c.polys == a.polys + b.polys
    assert torch.equal(c.bboxes, torch.cat([a.bboxes, b.bboxes]))
    assert np.array_equal(c.scores, np.concatenate([a.scores, b.scores]))
    b.extra = torch.zeros(3)
    with pytest.raises(ValueError, match="item 1 has fields"):
        InstanceData.cat([a, b])
    with pytest.raises(ValueError, match="non-empty"):
        InstanceData.cat([])


class _Masks:
    """A custom field type: __len__, __getitem__ and a static cat."""

    def __init__(self, data):
        self.data = data

    def __len__(self):
        return len(self.data)

    def __getitem__(self, item):
        return _Masks(self.data[item])

    @staticmethod
    def cat(items):
        return _Masks(torch.cat([m.data for m in items]))


def test_custom_field_type():
    inst = InstanceData(masks=_Masks(torch.arange(4)), labels=torch.arange(4))
    assert inst[inst.labels > 1].masks.data.tolist() == [2, 3]
    assert InstanceData.cat([inst, inst]).masks.data.tolist() == [0, 1, 2, 3] * 2


class TmpObject:
    """The custom field type of the upstream InstanceData example: only int and slice indexing."""

    def __init__(self, tmp):
        assert isinstance(tmp, list)
        self.tmp = tmp

    def __len__(self):
        return len(self.tmp)

    def __getitem__(self, item):
        if type(item) is int:
            if item >= len(self) or item < -len(self):
                raise IndexError(f"Index {item} out of range!")
            item = slice(item, None, len(self))
        return TmpObject(self.tmp[item])

    @staticmethod
    def cat(tmp_objs):
        if len(tmp_objs) == 1:
            return tmp_objs[0]
        return TmpObject([x for obj in tmp_objs for x in obj.tmp])


def test_upstream_instance_data_example():
    img_meta = dict(img_shape=(800, 1196, 3), pad_shape=(800, 1216, 3))
    inst = InstanceData(metainfo=img_meta)
    assert "img_shape" in inst
    inst.det_labels = torch.LongTensor([2, 3])
    inst["det_scores"] = torch.Tensor([0.8, 0.7])
    inst.bboxes = torch.rand((2, 4))
    inst.polygons = TmpObject([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert len(inst) == 2
    ordered = inst[inst.det_scores.sort().indices]
    assert torch.allclose(ordered.det_scores, torch.tensor([0.7, 0.8]))
    assert ordered.polygons.tmp == [[5, 6, 7, 8], [1, 2, 3, 4]]
    high = inst[inst.det_scores > 0.75]
    assert high.det_labels.tolist() == [2] and high.polygons.tmp == [[1, 2, 3, 4]]
    empty = inst[inst.det_scores > 1]
    assert empty.bboxes.shape == (0, 4) and empty.det_labels.dtype == torch.int64 and empty.polygons.tmp == []
    both = InstanceData.cat([inst, inst])
    assert both.det_labels.tolist() == [2, 3, 2, 3] and len(both.polygons) == 4 and both.bboxes.shape == (4, 4)
    assert inst[1].polygons.tmp == [[5, 6, 7, 8]]


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    data=st.data(),
)
def test_indexing_matches_tensor_indexing(n, data):
    values = torch.arange(n * 2).reshape(n, 2)
    inst = InstanceData(v=values, lst=list(range(n)))
    kind = data.draw(st.sampled_from(["mask", "long", "slice", "int"]))
    if kind == "mask":
        idx = torch.tensor(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    elif kind == "long":
        idx = torch.tensor(data.draw(st.lists(st.integers(-n, n - 1), max_size=8)), dtype=torch.long)
    elif kind == "slice":
        a, b = data.draw(st.integers(-n, n)), data.draw(st.integers(-n, n))
        idx = slice(a, b)
    else:
        i = data.draw(st.integers(-n, n - 1))
        idx = i
        assert torch.equal(inst[i].v, values[i : i + 1] if i != -1 else values[-1:])
        return
    expected = values[idx]
    out = inst[idx]
    assert torch.equal(out.v, expected)
    assert out.lst == expected[:, 0].div(2, rounding_mode="floor").tolist()


# ---------------------------------------------------------------- PixelData
def test_pixel_data_shapes_and_slicing():
    pix = PixelData(metainfo=dict(img_shape=(20, 40)), sem_seg=torch.rand(20, 40), logits=np.random.rand(3, 20, 40))
    assert pix.sem_seg.shape == (1, 20, 40) and pix.shape == (20, 40)
    crop = pix[5:10, 20:30]
    assert crop.shape == (5, 10) and crop.logits.shape == (3, 5, 10)
    assert torch.equal(crop.sem_seg, pix.sem_seg[:, 5:10, 20:30])
    assert pix[3].shape == (1, 40)
    with pytest.raises(AssertionError, match="spatial size"):
        pix.other = torch.zeros(2, 21, 40)
    with pytest.raises(AssertionError, match="2-D .* or 3-D"):
        pix.other = torch.zeros(1, 1, 20, 40)
    with pytest.raises(TypeError, match="tensor or numpy"):
        pix.other = [1, 2]
    assert PixelData().shape is None


# ---------------------------------------------------------------- LabelData
def test_label_onehot_round_trip():
    onehot = LabelData.label_to_onehot(torch.tensor([1, 3]), num_classes=5)
    assert onehot.tolist() == [0, 1, 0, 1, 0]
    assert LabelData.onehot_to_label(onehot).tolist() == [1, 3]
    with pytest.raises(ValueError, match="out of range"):
        LabelData.label_to_onehot(torch.tensor([5]), num_classes=5)
    with pytest.raises(ValueError, match="0 or 1"):
        LabelData.onehot_to_label(torch.tensor([0, 2]))
    data = LabelData(metainfo=dict(num_classes=5), score=torch.rand(5))
    assert data.num_classes == 5
