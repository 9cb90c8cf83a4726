import copy

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_core import transforms as vk_transforms
from vk_core.dataset import Compose, seed_data_rng
from vk_core.registry import TRANSFORMS
from vk_core.transforms import (
    BaseTransform,
    CenterCrop,
    KeyMapper,
    LoadAnnotations,
    LoadImageFromFile,
    Normalize,
    Pad,
    PhotoMetricDistortion,
    RandomApply,
    RandomChoice,
    RandomChoiceResize,
    RandomCrop,
    RandomFlip,
    RandomResize,
    Resize,
)


def sample(h=40, w=60):
    rng = np.random.default_rng(0)
    return dict(
        img=rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8),
        img_shape=(h, w),
        gt_bboxes=np.array([[10, 5, 30, 25], [0, 0, w, h]], dtype=np.float32),
        gt_bboxes_labels=np.array([1, 2]),
        gt_seg_map=(np.arange(h * w).reshape(h, w) % 7).astype(np.uint8),
        gt_keypoints=np.array([[[12, 6, 1]], [[50, 30, 1]]], dtype=np.float32),
    )


# ---------------------------------------------------------------- loading
def test_load_image_from_file(tmp_path):
    img = np.random.default_rng(1).integers(0, 256, (12, 17, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    out = LoadImageFromFile()(dict(img_path=str(tmp_path / "a.png")))
    assert np.array_equal(out["img"], img) and out["img_shape"] == (12, 17) and out["ori_shape"] == (12, 17)
    out = LoadImageFromFile(to_float32=True, color_type="grayscale")(dict(img_path=str(tmp_path / "a.png")))
    assert out["img"].dtype == np.float32 and out["img"].shape == (12, 17)
    with pytest.raises(FileNotFoundError, match=r"image file not found: .*missing.png"):
        LoadImageFromFile()(dict(img_path=str(tmp_path / "missing.png")))
    assert LoadImageFromFile(ignore_empty=True)(dict(img_path=str(tmp_path / "missing.png"))) is None
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"could not decode image .*bad.png"):
        LoadImageFromFile()(dict(img_path=str(tmp_path / "bad.png")))
    with pytest.raises(KeyError, match="needs results\\['img_path'\\]"):
        LoadImageFromFile()(dict())
    with pytest.raises(ValueError, match="color_type must be one of"):
        LoadImageFromFile(color_type="rgb")


def test_load_image_accepts_deprecated_file_client_args(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((3, 4, 3), np.uint8))
    with pytest.warns(DeprecationWarning, match="file_client_args is deprecated"):
        t = LoadImageFromFile(file_client_args=dict(backend="disk"))
    assert t(dict(img_path=str(tmp_path / "a.png")))["img_shape"] == (3, 4)
    with pytest.raises(ValueError, match="not both"):
        LoadImageFromFile(backend_args={}, file_client_args=dict(backend="disk"))


def test_load_annotations(tmp_path):
    seg = (np.arange(20).reshape(4, 5) % 3).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "s.png"), seg)
    results = dict(
        instances=[
            dict(bbox=[1, 2, 3, 4], bbox_label=3, keypoints=[1, 1, 2, 5, 5, 2]),
            dict(bbox=[5, 6, 7, 8], bbox_label=0, keypoints=[0, 0, 0, 2, 2, 1]),
        ],
        seg_map_path=str(tmp_path / "s.png"),
    )
    out = LoadAnnotations(with_seg=True, with_keypoints=True)(results)
    assert out["gt_bboxes"].dtype == np.float32 and out["gt_bboxes"].tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert out["gt_bboxes_labels"].dtype == np.int64 and out["gt_bboxes_labels"].tolist() == [3, 0]
    assert np.array_equal(out["gt_seg_map"], seg)
    assert out["gt_keypoints"].shape == (2, 2, 3)
    empty = LoadAnnotations()(dict(instances=[]))
    assert empty["gt_bboxes"].shape == (0, 4) and empty["gt_bboxes_labels"].shape == (0,)
    with pytest.raises(KeyError, match="needs results\\['instances'\\]"):
        LoadAnnotations()(dict())


