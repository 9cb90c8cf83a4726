import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_core import image as vi


@pytest.fixture
def img():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)


# ---------------------------------------------------------------- io
def test_png_round_trip_and_channel_order(tmp_path, img):
    path = tmp_path / "sub" / "a.png"
    assert vi.imwrite(img, path)
    assert np.array_equal(vi.imread(path), img)
    assert np.array_equal(vi.imread(str(path), channel_order="rgb"), img[..., ::-1])
    assert np.array_equal(vi.imread(path, backend="pillow"), img)
    gray = vi.imread(path, flag="grayscale")
    assert gray.shape == (30, 40) and np.abs(gray.astype(int) - cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)).max() <= 1
    assert vi.imread(img) is img


def test_unchanged_keeps_16_bit_and_alpha(tmp_path):
    deep = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000).astype(np.uint16)
    vi.imwrite(deep, tmp_path / "d.png")
    out = vi.imread(tmp_path / "d.png", flag="unchanged")
    assert out.dtype == np.uint16 and np.array_equal(out, deep)
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 3] = 7
    vi.imwrite(rgba, tmp_path / "a.png")
    assert vi.imread(tmp_path / "a.png", flag="unchanged").shape == (2, 2, 4)


def test_exif_orientation(tmp_path):
    from PIL import Image

    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "o.jpg"
    Image.fromarray(arr).save(path, exif=exif.tobytes(), quality=95)
    for backend in ("cv2", "pillow"):
        rotated = vi.imread(path, backend=backend)
        assert rotated.shape == (40, 20, 3), backend
        assert rotated[:20].mean() > 200 and rotated[20:].mean() < 50  # white half moved to the top
        assert vi.imread(path, flag="color_ignore_orientation", backend=backend).shape == (20, 40, 3)


def test_missing_and_corrupt_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"image file not found: .*missing.jpg"):
        vi.imread(tmp_path / "missing.jpg")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(ValueError, match=r"could not decode image .*bad.jpg \(19 bytes\)"):
        vi.imread(bad)
    with pytest.raises(ValueError, match=r"could not decode"):
        vi.imread(bad, backend="pillow")
    assert vi.imfrombytes(b"") is None
    with pytest.raises(ValueError, match="flag must be one of"):
        vi.imfrombytes(b"x", flag="colour")
    with pytest.raises(ValueError, match="has no extension"):
        vi.imwrite(np.zeros((2, 2), np.uint8), tmp_path / "noext")


# ---------------------------------------------------------------- geometry
def test_imresize_matches_cv2(img):
    out, ws, hs = vi.imresize(img, (80, 15), return_scale=True)
    assert np.array_equal(out, cv2.resize(img, (80, 15), interpolation=cv2.INTER_LINEAR))
    assert (ws, hs) == (2.0, 0.5)
    near = vi.imresize(img, (20, 60), interpolation="nearest")
    assert np.array_equal(near, cv2.resize(img, (20, 60), interpolation=cv2.INTER_NEAREST))
    assert vi.imresize(img[..., :1], (10, 10)).shape == (10, 10, 1)
    pil = vi.imresize(img, (80, 15), backend="pillow", interpolation="nearest")
    assert pil.shape == (15, 80, 3) and pil.dtype == np.uint8
    with pytest.raises(ValueError, match="size must be"):
        vi.imresize(img, (0, 10))
    with pytest.raises(ValueError, match="interpolation must be one of"):
        vi.imresize(img, (10, 10), interpolation="cubicc")


@pytest.mark.parametrize(
    "old, scale, expected",
    [
        ((1000, 500), (1333, 800), (1333, 667)),  # long edge bound: 1333/1000 < 800/500
        ((500, 1000), (1333, 800), (667, 1333)),  # orientation does not matter: long edge to long edge
        ((1000, 900), (1333, 800), (889, 800)),  # short edge bound: 800/900 < 1333/1000
        ((640, 480), 0.5, (320, 240)),
        ((641, 481), 0.5, (321, 241)),  # rounds half up
    ],
)
def test_rescale_size(old, scale, expected):
    assert vi.rescale_size(old, scale) == expected


