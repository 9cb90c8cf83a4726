import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_det.structures import BitmapMasks, PolygonMasks
from vk_det.transforms import (
    Expand,
    FilterAnnotations,
    LoadAnnotations,
    LoadImageFromNDArray,
    MinIoURandomCrop,
    PackDetInputs,
    Pad,
    RandomChoiceResize,
    RandomCrop,
    RandomFlip,
    RandomResize,
    Resize,
)


def _results(h=40, w=60, with_masks=True):
    """An image where each instance is a filled rectangle of value 255, with matching boxes and masks."""
    boxes = np.array([[5, 4, 25, 20], [30, 10, 55, 35]], np.float32)
    img = np.zeros((h, w, 3), np.uint8)
    masks = np.zeros((2, h, w), np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes.astype(int)):
        img[y1:y2, x1:x2] = 255
        masks[i, y1:y2, x1:x2] = 1
    res = dict(
        img=img,
        img_shape=(h, w),
        ori_shape=(h, w),
        gt_bboxes=boxes.copy(),
        gt_bboxes_labels=np.array([0, 1]),
        gt_ignore_flags=np.array([False, True]),
        gt_seg_map=masks[0] + 2 * masks[1],
    )
    if with_masks:
        res["gt_masks"] = BitmapMasks(masks, h, w)
    return res


def _assert_consistent(res, tol=1.5):
    """Boxes equal the bounding boxes of the masks and of the bright pixels of the image."""
    h, w = res["img"].shape[:2]
    assert tuple(res["img_shape"]) == (h, w)
    masks = res["gt_masks"]
    assert (masks.height, masks.width) == (h, w)
    assert res["gt_seg_map"].shape[:2] == (h, w)
    np.testing.assert_allclose(masks.get_bboxes(), res["gt_bboxes"], atol=tol)
    for m in masks.masks:
        bright = res["img"][..., 0] > 127
        assert (bright & m.astype(bool)).sum() >= 0.9 * m.sum()


def test_load_annotations_from_instances():
    inst = [
        dict(bbox=[1, 2, 11, 12], bbox_label=3, ignore_flag=0, mask=[[1, 2, 11, 2, 11, 12, 1, 12]]),
        dict(bbox=[0, 0, 4, 4], bbox_label=1, ignore_flag=1, mask={"size": [20, 30], "counts": [0, 600]}),
    ]
    res = LoadAnnotations(with_mask=True)(dict(instances=inst, ori_shape=(20, 30), img_path="a.jpg"))
    np.testing.assert_array_equal(res["gt_bboxes"], [[1, 2, 11, 12], [0, 0, 4, 4]])
    assert res["gt_bboxes"].dtype == np.float32 and res["gt_bboxes_labels"].tolist() == [3, 1]
    assert res["gt_ignore_flags"].tolist() == [False, True]
    assert isinstance(res["gt_masks"], BitmapMasks) and res["gt_masks"].areas.tolist() == [100, 600]
    poly = LoadAnnotations(with_mask=True, poly2mask=False)(dict(instances=inst[:1], ori_shape=(20, 30)))
    assert isinstance(poly["gt_masks"], PolygonMasks) and poly["gt_masks"].areas.tolist() == [100.0]
    with pytest.raises(KeyError, match="instances"):
        LoadAnnotations()(dict(img_path="x.jpg"))


def test_resize_keep_ratio_scales_boxes_masks_and_seg():
    res = Resize(scale=(120, 100), keep_ratio=True)(_results())
    # 60x40 into 120x100 keeping the ratio: factor min(120/60, 100/40) = 2
    assert res["img_shape"] == (80, 120) and res["scale_factor"] == (2.0, 2.0)
    np.testing.assert_allclose(res["gt_bboxes"][0], [10, 8, 50, 40])
    _assert_consistent(res)
    res = Resize(scale=(30, 30))(_results())
    assert res["img_shape"] == (30, 30) and res["scale_factor"] == (0.5, 0.75)
    with pytest.raises(ValueError, match="scale or scale_factor"):
        Resize()


@pytest.mark.parametrize("direction", ["horizontal", "vertical", "diagonal"])
def test_flip_keeps_everything_aligned(direction):
    res = RandomFlip(prob=1.0, direction=direction)(_results())
    assert res["flip"] and res["flip_direction"] == direction
    _assert_consistent(res, tol=0)
    res = RandomFlip(prob=0.0)(_results())
    assert not res["flip"] and res["flip_direction"] is None
    with pytest.raises(ValueError, match="direction"):
        RandomFlip(prob=0.5, direction="up")