# ---------------------------------------------------------------- resize
def test_resize_fixed_scale_moves_everything():
    out = Resize(scale=(120, 20))(sample())
    assert out["img"].shape == (20, 120, 3) and out["img_shape"] == (20, 120)
    assert out["scale_factor"] == (2.0, 0.5) and out["keep_ratio"] is False
    assert out["gt_bboxes"].tolist() == [[20, 2.5, 60, 12.5], [0, 0, 120, 20]]
    assert out["gt_seg_map"].shape == (20, 120)
    assert np.array_equal(
        out["gt_seg_map"], cv2.resize(sample()["gt_seg_map"], (120, 20), interpolation=cv2.INTER_NEAREST)
    )
    assert out["gt_keypoints"][0, 0].tolist() == [24, 3, 1]


def test_resize_keep_ratio_and_factor():
    out = Resize(scale=(1333, 800), keep_ratio=True)(sample(40, 60))
    # factor = min(1333 / 60, 800 / 40) = 20
    assert out["img_shape"] == (800, 1200) and out["scale_factor"] == (20.0, 20.0)
    out = Resize(scale_factor=0.5)(sample(40, 60))
    assert out["img_shape"] == (20, 30) and out["scale"] == (30, 20)
    out = Resize(scale=30)(sample())
    assert out["img_shape"] == (30, 30)


def test_resize_clips_boxes():
    s = sample()
    s["gt_bboxes"] = np.array([[-5, -5, 70, 50]], np.float32)
    assert Resize(scale=(60, 40))(copy.deepcopy(s))["gt_bboxes"].tolist() == [[0, 0, 60, 40]]
    assert Resize(scale=(60, 40), clip_object_border=False)(s)["gt_bboxes"].tolist() == [[-5, -5, 70, 50]]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(), "exactly one of scale and scale_factor"),
        (dict(scale=(10, 10), scale_factor=2.0), "exactly one of scale and scale_factor"),
        (dict(scale=(0, 10)), r"scale must be a positive int or a \(w, h\) pair"),
        (dict(scale=(10, 10, 3)), "scale must be"),
        (dict(scale_factor=-1.0), "scale_factor must be a positive"),
        (dict(scale=10, interpolation="cubic"), "interpolation must be one of"),
    ],
)
def test_resize_bad_arguments_fail_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Resize(**kwargs)


def test_random_resize_ratio_range_and_range_of_scales():
    seed_data_rng(0)
    t = RandomResize(scale=(100, 50), ratio_range=(0.5, 2.0))
    for _ in range(20):
        out = t(sample())
        w, h = out["scale"]
        assert 50 <= w <= 200 and 25 <= h <= 100 and abs(w / h - 2) < 0.1
        assert out["img_shape"] == (h, w)
    t = RandomResize(scale=[(100, 40), (200, 80)], keep_ratio=False)
    seen = {t(sample())["scale"] for _ in range(30)}
    assert all(100 <= w <= 200 and 40 <= h <= 80 for w, h in seen) and len(seen) > 10
    t = RandomResize(scale=[(1333, 640), (1333, 800)], keep_ratio=True)
    assert t.resize.keep_ratio is True
    with pytest.raises(ValueError, match=r"ratio_range must be \(min, max\) with 0 < min <= max"):
        RandomResize(scale=(10, 10), ratio_range=(-0.5, 1.0))
    with pytest.raises(ValueError, match="ratio_range must be"):
        RandomResize(scale=(10, 10), ratio_range=(2.0, 1.0))
    with pytest.raises(ValueError, match="a single scale needs ratio_range"):
        RandomResize(scale=(10, 10))
    with pytest.raises(ValueError, match="needs a single"):
        RandomResize(scale=[(10, 10), (20, 20)], ratio_range=(0.5, 1.5))
    with pytest.raises(ValueError, match="scale_factor cannot be combined"):
        RandomResize(scale=(10, 10), ratio_range=(0.5, 1.5), scale_factor=2.0)


def test_random_choice_resize():
    seed_data_rng(1)
    t = RandomChoiceResize(scales=[(30, 20), (90, 60)])
    outs = [t(sample()) for _ in range(20)]
    assert {o["scale_idx"] for o in outs} == {0, 1}
    assert all(o["img_shape"] == [(20, 30), (60, 90)][o["scale_idx"]] for o in outs)
    with pytest.raises(ValueError, match="wrap one scale in a list"):
        RandomChoiceResize(scales=(30, 20))
    with pytest.raises(ValueError, match=r"scales\[1\] must be"):
        RandomChoiceResize(scales=[(30, 20), (0, 1)])