@settings(max_examples=80, deadline=None)
@given(
    w=st.integers(1, 3000),
    h=st.integers(1, 3000),
    long_edge=st.integers(1, 2000),
    short_edge=st.integers(1, 2000),
)
def test_rescale_size_keeps_ratio_within_bounds(w, h, long_edge, short_edge):
    (nw, nh), factor = vi.rescale_size((w, h), (long_edge, short_edge), return_scale=True)
    assert max(nw, nh) <= max(long_edge, short_edge) + 0.5 + 1e-6 * max(w, h)
    assert min(nw, nh) <= min(long_edge, short_edge) + 0.5 + 1e-6 * max(w, h)
    assert abs(nw - w * factor) <= 0.5 and abs(nh - h * factor) <= 0.5
    # One of the two bounds is met (up to rounding): the image is as large as allowed.
    assert max(nw, nh) >= max(long_edge, short_edge) - 1 or min(nw, nh) >= min(long_edge, short_edge) - 1


def test_imrescale(img):
    out, factor = vi.imrescale(img, (100, 60), return_scale=True)
    assert out.shape == (60, 80, 3) and factor == 2.0
    with pytest.raises(ValueError, match="positive"):
        vi.imrescale(img, -1.0)


@pytest.mark.parametrize("direction, axis", [("horizontal", 1), ("vertical", 0), ("diagonal", (0, 1))])
def test_imflip(img, direction, axis):
    out = vi.imflip(img, direction)
    assert np.array_equal(out, np.flip(img, axis=axis)) and out.flags["C_CONTIGUOUS"]
    assert np.array_equal(vi.imflip(img.astype(bool), direction), np.flip(img.astype(bool), axis=axis))
    copy = img.copy()
    vi.imflip_(copy, direction)
    assert np.array_equal(copy, out)
    with pytest.raises(ValueError, match="direction must be one of"):
        vi.imflip(img, "sideways")


def test_impad_shapes_values_and_modes(img):
    out = vi.impad(img, shape=(35, 48), pad_val=(1, 2, 3))
    assert out.shape == (35, 48, 3)
    assert np.array_equal(out[:30, :40], img)
    assert (out[30:] == [1, 2, 3]).all() and (out[:, 40:] == [1, 2, 3]).all()
    out = vi.impad(img, padding=(1, 2, 3, 4), pad_val=9)
    assert out.shape == (36, 44, 3) and np.array_equal(out[2:32, 1:41], img) and out[0, 0, 0] == 9
    assert vi.impad(img, padding=2).shape == (34, 44, 3)
    assert vi.impad(img, padding=(1, 2)).shape == (34, 42, 3)
    for mode, np_mode in [("edge", "edge"), ("reflect", "reflect"), ("symmetric", "symmetric")]:
        got = vi.impad(img, padding=(1, 2, 3, 4), padding_mode=mode)
        assert np.array_equal(got, np.pad(img, ((2, 4), (1, 3), (0, 0)), mode=np_mode)), mode
    gray = vi.impad(img[..., 0], shape=(31, 41), pad_val=5)
    assert gray.shape == (31, 41) and gray[30, 40] == 5


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("dtype, channels", [(np.int64, 3), (np.uint8, 6), (bool, 1), (np.float32, 2)])
def test_impad_numpy_fallback_matches_cv2_path(mode, dtype, channels):
    arr = (np.arange(5 * 4 * channels).reshape(5, 4, channels) % 7).astype(dtype)
    got = vi.impad(arr, padding=(1, 2, 3, 0), pad_val=1, padding_mode=mode)
    widths = ((2, 0), (1, 3), (0, 0))
    kwargs = {"constant_values": 1} if mode == "constant" else {}
    assert got.dtype == arr.dtype and np.array_equal(got, np.pad(arr, widths, mode=mode, **kwargs))


def test_impad_errors(img):
    with pytest.raises(ValueError, match="exactly one of shape and padding"):
        vi.impad(img)
    with pytest.raises(ValueError, match=r"target shape \(10, 10\) is smaller than the image \(30, 40\)"):
        vi.impad(img, shape=(10, 10))
    with pytest.raises(ValueError, match="pad_val has 2 values but the image has 3 channels"):
        vi.impad(img, padding=1, pad_val=(1, 2))
    with pytest.raises(ValueError, match="non-negative"):
        vi.impad(img, padding=(-1, 0, 0, 0))
    with pytest.raises(ValueError, match="padding_mode"):
        vi.impad(img, padding=1, padding_mode="wrapped")


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 70), w=st.integers(1, 70), divisor=st.integers(1, 40))
def test_impad_to_multiple_sizes(h, w, divisor):
    out = vi.impad_to_multiple(np.ones((h, w), np.uint8), divisor)
    oh, ow = out.shape
    assert oh % divisor == 0 and ow % divisor == 0
    assert h <= oh < h + divisor and w <= ow < w + divisor
    assert out.sum() == h * w