def test_pad_and_pack():
    res = Pad(size_divisor=32, pad_val=dict(img=7, seg=255))(_results())
    assert res["img"].shape == (64, 64, 3) and res["img"][63, 63, 0] == 7 and res["gt_seg_map"][63, 63] == 255
    _assert_consistent(res)
    res["img_id"] = 3
    packed = PackDetInputs()(res)
    inputs, sample = packed["inputs"], packed["data_samples"]
    assert inputs.shape == (3, 64, 64) and inputs.dtype == torch.uint8 and inputs.is_contiguous()
    # the ignore flag splits instances
    assert sample.gt_instances.bboxes.tolist() == [[5, 4, 25, 20]] and sample.gt_instances.labels.tolist() == [0]
    assert sample.ignored_instances.labels.tolist() == [1]
    assert len(sample.gt_instances.masks) == 1 and sample.gt_sem_seg.sem_seg.shape == (1, 64, 64)
    assert sample.img_id == 3 and sample.img_shape == (64, 64)


def test_pack_empty_image():
    res = dict(
        img=np.zeros((8, 8, 3), np.uint8),
        gt_bboxes=np.zeros((0, 4), np.float32),
        gt_bboxes_labels=np.zeros(0, np.int64),
        gt_ignore_flags=np.zeros(0, bool),
    )
    sample = PackDetInputs()(res)["data_samples"]
    assert sample.gt_instances.bboxes.shape == (0, 4) and sample.gt_instances.labels.dtype == torch.int64


@given(st.integers(0, 10_000))
@settings(max_examples=25, deadline=None)
def test_random_geometry_keeps_boxes_masks_consistent(seed):
    from vk_core.dataset import seed_data_rng

    seed_data_rng(seed)
    res = _results()
    for t in (
        RandomResize(scale=(60, 40), ratio_range=(0.5, 2.0), keep_ratio=True),
        RandomFlip(prob=0.5, direction=["horizontal", "vertical"]),
        Expand(mean=(0, 0, 0), ratio_range=(1, 2), prob=0.5),
        RandomCrop(crop_size=(0.6, 0.6), crop_type="relative_range", allow_negative_crop=True),
    ):
        res = t(res)
        assert res is not None
    _assert_consistent_crop(res)


def _assert_consistent_crop(res):
    h, w = res["img"].shape[:2]
    assert res["gt_masks"].masks.shape == (len(res["gt_bboxes"]), h, w)
    assert len(res["gt_bboxes_labels"]) == len(res["gt_bboxes"]) == len(res["gt_ignore_flags"])
    # after a crop, masks lie inside their boxes (boxes are clipped to the window)
    mb = res["gt_masks"].get_bboxes()
    has = res["gt_masks"].areas > 0
    b = res["gt_bboxes"][has]
    assert np.all(mb[has][:, :2] >= b[:, :2] - 2.5) and np.all(mb[has][:, 2:] <= b[:, 2:] + 2.5)


def test_random_crop_drops_outside_instances_and_returns_none():
    from vk_core.dataset import seed_data_rng

    seed_data_rng(0)
    res = _results()
    res["img"] = res["img"][:, :]
    out = RandomCrop(crop_size=(10, 10))(dict(res, gt_bboxes=np.array([[0, 0, 1, 1], [59, 39, 60, 40]], np.float32)))
    # a 10x10 window can hardly hold both corner boxes: either one is kept or the sample is dropped
    assert out is None or len(out["gt_bboxes"]) <= 1
    with pytest.raises(ValueError, match="crop_type"):
        RandomCrop((10, 10), crop_type="weird")


def test_filter_annotations_and_min_iou_crop():
    res = _results()
    res["gt_bboxes"][0] = [5, 4, 5.5, 20]
    out = FilterAnnotations(min_gt_bbox_wh=(1, 1))(res)
    assert out["gt_bboxes_labels"].tolist() == [1] and len(out["gt_masks"]) == 1
    res = _results()
    res["gt_bboxes"][:] = [0, 0, 0.5, 0.5]
    assert FilterAnnotations(keep_empty=False)(res) is None
    from vk_core.dataset import seed_data_rng

    seed_data_rng(1)
    out = MinIoURandomCrop()(_results())
    assert len(out["gt_bboxes"]) >= 1 and out["img"].shape[:2] == tuple(out["img_shape"])


def test_random_choice_resize_and_ndarray_loader():
    from vk_core.dataset import seed_data_rng

    seed_data_rng(0)
    res = RandomChoiceResize(scales=[(30, 20), (120, 80)], keep_ratio=True)(_results())
    assert res["img_shape"] in ((20, 30), (80, 120))
    out = LoadImageFromNDArray()(dict(img=np.zeros((5, 7), np.uint8)))
    assert out["img"].shape == (5, 7, 3) and out["ori_shape"] == (5, 7)


def _loaded(h, w, boxes, value=255):
    img = np.zeros((h, w, 3), np.uint8)
    for x1, y1, x2, y2 in np.asarray(boxes, int):
        img[y1:y2, x1:x2] = value
    return dict(
        img=img,
        img_shape=(h, w),
        ori_shape=(h, w),
        gt_bboxes=np.asarray(boxes, np.float32).reshape(-1, 4),
        gt_bboxes_labels=np.arange(len(boxes), dtype=np.int64),
        gt_ignore_flags=np.zeros(len(boxes), bool),
    )