# ---------------------------------------------------------------- flip
@pytest.mark.parametrize(
    "direction, box",
    [("horizontal", [30, 5, 50, 25]), ("vertical", [10, 15, 30, 35]), ("diagonal", [30, 15, 50, 35])],
)
def test_random_flip_moves_boxes_seg_and_keypoints(direction, box):
    s = sample()
    out = RandomFlip(prob=1.0, direction=direction)(copy.deepcopy(s))
    axis = {"horizontal": 1, "vertical": 0, "diagonal": (0, 1)}[direction]
    assert out["flip"] is True and out["flip_direction"] == direction
    assert np.array_equal(out["img"], np.flip(s["img"], axis))
    assert np.array_equal(out["gt_seg_map"], np.flip(s["gt_seg_map"], axis))
    assert out["gt_bboxes"][0].tolist() == box and out["gt_bboxes"][1].tolist() == [0, 0, 60, 40]
    back = RandomFlip(prob=1.0, direction=direction)(out)
    assert np.array_equal(back["gt_bboxes"], s["gt_bboxes"]) and np.array_equal(back["gt_keypoints"], s["gt_keypoints"])


def test_random_flip_probabilities():
    seed_data_rng(0)
    assert RandomFlip(prob=0.0)(sample())["flip"] is False
    t = RandomFlip(prob=[0.3, 0.5], direction=["horizontal", "vertical"])
    dirs = [t(sample())["flip_direction"] for _ in range(2000)]
    assert abs(dirs.count("horizontal") / 2000 - 0.3) < 0.05
    assert abs(dirs.count("vertical") / 2000 - 0.5) < 0.05
    assert abs(dirs.count(None) / 2000 - 0.2) < 0.05


def test_random_flip_swaps_seg_labels():
    s = dict(img=np.zeros((2, 2, 3), np.uint8), gt_seg_map=np.array([[1, 2], [3, 1]], np.uint8))
    out = RandomFlip(prob=1.0, swap_seg_labels=[(1, 2)])(s)
    assert out["gt_seg_map"].tolist() == [[1, 2], [2, 3]]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(prob=1.5), r"prob must be in \[0, 1\]"),
        (dict(prob=None), "prob is required"),
        (dict(prob=0.5, direction="left"), "direction must be one of"),
        (dict(prob=[0.5], direction=["horizontal", "vertical"]), "1 probabilities for 2 directions"),
        (dict(prob=[0.7, 0.7], direction=["horizontal", "vertical"]), "sum to <= 1"),
        (dict(prob=0.5, swap_seg_labels=[1, 2]), "swap_seg_labels must be a list of"),
    ],
)
def test_random_flip_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomFlip(**kwargs)


# ---------------------------------------------------------------- crop and pad
def test_center_crop():
    s = sample(40, 60)
    out = CenterCrop(crop_size=(20, 10))(copy.deepcopy(s))
    # x1 = round((60 - 20) / 2) = 20, y1 = round((40 - 10) / 2) = 15
    assert np.array_equal(out["img"], s["img"][15:25, 20:40]) and out["img_shape"] == (10, 20)
    assert out["gt_bboxes"].tolist() == [[0, 0, 10, 10], [0, 0, 20, 10]]
    assert np.array_equal(out["gt_seg_map"], s["gt_seg_map"][15:25, 20:40])
    padded = CenterCrop(crop_size=(80, 10), auto_pad=True)(copy.deepcopy(s))
    assert padded["img"].shape == (10, 80, 3)
    with pytest.raises(ValueError, match="crop_size must be a positive int"):
        CenterCrop(crop_size=(0, 10))


def test_random_crop_absolute_and_filtering():
    seed_data_rng(3)
    t = RandomCrop(crop_size=(20, 10))
    for _ in range(20):
        s = sample(40, 60)
        s["gt_bboxes"] = np.array([[0, 0, 60, 40], [59, 39, 60, 40]], np.float32)
        out = t(s)
        assert out["img"].shape == (10, 20, 3) and out["gt_seg_map"].shape == (10, 20)
        b = out["gt_bboxes"]
        assert (b[:, 0::2] >= 0).all() and (b[:, 0::2] <= 20).all() and (b[:, 1::2] <= 10).all()
        assert len(out["gt_bboxes_labels"]) == len(b) == len(out["gt_keypoints"])
        assert b[0].tolist() == [0, 0, 20, 10]


