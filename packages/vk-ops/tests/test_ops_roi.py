import pytest
import torch
import vk_ops
from vk_ops import reference


def make_rois(k, seed, batch=2, size=40.0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(k, 2, generator=g, dtype=torch.float64) * size
    wh = torch.rand(k, 2, generator=g, dtype=torch.float64) * size / 2
    b = torch.randint(0, batch, (k, 1), generator=g).double()
    rois = torch.cat([b, xy, xy + wh], 1)
    if k > 2:
        rois[0, 1:] = torch.tensor([-6.0, -6.0, 90.0, 90.0])  # partly outside the map
        rois[1, 3:] = rois[1, 1:3]  # zero size
    return rois.to(dtype)


def features(seed, shape=(2, 5, 18, 22), dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("pool_mode", ["avg", "max"])
@pytest.mark.parametrize("sampling_ratio", [0, 2])
@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("k", [0, 1, 25])
def test_roi_align_matches_reference(dtype, pool_mode, sampling_ratio, aligned, k):
    x = features(k, dtype=dtype)
    rois = make_rois(k, seed=k, dtype=dtype)
    got = vk_ops.roi_align(x, rois, (7, 6), 0.5, sampling_ratio, pool_mode, aligned)
    want = reference.roi_align(x, rois, (7, 6), 0.5, sampling_ratio, pool_mode, aligned)
    assert got.shape == (k, 5, 7, 6) and got.dtype == dtype
    torch.testing.assert_close(got, want)


def test_roi_align_half_matches_reference():
    x = features(1, dtype=torch.float16)
    rois = make_rois(10, seed=1, dtype=torch.float16)
    got = vk_ops.roi_align(x, rois, 4, 0.5, 2)
    want = reference.roi_align(x, rois, 4, 0.5, 2)
    assert got.dtype == torch.float16
    torch.testing.assert_close(got, want, rtol=2e-3, atol=2e-3)


def test_roi_align_on_a_ramp_is_hand_computable():
    # f(y, x) = x: bilinear sampling is exact, so each bin averages its sample x coordinates: with aligned=True
    # the RoI starts at x1 - 0.5 and bin pw is centred at x1 - 0.5 + (pw + 0.5) * bin_w.
    x = torch.arange(10, dtype=torch.float64).expand(1, 1, 10, 10).contiguous()
    rois = torch.tensor([[0.0, 1.0, 1.0, 8.0, 8.0]], dtype=torch.float64)
    out = vk_ops.roi_align(x, rois, 7, 1.0, 2, "avg", True)
    expected = (torch.arange(7, dtype=torch.float64) + 1.0).expand(7, 7)
    torch.testing.assert_close(out[0, 0], expected)
    legacy = vk_ops.roi_align(x, rois, 7, 1.0, 2, "avg", False)
    torch.testing.assert_close(legacy[0, 0], expected + 0.5)


def test_roi_align_backward_matches_reference_autograd():
    x = features(3)
    rois = make_rois(20, seed=3)
    for mode in ("avg", "max"):
        a = x.clone().requires_grad_()
        b = x.clone().requires_grad_()
        g = torch.randn(20, 5, 3, 4, dtype=torch.float64)
        (vk_ops.roi_align(a, rois, (3, 4), 0.5, 0, mode) * g).sum().backward()
        (reference.roi_align(b, rois, (3, 4), 0.5, 0, mode) * g).sum().backward()
        torch.testing.assert_close(a.grad, b.grad)


@pytest.mark.parametrize("pool_mode", ["avg", "max"])
def test_roi_align_gradcheck(pool_mode):
    x = features(4, shape=(2, 2, 9, 8)).requires_grad_()
    rois = torch.tensor([[0, 1.0, 1.5, 12.0, 10.0], [1, 3.0, 0.5, 7.0, 14.0]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: vk_ops.roi_align(t, rois, 3, 0.5, 2, pool_mode, True), (x,))


def test_roi_align_module_and_validation():
    m = vk_ops.RoIAlign((2, 3), spatial_scale=0.25, sampling_ratio=2)
    assert "output_size=(2, 3)" in repr(m)
    x, rois = features(5), make_rois(4, seed=5)
    torch.testing.assert_close(m(x, rois), vk_ops.roi_align(x, rois, (2, 3), 0.25, 2))
    with pytest.raises(ValueError, match=r"rois\[1, 0\] = 7(\.0)? is not a batch index of the input \(batch size 2\)"):
        vk_ops.roi_align(x, torch.tensor([[0, 1, 1, 4, 4], [7, 1, 1, 4, 4]], dtype=torch.float64), 2)
    with pytest.raises(ValueError, match=r"rois\[0\] has a negative width or height"):
        vk_ops.roi_align(x, torch.tensor([[0, 5, 5, 4, 9]], dtype=torch.float64), 2)
    with pytest.raises(ValueError, match=r"rois must have shape \(K, 5\)"):
        vk_ops.roi_align(x, torch.zeros(3, 4, dtype=torch.float64), 2)
    with pytest.raises(ValueError, match="pool_mode must be 'avg' or 'max'"):
        vk_ops.roi_align(x, rois, 2, pool_mode="sum")
    with pytest.raises(ValueError, match="output_size must be a positive int"):
        vk_ops.roi_align(x, rois, (0, 2))
    with pytest.raises(ValueError, match="input is torch.float64 on cpu but rois are torch.float32"):
        vk_ops.roi_align(x, rois.float(), 2)


def test_roi_pool_hand_computed():
    x = torch.arange(64, dtype=torch.float32).view(1, 1, 8, 8)
    # The RoI spans pixels 0..3 (x2 + 1 convention): 2x2 bins of 2x2 pixels, max at each bin's bottom-right.
    out = vk_ops.roi_pool(x, torch.tensor([[0.0, 0.0, 0.0, 3.0, 3.0]]), 2)
    torch.testing.assert_close(out[0, 0], torch.tensor([[9.0, 11.0], [25.0, 27.0]]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("k", [0, 1, 30])
def test_roi_pool_matches_reference(dtype, k):
    x = features(k, dtype=dtype)
    rois = make_rois(k, seed=k + 1, dtype=dtype)
    got = vk_ops.RoIPool((3, 5), 0.5)(x, rois)
    want = reference.roi_pool(x, rois, (3, 5), 0.5)
    assert got.shape == (k, 5, 3, 5)
    torch.testing.assert_close(got, want)


def test_roi_pool_gradcheck_and_backward():
    x = features(6, shape=(2, 2, 8, 9)).requires_grad_()
    rois = torch.tensor([[0, 0.0, 1.0, 10.0, 12.0], [1, 4.0, 2.0, 9.0, 6.0]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: vk_ops.roi_pool(t, rois, 3, 0.5), (x,))
    a, b = x.detach().clone().requires_grad_(), x.detach().clone().requires_grad_()
    vk_ops.roi_pool(a, rois, 2, 0.5).sum().backward()
    reference.roi_pool(b, rois, 2, 0.5).sum().backward()
    torch.testing.assert_close(a.grad, b.grad)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("sampling_ratio", [0, 2])
@pytest.mark.parametrize("aligned", [True, False])
def test_roi_align_many_channels_matches_reference(dtype, sampling_ratio, aligned):
    # 16+ channels take the channels-last average path of the CPU kernel.
    x = features(7, shape=(2, 32, 20, 17), dtype=dtype)
    rois = make_rois(30, seed=7, dtype=dtype)
    got = vk_ops.roi_align(x, rois, (5, 4), 0.5, sampling_ratio, "avg", aligned)
    want = reference.roi_align(x, rois, (5, 4), 0.5, sampling_ratio, "avg", aligned)
    tol = dict(rtol=2e-3, atol=2e-3) if dtype == torch.float16 else {}
    torch.testing.assert_close(got, want, **tol)
    a = x.double().requires_grad_()
    b = x.double().requires_grad_()
    vk_ops.roi_align(a, rois.double(), (5, 4), 0.5, sampling_ratio).sum().backward()
    reference.roi_align(b, rois.double(), (5, 4), 0.5, sampling_ratio).sum().backward()
    torch.testing.assert_close(a.grad, b.grad)