def _boxes_cover_bright_pixels(res, tol=2.0):
    bright = res["img"][..., 0] > 200
    for x1, y1, x2, y2 in res["gt_bboxes"]:
        if x2 - x1 < 4 or y2 - y1 < 4:
            continue  # resampled edges dominate slivers cut by the canvas border
        inside = bright[int(np.ceil(y1)) + 1 : int(y2) - 1, int(np.ceil(x1)) + 1 : int(x2) - 1]
        assert inside.mean() > 0.9  # each box sits on a bright rectangle
    ys, xs = np.nonzero(bright)
    if len(xs):
        b = res["gt_bboxes"]
        covered = ((xs[:, None] >= b[:, 0] - tol) & (xs[:, None] <= b[:, 2] + tol)
                   & (ys[:, None] >= b[:, 1] - tol) & (ys[:, None] <= b[:, 3] + tol)).any(axis=1)  # fmt: skip
        assert covered.mean() > 0.98  # every bright pixel is inside some box


@given(st.integers(0, 10_000))
@settings(max_examples=15, deadline=None)
def test_mosaic_and_affine_keep_boxes_on_their_pixels(seed):
    from vk_core.dataset import seed_data_rng
    from vk_det.transforms import Mosaic, RandomAffine

    seed_data_rng(seed)
    samples = [_loaded(40 + 10 * k, 60 - 5 * k, [[5, 5, 20, 18], [25, 20, 38, 35]]) for k in range(4)]
    res = dict(samples[0], mix_results=samples[1:])
    res = Mosaic(img_scale=(64, 48), pad_val=0)(res)
    assert res["img"].shape[:2] == (96, 128) and "mix_results" not in res
    assert len(res["gt_bboxes"]) == len(res["gt_bboxes_labels"]) == len(res["gt_ignore_flags"])
    _boxes_cover_bright_pixels(res)
    out = RandomAffine(max_rotate_degree=0, max_shear_degree=0, border_val=(0, 0, 0))(res)
    assert out["img"].shape[:2] == (96, 128)
    _boxes_cover_bright_pixels(out)


def test_mixup_and_hsv_and_mix_dataset(tmp_path):
    from vk_core.dataset import seed_data_rng
    from vk_det.datasets import MultiImageMixDataset
    from vk_det.transforms import MixUp, YOLOXHSVRandomAug

    seed_data_rng(0)
    a, b = _loaded(40, 60, [[5, 5, 20, 18]]), _loaded(30, 30, [[2, 2, 12, 12], [15, 15, 28, 28]])
    out = MixUp(img_scale=(60, 40), ratio_range=(1, 1), flip_ratio=0)(dict(a, mix_results=[b]))
    assert out["img"].shape == (40, 60, 3) and 1 <= len(out["gt_bboxes"]) <= 3
    assert out["gt_bboxes_labels"][0] == 0 and len(out["gt_ignore_flags"]) == len(out["gt_bboxes"])
    with pytest.raises(KeyError, match="MultiImageMixDataset"):
        MixUp()(dict(a))
    hsv = YOLOXHSVRandomAug()(dict(img=np.full((4, 4, 3), 100, np.uint8)))
    assert hsv["img"].shape == (4, 4, 3) and hsv["img"].dtype == np.uint8

    class Inner:
        metainfo = dict(classes=("a", "b"))

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return _loaded(40, 60, [[5, 5, 20, 18], [25, 20, 38, 35]])

        def get_data_info(self, i):
            return dict(instances=[1])

    ds = MultiImageMixDataset(Inner(), [dict(type="Mosaic", img_scale=(60, 40)), dict(type="PackDetInputs")])
    item = ds[0]
    assert item["inputs"].shape == (3, 80, 120) and len(ds) == 4
    ds.update_skip_type_keys(["Mosaic"])
    assert ds[0]["inputs"].shape == (3, 40, 60)


def test_multi_scale_flip_aug_views():
    from vk_core.registry import DefaultScope
    from vk_det.transforms import MultiScaleFlipAug

    with DefaultScope.using("vk_det"):
        tta = MultiScaleFlipAug(
            transforms=[dict(type="Resize", scale=(1, 1)), dict(type="PackDetInputs", meta_keys=("img_shape", "flip"))],
            img_scale=[(120, 80), (30, 20)],
            flip=True,
        )
    out = tta(_results())
    shapes = [s.img_shape for s in out["data_samples"]]
    flips = [s.flip for s in out["data_samples"]]
    assert shapes == [(80, 120), (80, 120), (20, 30), (20, 30)] and flips == [False, True, False, True]
    assert [tuple(x.shape) for x in out["inputs"]] == [(3, 80, 120), (3, 80, 120), (3, 20, 30), (3, 20, 30)]
    with pytest.raises(ValueError, match="exactly one"):
        MultiScaleFlipAug(transforms=[], img_scale=(1, 1), scale_factor=2.0)