def test_random_crop_returns_none_without_boxes_unless_allowed():
    s = dict(img=np.zeros((100, 100, 3), np.uint8), gt_bboxes=np.array([[0, 0, 1, 1]], np.float32))
    seed_data_rng(0)
    t = RandomCrop(crop_size=(10, 10))
    outcomes = [t(copy.deepcopy(s)) is None for _ in range(20)]
    assert any(outcomes)
    t = RandomCrop(crop_size=(10, 10), allow_negative_crop=True)
    assert all(t(copy.deepcopy(s)) is not None for _ in range(20))


@pytest.mark.parametrize(
    "crop_type, size, check",
    [
        ("relative", (0.5, 0.25), lambda h, w: (h, w) == (10, 30)),
        ("relative_range", (0.5, 0.5), lambda h, w: 20 <= h <= 40 and 30 <= w <= 60),
        ("absolute_range", (10, 30), lambda h, w: 10 <= h <= 30 and 10 <= w <= 30),
    ],
)
def test_random_crop_types(crop_type, size, check):
    seed_data_rng(0)
    t = RandomCrop(crop_size=size, crop_type=crop_type, allow_negative_crop=True)
    for _ in range(10):
        h, w = t(sample(40, 60))["img"].shape[:2]
        assert check(h, w), (h, w)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(crop_size=(10, 10), crop_type="pixels"), "crop_type must be one of"),
        (dict(crop_size=(0, 10)), "crop_size must be positive ints"),
        (dict(crop_size=(30, 10), crop_type="absolute_range"), r"must be \(min, max\)"),
        (dict(crop_size=(1.5, 0.5), crop_type="relative"), r"fractions in \(0, 1\]"),
        (dict(crop_size=10), "crop_size must be a pair"),
    ],
)
def test_random_crop_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomCrop(**kwargs)


def test_pad_variants():
    out = Pad(size_divisor=32)(sample(40, 60))
    assert out["img"].shape == (64, 64, 3) and out["pad_shape"] == (64, 64, 3) and out["img_shape"] == (64, 64)
    assert (out["img"][40:] == 0).all() and (out["gt_seg_map"][40:] == 255).all()
    assert out["pad_size_divisor"] == 32 and out["pad_fixed_size"] is None
    out = Pad(size=(70, 45), pad_val=dict(img=(1, 2, 3), seg=0))(sample(40, 60))
    assert (
        out["img"].shape == (45, 70, 3) and out["img"][44, 69].tolist() == [1, 2, 3] and out["gt_seg_map"][44, 69] == 0
    )
    out = Pad(pad_to_square=True, pad_val=7)(sample(40, 60))
    assert out["img"].shape == (60, 60, 3) and out["img"][59, 0, 0] == 7
    assert Pad(pad_to_square=True, size_divisor=32)(sample(40, 60))["img"].shape == (64, 64, 3)
    with pytest.raises(ValueError, match="larger than size"):
        Pad(size=(30, 30))(sample(40, 60))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(), "exactly one of size and size_divisor"),
        (dict(size=(10, 10), size_divisor=4), "exactly one of size and size_divisor"),
        (dict(size_divisor=0), "size_divisor must be a positive int"),
        (dict(size=(10, 10), pad_to_square=True), "size must be None with pad_to_square"),
        (dict(size_divisor=4, pad_val=dict(image=0)), "pad_val must be a number or a dict"),
        (dict(size_divisor=4, padding_mode="wrap"), "padding_mode must be"),
    ],
)
def test_pad_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Pad(**kwargs)


# ---------------------------------------------------------------- photometric
def test_normalize():
    s = sample()
    out = Normalize(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])(copy.deepcopy(s))
    expected = (s["img"][..., ::-1] - np.array([123.675, 116.28, 103.53])) / np.array([58.395, 57.12, 57.375])
    assert out["img"].dtype == np.float32 and np.allclose(out["img"], expected, atol=1e-5)
    assert out["img_norm_cfg"]["to_rgb"] is True
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = Normalize(mean=[2.0], std=[4.0], to_rgb=False)(dict(img=gray))["img"]
    assert np.allclose(out, (gray - 2.0) / 4.0)
    many = np.arange(2 * 2 * 6, dtype=np.uint8).reshape(2, 2, 6)
    assert np.allclose(Normalize(mean=[1.0], std=[2.0], to_rgb=False)(dict(img=many))["img"], (many - 1.0) / 2.0)
    with pytest.raises(ValueError, match=r"needs a 3-channel image, got shape \(3, 4\) for x.jpg"):
        Normalize(mean=[1, 2, 3], std=[1, 1, 1])(dict(img=gray, img_path="x.jpg"))
    with pytest.raises(ValueError, match="std values must be positive"):
        Normalize(mean=[0, 0, 0], std=[1, 0, 1])
    with pytest.raises(ValueError, match="need 1 or 3 values"):
        Normalize(mean=[0, 0], std=[1, 1])


