"""Necks: FPN extra-level sources and top-down pathway, ChannelMapper."""

import pytest
import torch
import torch.nn.functional as F
from vk_det.models.necks import FPN, ChannelMapper

IN_CHANNELS = [8, 16, 32, 64]


def _feats():
    torch.manual_seed(0)
    return [torch.randn(1, c, 32 // 2**i, 32 // 2**i) for i, c in enumerate(IN_CHANNELS)]


@pytest.mark.parametrize("source,first_in", [("on_input", 64), ("on_lateral", 16), ("on_output", 16), (True, 64)])
def test_fpn_extra_conv_sources(source, first_in):
    fpn = FPN(IN_CHANNELS, 16, num_outs=6, start_level=1, add_extra_convs=source)
    assert fpn.fpn_convs[3].conv.in_channels == first_in
    outs = fpn(_feats())
    assert [tuple(o.shape[2:]) for o in outs] == [(16, 16), (8, 8), (4, 4), (2, 2), (1, 1), (1, 1)]
    assert all(o.shape[1] == 16 for o in outs)


def test_fpn_max_pool_extra_levels():
    fpn = FPN(IN_CHANNELS, 16, num_outs=5)
    outs = fpn(_feats())
    assert len(outs) == 5
    torch.testing.assert_close(outs[4], F.max_pool2d(outs[3], 1, stride=2))


def test_fpn_relu_before_extra_convs():
    torch.manual_seed(1)
    plain = FPN(IN_CHANNELS, 16, num_outs=6, start_level=1, add_extra_convs="on_output")
    relu = FPN(IN_CHANNELS, 16, num_outs=6, start_level=1, add_extra_convs="on_output", relu_before_extra_convs=True)
    relu.load_state_dict(plain.state_dict())
    a, b = plain(_feats()), relu(_feats())
    # The first extra level (index 3) reads the FPN output directly; only later extra convs see a ReLU.
    for i in range(4):
        torch.testing.assert_close(a[i], b[i])
    torch.testing.assert_close(b[4], relu.fpn_convs[4](F.relu(b[3])))
    torch.testing.assert_close(a[4], plain.fpn_convs[4](a[3]))
    assert not torch.allclose(a[4], b[4])


def test_fpn_top_down_reaches_lower_levels():
    fpn = FPN(IN_CHANNELS, 16, num_outs=4)
    feats = [f.requires_grad_() for f in _feats()]
    fpn(feats)[0].sum().backward()
    assert feats[3].grad is not None and feats[3].grad.abs().sum() > 0


def test_fpn_errors():
    with pytest.raises(ValueError, match="add_extra_convs must be a bool or one of"):
        FPN(IN_CHANNELS, 16, num_outs=6, add_extra_convs="on_top")
    with pytest.raises(ValueError, match="num_outs \\(2\\) must be >= the number of used input levels \\(4\\)"):
        FPN(IN_CHANNELS, 16, num_outs=2)
    with pytest.raises(ValueError, match="expected 4 input levels, got 3"):
        FPN(IN_CHANNELS, 16, num_outs=4)(_feats()[:3])


def test_channel_mapper():
    mapper = ChannelMapper(IN_CHANNELS[1:], 24, kernel_size=1, num_outs=4)
    outs = mapper(_feats()[1:])
    assert [tuple(o.shape[1:]) for o in outs] == [(24, 16, 16), (24, 8, 8), (24, 4, 4), (24, 2, 2)]
    assert mapper.extra_convs[0].conv.in_channels == 64
    with pytest.raises(ValueError, match="num_outs \\(1\\) must be >="):
        ChannelMapper([8, 16], 4, num_outs=1)
