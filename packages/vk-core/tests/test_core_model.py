"""BaseModel steps and parse_losses, data preprocessors, BaseTTAModel, model wrappers (DDP on gloo)."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from vk_core.model import (
    BaseDataPreprocessor,
    BaseModel,
    BaseTTAModel,
    ImgDataPreprocessor,
    VkDistributedDataParallel,
    find_unused_parameters,
    is_model_wrapper,
    revert_sync_batchnorm,
    stack_batch,
)
from vk_core.optim import OptimWrapper
from vk_core.registry import MODEL_WRAPPERS, MODELS
from vk_core.structures import BaseDataElement


class ToyModel(BaseModel):
    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.linear = nn.Linear(2, 3)

    def forward(self, inputs, data_samples=None, mode="tensor"):
        logits = self.linear(inputs)
        if mode == "loss":
            return {"loss": F.cross_entropy(logits, data_samples), "acc": (logits.argmax(1) == data_samples).float()}
        if mode == "predict":
            return logits.argmax(1)
        return logits


def _batch():
    return {"inputs": torch.tensor([[1.0, 0.0], [0.0, 1.0]]), "data_samples": torch.tensor([0, 2])}


def test_forward_modes_and_steps():
    torch.manual_seed(0)
    model = ToyModel()
    assert isinstance(model.data_preprocessor, BaseDataPreprocessor)
    assert model(_batch()["inputs"]).shape == (2, 3)
    assert model.val_step(_batch()).shape == (2,) and torch.equal(model.val_step(_batch()), model.test_step(_batch()))
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    first = model.train_step(_batch(), wrapper)
    assert list(first) == ["loss", "acc"] and not first["loss"].requires_grad
    for _ in range(20):
        last = model.train_step(_batch(), wrapper)
    assert last["loss"] < first["loss"]
    ref = F.cross_entropy(model.linear(_batch()["inputs"]), _batch()["data_samples"])
    assert model.train_step(_batch(), OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.0)))[
        "loss"
    ] == pytest.approx(ref.item())


def test_parse_losses_sums_keys_containing_loss():
    model = ToyModel()
    losses = {
        "loss_cls": torch.tensor([1.0, 3.0]),
        "s0.loss_bbox": [torch.tensor(1.0), torch.tensor([2.0, 4.0])],
        "acc": torch.tensor(50.0),
    }
    total, log_vars = model.parse_losses(losses)
    assert total.item() == pytest.approx(2.0 + 1.0 + 3.0)
    assert list(log_vars) == ["loss", "loss_cls", "s0.loss_bbox", "acc"]
    assert log_vars["acc"].item() == 50.0 and log_vars["s0.loss_bbox"].item() == 4.0
    with pytest.raises(TypeError, match="'loss_x'"):
        model.parse_losses({"loss_x": 1.0})
    with pytest.raises(ValueError, match="no key containing 'loss'"):
        model.parse_losses({"acc": torch.tensor(1.0)})
    with pytest.raises(TypeError, match="data_preprocessor"):
        ToyModel(data_preprocessor="Img")


def test_data_preprocessor_from_config_and_cast():
    model = ToyModel(data_preprocessor=dict(type="ImgDataPreprocessor", mean=[0], std=[1]))
    assert isinstance(model.data_preprocessor, ImgDataPreprocessor)
    pre = BaseDataPreprocessor()
    sample = BaseDataElement(metainfo={"id": 1})
    data = {"inputs": [torch.ones(1)], "data_samples": [sample], "name": "x", "pair": (torch.zeros(1), None)}
    out = pre(data)
    assert out["name"] == "x" and out["pair"][1] is None and isinstance(out["pair"], tuple)
    assert out["data_samples"][0].metainfo == {"id": 1}
    assert pre.device == torch.device("cpu")
    model.to(torch.float64)
    assert model.data_preprocessor.device == torch.device("cpu")


def test_img_preprocessor_pads_normalizes_and_swaps_channels():
    pre = ImgDataPreprocessor(
        mean=[1.0, 2.0, 3.0], std=[2.0, 2.0, 2.0], pad_size_divisor=4, pad_value=-1, bgr_to_rgb=True
    )
    a = torch.arange(3 * 5 * 6, dtype=torch.uint8).reshape(3, 5, 6)
    b = torch.full((3, 7, 3), 9, dtype=torch.uint8)
    out = pre({"inputs": [a, b], "data_samples": None})["inputs"]
    assert out.shape == (2, 3, 8, 8) and out.dtype == torch.float32
    mean = torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1)
    want_a = (a.flip(0).float() - mean) / 2
    assert torch.equal(out[0, :, :5, :6], want_a)
    assert torch.equal(out[1, :, :7, :3], (b.flip(0).float() - mean) / 2)
    assert torch.all(out[0, :, 5:, :] == -1) and torch.all(out[1, :, :, 3:] == -1)
    # a batched tensor is normalized and padded the same way
    batched = pre({"inputs": a.unsqueeze(0)})["inputs"]
    assert batched.shape == (1, 3, 8, 8) and torch.equal(batched[0, :, :5, :6], want_a)
    # float inputs are never normalized in place
    float_batch = torch.ones(1, 3, 4, 4)
    pre({"inputs": float_batch})
    pre({"inputs": [float_batch[0], float_batch[0, :, :2]]})
    assert float_batch.eq(1).all()
    # mixed dtypes take the per-image path with the same result
    mixed = pre({"inputs": [a.float(), b]})["inputs"]
    assert torch.equal(mixed, out)
    # equal sizes and divisor 1: a plain stack
    plain = ImgDataPreprocessor()({"inputs": [a, a]})["inputs"]
    assert torch.equal(plain, torch.stack([a, a]).float())


def test_img_preprocessor_errors():
    with pytest.raises(ValueError, match="both mean and std"):
        ImgDataPreprocessor(mean=[1, 2, 3])
    with pytest.raises(ValueError, match="at most one"):
        ImgDataPreprocessor(bgr_to_rgb=True, rgb_to_bgr=True)
    with pytest.raises(ValueError, match="1 or 3 numbers"):
        ImgDataPreprocessor(mean=[1, 2], std=[1, 2])
    pre = ImgDataPreprocessor(mean=[1, 2, 3], std=[1, 1, 1])
    with pytest.raises(ValueError, match="3 channels"):
        pre({"inputs": [torch.zeros(1, 4, 4)]})
    with pytest.raises(KeyError, match="'inputs'"):
        pre({"img": [torch.zeros(3, 4, 4)]})
    with pytest.raises(ValueError, match=r"inputs\[1\] must be \(C, H, W\)"):
        pre({"inputs": [torch.zeros(3, 4, 4), torch.zeros(4, 4)]})


def test_stack_batch():
    out = stack_batch([torch.ones(2, 3, 5), torch.ones(2, 4, 2)], pad_size_divisor=2, pad_value=7)
    assert out.shape == (2, 2, 4, 6)
    assert out[1, :, :4, :2].eq(1).all() and out[1, :, :, 2:].eq(7).all() and out[0, :, 3:, :].eq(7).all()
    with pytest.raises(ValueError, match="item 1"):
        stack_batch([torch.ones(2, 3, 5), torch.ones(3, 3, 5)])


class TTA(BaseTTAModel):
    def merge_preds(self, data_samples_list):
        self.merged = data_samples_list
        return [sum(preds) for preds in data_samples_list]


class CountingModel(ToyModel):
    calls = 0

    def test_step(self, data):
        self.calls += 1
        return [x.sum() for x in data["inputs"]]


def test_tta_regroups_augmentations():
    module = CountingModel()
    tta = TTA(module)
    img = [torch.ones(2), torch.full((2,), 2.0)]
    data = {"inputs": [[img[0], img[1]], [img[0] * 10, img[1] * 10]], "data_samples": [[None, None], [None, None]]}
    out = tta.test_step(data)
    assert module.calls == 2 and len(tta.merged) == 2 and len(tta.merged[0]) == 2
    assert [o.item() for o in out] == [2 + 20, 4 + 40]
    built = TTA(dict(type="MomentumAnnealingEMA", model=nn.Linear(1, 1)))
    assert built.module is not None


def test_model_wrappers_registry_and_sync_bn():
    assert MODEL_WRAPPERS.get("VkDistributedDataParallel") is VkDistributedDataParallel
    assert is_model_wrapper(nn.DataParallel(nn.Linear(1, 1)))
    assert not is_model_wrapper(nn.Linear(1, 1))
    assert MODELS.get("ImgDataPreprocessor") is ImgDataPreprocessor
    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.SyncBatchNorm(2))
    model[1].running_mean.fill_(3)
    reverted = revert_sync_batchnorm(model)
    assert type(reverted[1]) is nn.BatchNorm2d and reverted[1].running_mean.eq(3).all()


class PartlyUsed(ToyModel):
    def __init__(self):
        super().__init__()
        self.unused = nn.Linear(2, 2)


def test_find_unused_parameters():
    model = PartlyUsed()
    loss, _ = model.parse_losses(model(**_batch(), mode="loss"))
    assert find_unused_parameters(loss, model) == ["unused.weight", "unused.bias"]


@pytest.fixture
def gloo_group(tmp_path):
    import torch.distributed as dist

    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    if dist.is_initialized():
        pytest.skip("a process group is already initialized in this process")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_ddp_wrapper_train_step_matches_plain_model(gloo_group):
    torch.manual_seed(0)
    plain = ToyModel()
    wrapped_model = ToyModel()
    wrapped_model.load_state_dict(plain.state_dict())
    ddp = VkDistributedDataParallel(wrapped_model)
    assert is_model_wrapper(ddp) and ddp.module is wrapped_model
    w1 = OptimWrapper(torch.optim.SGD(plain.parameters(), lr=0.1))
    w2 = OptimWrapper(torch.optim.SGD(ddp.parameters(), lr=0.1))
    for _ in range(3):
        a = plain.train_step(_batch(), w1)
        b = ddp.train_step(_batch(), w2)
        assert a["loss"].item() == pytest.approx(b["loss"].item())
    assert torch.allclose(plain.linear.weight, wrapped_model.linear.weight)
    assert torch.equal(ddp.val_step(_batch()), plain.val_step(_batch()))


def test_ddp_unused_parameters_are_named(gloo_group):
    ddp = VkDistributedDataParallel(PartlyUsed())
    wrapper = OptimWrapper(torch.optim.SGD(ddp.parameters(), lr=0.1))
    with pytest.raises(RuntimeError, match=r"unused\.weight, unused\.bias.*find_unused_parameters=True"):
        for _ in range(2):
            ddp.train_step(_batch(), wrapper)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(1, 9), st.integers(1, 9)), min_size=1, max_size=4),
    divisor=st.integers(1, 5),
)
def test_stack_batch_property(sizes, divisor):
    tensors = [torch.full((2, h, w), float(i + 1)) for i, (h, w) in enumerate(sizes)]
    out = stack_batch(tensors, pad_size_divisor=divisor, pad_value=-1)
    max_h, max_w = max(h for h, _ in sizes), max(w for _, w in sizes)
    assert out.shape[2] % divisor == 0 and out.shape[3] % divisor == 0
    assert max_h <= out.shape[2] < max_h + divisor and max_w <= out.shape[3] < max_w + divisor
    for i, (h, w) in enumerate(sizes):
        assert out[i, :, :h, :w].eq(i + 1).all()
        assert (out[i] == -1).sum() == 2 * (out.shape[2] * out.shape[3] - h * w)