def test_photometric_distortion_is_reproducible_and_bounded():
    s = sample()
    seed_data_rng(11)
    a = PhotoMetricDistortion()(copy.deepcopy(s))["img"]
    seed_data_rng(11)
    b = PhotoMetricDistortion()(copy.deepcopy(s))["img"]
    assert a.dtype == np.float32 and a.shape == s["img"].shape and np.array_equal(a, b)
    seed_data_rng(12)
    outs = [PhotoMetricDistortion()(copy.deepcopy(s))["img"] for _ in range(8)]
    assert any(not np.allclose(o, s["img"]) for o in outs)
    # With every range collapsed to identity the image is unchanged (up to the float HSV round trip).
    ident = PhotoMetricDistortion(brightness_delta=0, contrast_range=(1, 1), saturation_range=(1, 1), hue_delta=0)
    for _ in range(5):
        out = ident(copy.deepcopy(s))["img"]
        assert np.allclose(np.sort(out, axis=-1), np.sort(s["img"].astype(np.float32), axis=-1), atol=1e-3)
    with pytest.raises(ValueError, match="contrast_range must be"):
        PhotoMetricDistortion(contrast_range=(1.5, 0.5))
    with pytest.raises(ValueError, match="brightness_delta must be >= 0"):
        PhotoMetricDistortion(brightness_delta=-1)


# ---------------------------------------------------------------- wrappers
class Tag(BaseTransform):
    def __init__(self, name):
        self.name = name

    def transform(self, results):
        results.setdefault("tags", []).append(self.name)
        return results


def test_random_apply_and_choice():
    seed_data_rng(0)
    t = RandomApply([Tag("a")], prob=0.3)
    hits = sum("tags" in t({}) for _ in range(1000))
    assert 240 < hits < 360
    assert "tags" not in RandomApply([Tag("a")], prob=0.0)({})
    c = RandomChoice([[Tag("a")], [Tag("b"), Tag("c")]], prob=[0.25, 0.75])
    outs = [tuple(c({})["tags"]) for _ in range(1000)]
    assert set(outs) == {("a",), ("b", "c")} and 180 < outs.count(("a",)) < 320
    with pytest.raises(ValueError, match=r"prob must be in \[0, 1\]"):
        RandomApply([Tag("a")], prob=2)
    with pytest.raises(ValueError, match="sum to 1"):
        RandomChoice([[Tag("a")], [Tag("b")]], prob=[0.5, 0.6])


def test_test_time_aug_combinations():
    tta = vk_transforms.TestTimeAug(
        transforms=[
            [dict(type="Resize", scale=(30, 20)), dict(type="Resize", scale=(60, 40))],
            [dict(type="RandomFlip", prob=1.0), dict(type="RandomFlip", prob=0.0)],
        ]
    )
    out = tta(sample())
    assert [i.shape[:2] for i in out["img"]] == [(20, 30), (20, 30), (40, 60), (40, 60)]
    assert out["flip"] == [True, False, True, False]
    with pytest.raises(ValueError, match=r"transforms\[0\] must be a non-empty list"):
        vk_transforms.TestTimeAug(transforms=[[]])
    dropping = vk_transforms.TestTimeAug(transforms=[[lambda r: None, Tag("x")]])
    with pytest.raises(ValueError, match=r"combination 0 \(function\) returned None"):
        dropping({})
    assert vk_transforms.TestTimeAug(transforms=[[lambda r: None, Tag("x")]], allow_empty=True)({})["tags"] == [["x"]]


