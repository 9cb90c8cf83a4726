import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_det.structures import (
    BitmapMasks,
    HorizontalBoxes,
    PolygonMasks,
    bbox2roi,
    bbox_cxcywh_to_xyxy,
    bbox_flip,
    bbox_iou,
    bbox_xyxy_to_cxcywh,
    encode_mask_results,
    mask2bbox,
    roi2bbox,
    scale_boxes,
)
from vk_det.structures._maskapi import mask_api

coord = st.floats(0, 100, allow_nan=False)


@st.composite
def boxes(draw, n=st.integers(0, 6)):
    k = draw(n)
    pts = np.array(draw(st.lists(st.tuples(coord, coord, coord, coord), min_size=k, max_size=k)), dtype=np.float32)
    pts = pts.reshape(-1, 4)
    return np.concatenate([np.minimum(pts[:, :2], pts[:, 2:]), np.maximum(pts[:, :2], pts[:, 2:])], axis=1)


@given(boxes())
@settings(max_examples=50, deadline=None)
def test_flip_is_involution_and_keeps_area(b):
    t = torch.from_numpy(b)
    for direction in ("horizontal", "vertical", "diagonal"):
        f = bbox_flip(t, (120, 110), direction)
        assert torch.allclose(bbox_flip(f, (120, 110), direction), t, atol=1e-4)
        hb = HorizontalBoxes(t)
        assert torch.allclose(HorizontalBoxes(f).areas, hb.areas, atol=1e-2)
        assert (f[:, 2] >= f[:, 0]).all()


@given(boxes())
@settings(max_examples=50, deadline=None)
def test_cxcywh_round_trip(b):
    t = torch.from_numpy(b)
    assert torch.allclose(bbox_cxcywh_to_xyxy(bbox_xyxy_to_cxcywh(t)), t, atol=1e-4)


def test_flip_hand_values_and_bad_direction():
    b = torch.tensor([[10.0, 20.0, 30.0, 50.0]])
    assert bbox_flip(b, (100, 200), "horizontal").tolist() == [[170.0, 20.0, 190.0, 50.0]]
    assert bbox_flip(b, (100, 200), "vertical").tolist() == [[10.0, 50.0, 30.0, 80.0]]
    with pytest.raises(ValueError, match="direction"):
        bbox_flip(b, (100, 200), "sideways")


def test_horizontal_boxes_modes_and_ops():
    hb = HorizontalBoxes([[10, 20, 5, 10]], in_mode="xywh")
    assert hb.tensor.tolist() == [[10, 20, 15, 30]]
    assert hb.areas.item() == 50
    hb.rescale_((2, 0.5))
    assert hb.tensor.tolist() == [[20, 10, 30, 15]]
    hb.clip_((12, 25))
    assert hb.tensor.tolist() == [[20, 10, 25, 12]]
    assert len(HorizontalBoxes(torch.zeros(0))) == 0
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        HorizontalBoxes(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="in_mode"):
        HorizontalBoxes([[0, 0, 1, 1]], in_mode="polar")
    cat = HorizontalBoxes.cat([HorizontalBoxes([[0, 0, 1, 1]]), HorizontalBoxes([[1, 1, 2, 2]])])
    assert len(cat) == 2 and len(cat[torch.tensor([True, False])]) == 1
    inside = cat.find_inside_points(torch.tensor([[0.5, 0.5], [1.5, 1.5], [5.0, 5.0]]))
    assert inside.tolist() == [[True, False], [False, True], [False, False]]


def test_bbox_iou_hand_values():
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    b = torch.tensor([[5.0, 5.0, 15.0, 15.0], [20.0, 20.0, 30.0, 30.0]])
    iou = bbox_iou(a, b)
    assert torch.allclose(iou, torch.tensor([[25 / 175, 0.0]]))
    assert torch.allclose(bbox_iou(a, b, mode="iof"), torch.tensor([[0.25, 0.0]]))
    giou = bbox_iou(a, b[1:], mode="giou")
    assert torch.allclose(giou, torch.tensor([[0 - (900 - 200) / 900]]))


def test_bbox2roi_roi2bbox_round_trip():
    bl = [torch.rand(3, 4), torch.rand(0, 4), torch.rand(2, 4)]
    rois = bbox2roi(bl)
    assert rois.shape == (5, 5) and rois[:, 0].tolist() == [0, 0, 0, 2, 2]
    back = roi2bbox(rois)
    assert torch.equal(back[0], bl[0]) and torch.equal(back[1], bl[2])
    assert scale_boxes(torch.tensor([[1.0, 2.0, 3.0, 4.0]]), (2.0, 3.0)).tolist() == [[2, 6, 6, 12]]


def _square_poly(x1, y1, x2, y2):
    return [np.array([x1, y1, x2, y1, x2, y2, x1, y2], dtype=np.float64)]