def test_imcrop(img):
    patch = vi.imcrop(img, np.array([5, 6, 14, 20]))
    assert np.array_equal(patch, img[6:21, 5:15])
    patches = vi.imcrop(img, np.array([[0, 0, 9, 9], [30, 20, 60, 60]]))
    assert patches[0].shape == (10, 10, 3) and np.array_equal(patches[1], img[20:30, 30:40])
    padded = vi.imcrop(img, np.array([30, 20, 49, 39]), pad_fill=7)
    assert (
        padded.shape == (20, 20, 3) and np.array_equal(padded[:10, :10], img[20:30, 30:40]) and padded[-1, -1, 0] == 7
    )
    with pytest.raises(ValueError, match="bboxes must be"):
        vi.imcrop(img, np.zeros(3))


def test_imrotate(img):
    square = img[:, :30]
    assert np.array_equal(vi.imrotate(square, 90), np.rot90(square, -1))  # clockwise
    assert np.array_equal(vi.imrotate(square, -90), np.rot90(square, 1))
    assert vi.imrotate(img, 90, auto_bound=True).shape == (40, 30, 3)
    with pytest.raises(ValueError, match="auto_bound cannot be used"):
        vi.imrotate(img, 10, center=(1, 1), auto_bound=True)


# ---------------------------------------------------------------- photometric and colour
def test_imnormalize_matches_numpy(img):
    mean, std = np.array([123.675, 116.28, 103.53]), np.array([58.395, 57.12, 57.375])
    out = vi.imnormalize(img, mean, std, to_rgb=True)
    expected = (img[..., ::-1].astype(np.float64) - mean) / std
    assert out.dtype == np.float32 and np.allclose(out, expected, atol=1e-5)
    assert np.allclose(vi.imnormalize(img, mean, std, to_rgb=False), (img - mean) / std, atol=1e-5)
    back = vi.imdenormalize(out, mean, std, to_bgr=True)
    assert np.allclose(back, img, atol=1e-3)
    with pytest.raises(ValueError, match="std must be non-zero"):
        vi.imnormalize(img, mean, [1, 0, 1])
    with pytest.raises(ValueError, match="mean has 2 values but the image has 3 channels"):
        vi.imnormalize(img, [1, 2], std)
    with pytest.raises(TypeError, match="must be a float array"):
        vi.imnormalize_(img, mean, std)


def test_adjustments(img):
    assert np.array_equal(vi.adjust_brightness(img, 1.0), img)
    assert np.array_equal(vi.adjust_brightness(img, 0.5), (img * 0.5).astype(np.uint8))
    assert (vi.adjust_brightness(img, 0.0) == 0).all()
    flat = vi.adjust_contrast(img, 0.0)
    assert (flat == round(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).mean())).all()
    assert np.array_equal(vi.adjust_contrast(img, 1.0), img)
    gray = vi.adjust_color(img, 0.0)
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    assert np.array_equal(vi.adjust_color(img, 1.0), img)
    assert np.abs(vi.adjust_hue(img, 0.0).astype(int) - img).mean() < 1.5  # HSV round trip on uint8 is lossy
    red = np.zeros((1, 1, 3), np.uint8)
    red[..., 2] = 255
    green = vi.adjust_hue(red, 1 / 3)
    assert green[0, 0, 1] > 240 and green[0, 0, 2] < 15
    assert np.array_equal(vi.solarize(img, 128), np.where(img < 128, img, 255 - img))
    assert np.array_equal(vi.posterize(img, 3), img & 0b11100000)
    assert np.array_equal(vi.iminvert(img), 255 - img)
    with pytest.raises(ValueError, match="hue_factor"):
        vi.adjust_hue(img, 0.7)


def test_colour_conversions(img):
    assert np.array_equal(vi.bgr2rgb(img), img[..., ::-1])
    assert np.array_equal(vi.rgb2bgr(vi.bgr2rgb(img)), img)
    assert vi.bgr2gray(img, keepdim=True).shape == (30, 40, 1)
    assert np.array_equal(vi.gray2bgr(vi.bgr2gray(img))[..., 0], vi.bgr2gray(img))
    assert np.array_equal(vi.imconvert(img, "bgr", "hsv"), cv2.cvtColor(img, cv2.COLOR_BGR2HSV))
    assert np.abs(vi.hsv2bgr(vi.bgr2hsv(img)).astype(int) - img).mean() < 1.5
    with pytest.raises(ValueError, match="no conversion"):
        vi.imconvert(img, "bgr", "xyzw")