def test_key_mapper():
    s = dict(img=np.zeros((10, 10, 3), np.uint8), gt_img=np.zeros((4, 6, 3), np.uint8))
    out = KeyMapper(mapping={"img": "gt_img"}, transforms=[dict(type="Resize", scale=(3, 2))])(s)
    assert out["gt_img"].shape == (2, 3, 3) and out["img"].shape == (10, 10, 3)
    out = KeyMapper(mapping={"img": "gt_img"}, auto_remap=False, transforms=[dict(type="Resize", scale=(3, 2))])(s)
    assert out["img"].shape == (2, 3, 3) and out["gt_img"].shape == (4, 6, 3)
    nested = KeyMapper(
        mapping={"pair": ["a", "b"]}, transforms=[lambda r: {**r, "pair": [r["pair"][1], r["pair"][0]]}]
    )({"a": 1, "b": 2})
    assert nested["a"] == 2 and nested["b"] == 1
    with pytest.raises(KeyError, match="key 'nope' from the mapping is not in the results"):
        KeyMapper(mapping={"img": "nope"}, transforms=[])(s)
    kept = KeyMapper(mapping={"img": "nope"}, allow_nonexist_keys=True, transforms=[])(s)
    assert kept["img"] is s["img"]


# ---------------------------------------------------------------- registry, repr, reproducibility
def test_everything_is_registered_and_reprs_show_arguments():
    names = [
        "LoadImageFromFile",
        "LoadAnnotations",
        "Resize",
        "RandomResize",
        "RandomChoiceResize",
        "RandomFlip",
        "RandomCrop",
        "CenterCrop",
        "Pad",
        "Normalize",
        "PhotoMetricDistortion",
        "RandomApply",
        "RandomChoice",
        "TestTimeAug",
        "KeyMapper",
        "Compose",
    ]
    for name in names:
        assert TRANSFORMS.get(name).__name__ == name
    assert repr(Resize(scale=(10, 20), keep_ratio=True)) == (
        "Resize(scale=(10, 20), scale_factor=None, keep_ratio=True, clip_object_border=True, backend='cv2', "
        "interpolation='bilinear')"
    )
    assert repr(RandomFlip(prob=0.5)) == "RandomFlip(prob=0.5, direction='horizontal', swap_seg_labels=None)"
    assert "Normalize(mean=[1.0, 2.0, 3.0]" in repr(Normalize(mean=[1, 2, 3], std=[1, 1, 1]))


def test_pipeline_is_reproducible_for_a_seed():
    pipeline = Compose(
        [
            dict(type="RandomResize", scale=(60, 40), ratio_range=(0.5, 1.5), keep_ratio=True),
            dict(type="RandomFlip", prob=0.5),
            dict(type="RandomCrop", crop_size=(20, 20), allow_negative_crop=True),
            dict(type="PhotoMetricDistortion"),
        ]
    )

    def run(seed):
        seed_data_rng(seed)
        return [pipeline(sample()) for _ in range(5)]

    a, b, c = run(4), run(4), run(5)
    for x, y in zip(a, b):
        assert np.array_equal(x["img"], y["img"]) and np.array_equal(x["gt_bboxes"], y["gt_bboxes"])
    assert any(not np.array_equal(x["img"], z["img"]) for x, z in zip(a, c))