def test_polygon_and_bitmap_agree_through_transforms():
    polys = PolygonMasks([_square_poly(4, 6, 20, 14), _square_poly(30, 2, 38, 30)], 32, 40)
    bitmaps = polys.to_bitmap()
    assert bitmaps.masks.shape == (2, 32, 40)
    assert np.allclose(polys.areas, [16 * 8, 8 * 28])
    assert np.allclose(bitmaps.areas, polys.areas, rtol=0.1)
    for op in (
        lambda m: m.flip("horizontal"),
        lambda m: m.flip("vertical"),
        lambda m: m.flip("diagonal"),
        lambda m: m.resize((64, 80)),
        lambda m: m.rescale(0.5),
        lambda m: m.crop(np.array([2, 0, 36, 20])),
        lambda m: m.pad((40, 48)),
        lambda m: m.expand(50, 60, 5, 7),
    ):
        p, b = op(polys), op(bitmaps)
        assert (p.height, p.width) == (b.height, b.width)
        pb = p.to_ndarray().astype(bool)
        bb = b.to_ndarray().astype(bool)
        # polygons rasterise at pixel edges, bitmaps move whole pixels: nearly all pixels agree.
        inter = (pb & bb).sum()
        union = (pb | bb).sum()
        assert inter / union > 0.8


def test_bitmap_get_bboxes_and_flip_hand_values():
    m = np.zeros((2, 10, 12), np.uint8)
    m[0, 2:5, 3:7] = 1
    bm = BitmapMasks(m, 10, 12)
    assert bm.get_bboxes().tolist() == [[3, 2, 7, 5], [0, 0, 0, 0]]
    assert mask2bbox(torch.from_numpy(m).bool()).tolist() == [[3, 2, 7, 5], [0, 0, 0, 0]]
    assert bm.flip().get_bboxes()[0].tolist() == [5, 2, 9, 5]
    assert bm.crop(np.array([3, 2, 7, 5])).masks.sum() == 12
    with pytest.raises(ValueError, match=r"\(N, 10, 12\)"):
        BitmapMasks(np.zeros((2, 9, 12)), 10, 12)
    assert len(BitmapMasks(None, 5, 5).resize((10, 10))) == 0


def test_polygon_rejects_two_point_polygon():
    with pytest.raises(ValueError, match="instance 0 polygon 0"):
        PolygonMasks([[np.array([0, 0, 1, 1.0])]], 5, 5)


def test_crop_and_resize_full_box_reproduces_mask():
    m = np.zeros((1, 16, 16), np.uint8)
    m[0, 4:12, 4:12] = 1
    bm = BitmapMasks(m, 16, 16)
    out = bm.crop_and_resize(torch.tensor([[4.0, 4.0, 12.0, 12.0]]), (8, 8), torch.tensor([0]))
    assert out.masks.shape == (1, 8, 8) and out.masks.all()
    pm = PolygonMasks([_square_poly(4, 4, 12, 12)], 16, 16)
    out = pm.crop_and_resize(torch.tensor([[4.0, 4.0, 12.0, 12.0]]), (8, 8), torch.tensor([0]))
    assert out.masks.all()


def test_encode_mask_results_round_trip():
    m = (np.random.default_rng(0).random((3, 7, 9)) > 0.5).astype(np.uint8)
    rles = encode_mask_results(torch.from_numpy(m))
    assert all(isinstance(r["counts"], str) for r in rles)
    dec = mask_api().decode([{"size": r["size"], "counts": r["counts"].encode()} for r in rles])
    assert np.array_equal(dec.transpose(2, 0, 1), m)
    assert encode_mask_results(np.zeros((0, 4, 4))) == []


def test_det_data_sample_fields_and_types():
    from vk_core.structures import InstanceData, PixelData
    from vk_det.structures import DetDataSample

    s = DetDataSample(metainfo=dict(img_shape=(4, 5), img_id=3))
    s.gt_instances = InstanceData(bboxes=torch.zeros(2, 4), labels=torch.tensor([0, 1]))
    s.pred_instances = InstanceData(bboxes=torch.ones(1, 4), scores=torch.tensor([0.5]), labels=torch.tensor([1]))
    s.gt_sem_seg = PixelData(sem_seg=torch.zeros(1, 4, 5))
    assert len(s.gt_instances) == 2 and s.img_id == 3 and s.gt_sem_seg.shape == (4, 5)
    assert "gt_instances" in s and "proposals" not in s
    with pytest.raises((AssertionError, TypeError, ValueError)):
        s.gt_instances = torch.zeros(3)
    del s.pred_instances
    assert "pred_instances" not in s
    d = s.to_dict()
    assert d["gt_instances"]["labels"].tolist() == [0, 1] and d["img_id"] == 3


@given(st.integers(1, 5), st.integers(3, 40), st.integers(3, 40), st.integers(1, 90), st.integers(1, 90))
@settings(max_examples=40, deadline=None)
def test_stacked_nearest_resize_and_flips_equal_per_mask_cv2(n, h, w, out_h, out_w):
    import cv2

    masks = BitmapMasks.random(n, h, w, rng=n * 1000 + h * 10 + w)
    resized = masks.resize((out_h, out_w)).masks
    for i in range(n):
        ref = cv2.resize(masks.masks[i], (out_w, out_h), interpolation=cv2.INTER_NEAREST)
        assert np.array_equal(resized[i], ref)
    for direction, axes in (("horizontal", (2,)), ("vertical", (1,)), ("diagonal", (1, 2))):
        assert np.array_equal(masks.flip(direction).masks, np.flip(masks.masks, axis=axes))