@settings(max_examples=50, deadline=None)
@given(
    h=st.integers(8, 80),
    w=st.integers(8, 80),
    sw=st.integers(8, 160),
    sh=st.integers(8, 160),
    box=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)),
)
def test_resize_then_flip_keeps_boxes_inside_and_consistent(h, w, sw, sh, box):
    x1, x2 = sorted((box[0] * w, box[2] * w))
    y1, y2 = sorted((box[1] * h, box[3] * h))
    s = dict(img=np.zeros((h, w, 3), np.uint8), gt_bboxes=np.array([[x1, y1, x2, y2]], np.float32))
    out = RandomFlip(prob=1.0)(Resize(scale=(sw, sh))(s))
    b = out["gt_bboxes"][0]
    nh, nw = out["img_shape"]
    assert (nh, nw) == (sh, sw)
    assert 0 <= b[0] <= b[2] <= nw + 1e-3 and 0 <= b[1] <= b[3] <= nh + 1e-3
    np.testing.assert_allclose(b, [sw - x2 * sw / w, y1 * sh / h, sw - x1 * sw / w, y2 * sh / h], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(
    "cfg, error, match",
    [
        (dict(type="Resize", scal=(1, 2)), TypeError, "unexpected keyword argument 'scal'"),
        (
            dict(type="RandomResize", scale=(10, 10), ratio_range=(0.5, 1.5), keepratio=True),
            TypeError,
            "unexpected keyword argument 'keepratio'",
        ),
        (dict(type="Resizee", scale=1), KeyError, "Did you mean: 'Resize'"),
        (dict(type="Pad", size=(-1, 4)), ValueError, "size must be a positive int"),
    ],
)
def test_bad_pipeline_configs_fail_when_the_pipeline_is_built(cfg, error, match):
    with pytest.raises(error, match=match):
        Compose([dict(type="LoadImageFromFile"), cfg])


def _forced(t, **flags):
    """Replaces PhotoMetricDistortion's random draw by fixed values."""
    values = dict(mode=0, b=False, c=False, s=False, h=False, swap=False, delta=0.0, alpha=1.0, sat=1.0, hue=0.0)
    values.update(flags)
    perm = values.pop("perm", np.array([0, 1, 2]))
    t._random_flags = lambda: (
        values["mode"],
        values["b"],
        values["c"],
        values["s"],
        values["h"],
        values["swap"],
        values["delta"],
        values["alpha"],
        values["sat"],
        values["hue"],
        perm,
    )
    return t


def test_photometric_distortion_steps_match_hand_computation():
    img = sample()["img"]
    f = img.astype(np.float32)
    out = _forced(PhotoMetricDistortion(), b=True, delta=10.0)(dict(img=img.copy()))["img"]
    np.testing.assert_allclose(out, f + 10, atol=1e-4)
    for mode in (0, 1):  # contrast before or after the HSV steps: same result when those are off
        out = _forced(PhotoMetricDistortion(), mode=mode, c=True, alpha=1.5)(dict(img=img.copy()))["img"]
        np.testing.assert_allclose(out, f * 1.5, rtol=1e-4, atol=1e-3)
    out = _forced(PhotoMetricDistortion(), swap=True, perm=np.array([2, 0, 1]))(dict(img=img.copy()))["img"]
    np.testing.assert_array_equal(out, f[..., [2, 0, 1]])
    out = _forced(PhotoMetricDistortion(), s=True, sat=0.0)(dict(img=img.copy()))["img"]
    assert np.abs(out - out.mean(axis=-1, keepdims=True)).max() < 1e-3  # saturation 0: grey
    hsv = cv2.cvtColor(f, cv2.COLOR_BGR2HSV)
    hsv[..., 0] = (hsv[..., 0] + 30) % 360
    out = _forced(PhotoMetricDistortion(), h=True, hue=30.0)(dict(img=img.copy()))["img"]
    np.testing.assert_allclose(out, cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR), atol=1e-2)


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(4, 60),
    w=st.integers(4, 60),
    cw=st.integers(1, 80),
    ch=st.integers(1, 80),
    seed=st.integers(0, 2**16),
)
def test_crops_keep_boxes_inside_and_consistent_with_the_image(h, w, cw, ch, seed):
    seed_data_rng(seed)
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, [w, h, w, h], size=(5, 4)).astype(np.float32)
    boxes = np.concatenate([np.minimum(xy[:, :2], xy[:, 2:]), np.maximum(xy[:, :2], xy[:, 2:])], axis=1)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    for t in (RandomCrop(crop_size=(cw, ch), allow_negative_crop=True), CenterCrop(crop_size=(cw, ch))):
        s = dict(img=img.copy(), gt_bboxes=boxes.copy(), gt_bboxes_labels=np.arange(5))
        out = t(s)
        oh, ow = out["img"].shape[:2]
        assert (oh, ow) == (min(h, ch), min(w, cw)) and out["img_shape"] == (oh, ow)
        b = out["gt_bboxes"]
        assert (b[:, 0] >= 0).all() and (b[:, 2] <= ow).all() and (b[:, 1] >= 0).all() and (b[:, 3] <= oh).all()
        assert ((b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])).all()  # empty boxes were dropped
        # The crop is a window of the original image, and every kept box is its original box shifted by it.
        ys, xs = np.nonzero(img[:, :, 0] == out["img"][0, 0, 0])
        labels = out["gt_bboxes_labels"]
        for y0, x0 in zip(ys, xs):
            if np.array_equal(img[y0 : y0 + oh, x0 : x0 + ow], out["img"]):
                shifted = boxes[labels] - np.array([x0, y0, x0, y0], np.float32)
                shifted[:, 0::2] = shifted[:, 0::2].clip(0, ow)
                shifted[:, 1::2] = shifted[:, 1::2].clip(0, oh)
                if np.allclose(shifted, b, atol=1e-4):
                    break
        else:
            raise AssertionError("no crop offset explains the boxes")
