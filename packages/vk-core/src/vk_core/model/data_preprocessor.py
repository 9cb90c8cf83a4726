"""Data preprocessors: move a dataloader batch to the model's device and turn images into a padded batch."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from vk_core.registry import MODELS


def stack_batch(tensor_list: list[torch.Tensor], pad_size_divisor: int = 1, pad_value: float = 0) -> torch.Tensor:
    """Stack tensors of shape (C, *spatial) into one batch, padding right/bottom to the largest size.

    Every spatial size of the batch is rounded up to a multiple of ``pad_size_divisor``; the channel dimension
    must agree.
    """
    if not isinstance(tensor_list, (list, tuple)) or not tensor_list:
        raise ValueError(f"stack_batch expects a non-empty list of tensors, got {type(tensor_list).__name__}")
    first = tensor_list[0]
    for i, t in enumerate(tensor_list):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"stack_batch: item {i} is a {type(t).__name__}, expected a tensor")
        if t.dim() != first.dim() or t.shape[0] != first.shape[0]:
            raise ValueError(
                f"stack_batch: item {i} has shape {tuple(t.shape)}, item 0 has {tuple(first.shape)}; all items "
                f"need the same number of dimensions and channels"
            )
    if not isinstance(pad_size_divisor, int) or pad_size_divisor < 1:
        raise ValueError(f"stack_batch: pad_size_divisor must be a positive int, got {pad_size_divisor!r}")
    spatial = [max(t.shape[d] for t in tensor_list) for d in range(1, first.dim())]
    spatial = [math.ceil(s / pad_size_divisor) * pad_size_divisor for s in spatial]
    if all(tuple(t.shape[1:]) == tuple(spatial) for t in tensor_list):
        return torch.stack(tensor_list)
    batch = first.new_full((len(tensor_list), first.shape[0], *spatial), pad_value)
    for i, t in enumerate(tensor_list):
        batch[(i, slice(None), *(slice(0, s) for s in t.shape[1:]))] = t
    return batch


@MODELS.register_module()
class BaseDataPreprocessor(nn.Module):
    """Moves every tensor (and data element with ``.to``) of a batch to the preprocessor's device.

    ``forward(data, training)`` returns the batch on the device; subclasses add normalization and batching.
    The device follows the module: ``model.to('cuda')`` moves the preprocessor too.
    """

    def __init__(self, non_blocking: bool = False):
        super().__init__()
        self._non_blocking = non_blocking
        self._device = torch.device("cpu")

    @property
    def device(self) -> torch.device:
        return self._device

    def cast_data(self, data):
        if isinstance(data, Mapping):
            return {key: self.cast_data(value) for key, value in data.items()}
        if isinstance(data, (str, bytes)) or data is None:
            return data
        if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
            return type(data)(*(self.cast_data(item) for item in data))
        if isinstance(data, Sequence):
            return type(data)(self.cast_data(item) for item in data)
        if isinstance(data, torch.Tensor):
            return data.to(self._device, non_blocking=self._non_blocking)
        if hasattr(data, "to") and not isinstance(data, nn.Module):
            return data.to(self._device)
        return data

    def forward(self, data: dict, training: bool = False):
        return self.cast_data(data)

    def _apply(self, fn, *args, **kwargs):
        # Every device move (to/cuda/cpu) ends here; a probe tensor tells where fn sends data.
        result = super()._apply(fn, *args, **kwargs)
        probe = fn(torch.empty(0, device=self._device))
        self._device = probe.device
        return result


def _check_pixels(value, name: str) -> list[float]:
    if isinstance(value, (int, float)):
        value = [value]
    values = list(value)
    if len(values) not in (1, 3) or not all(isinstance(v, (int, float)) for v in values):
        raise ValueError(f"ImgDataPreprocessor: {name} must be 1 or 3 numbers, got {value!r}")
    return [float(v) for v in values]


@MODELS.register_module()
class ImgDataPreprocessor(BaseDataPreprocessor):
    """Images to a normalized, padded float batch.

    ``data['inputs']`` is a list of (C, H, W) tensors (any sizes, usually uint8) or a (N, C, H, W) tensor.
    Steps: optional BGR<->RGB swap, ``(x - mean) / std``, then right/bottom padding with ``pad_value`` to the
    batch's largest size rounded up to ``pad_size_divisor``. ``mean`` and ``std`` are both given or both None.
    """

    def __init__(
        self,
        mean=None,
        std=None,
        pad_size_divisor: int = 1,
        pad_value: float = 0,
        bgr_to_rgb: bool = False,
        rgb_to_bgr: bool = False,
        non_blocking: bool = False,
    ):
        super().__init__(non_blocking)
        if bgr_to_rgb and rgb_to_bgr:
            raise ValueError("ImgDataPreprocessor: set at most one of bgr_to_rgb and rgb_to_bgr")
        if (mean is None) != (std is None):
            raise ValueError(f"ImgDataPreprocessor: give both mean and std or neither, got mean={mean}, std={std}")
        if not isinstance(pad_size_divisor, int) or pad_size_divisor < 1:
            raise ValueError(f"ImgDataPreprocessor: pad_size_divisor must be a positive int, got {pad_size_divisor!r}")
        self._enable_normalize = mean is not None
        if self._enable_normalize:
            mean, std = _check_pixels(mean, "mean"), _check_pixels(std, "std")
            if any(s == 0 for s in std):
                raise ValueError(f"ImgDataPreprocessor: std must be non-zero, got {std}")
            self.register_buffer("mean", torch.tensor(mean).view(-1, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(std).view(-1, 1, 1), persistent=False)
        self._channel_conversion = bgr_to_rgb or rgb_to_bgr
        self.pad_size_divisor = pad_size_divisor
        self.pad_value = pad_value

    def _convert(self, img: torch.Tensor, where: str) -> torch.Tensor:
        channel_dim = img.dim() - 3
        if self._enable_normalize and self.mean.shape[0] == 3 and img.shape[channel_dim] != 3:
            raise ValueError(
                f"ImgDataPreprocessor: {where} has shape {tuple(img.shape)}, but a 3-value mean/std needs 3 channels"
            )
        source = img
        if self._channel_conversion and img.shape[channel_dim] == 3:
            img = img.flip(channel_dim)  # flipping before the float cast moves 1-byte pixels
        img = img.float()
        if self._enable_normalize:
            if img is source:  # never normalize the caller's tensor in place
                img = img.clone()
            img.sub_(self.mean).div_(self.std)
        return img

    def _pad_then_convert(self, images: list[torch.Tensor]) -> torch.Tensor:
        # Batch the raw (usually uint8) images first, then convert and normalize the whole batch in a few large
        # operations instead of several per image; the padding is rewritten with pad_value afterwards, since
        # pad_value is expressed in normalized units. Per-element results equal the per-image path exactly.
        batch = stack_batch(images, self.pad_size_divisor, 0)
        batch = self._convert(batch, "inputs")
        if self.pad_value != 0 or self._enable_normalize:
            height, width = batch.shape[2:]
            for i, img in enumerate(images):
                h, w = img.shape[1:]
                if h < height:
                    batch[i, :, h:, :] = self.pad_value
                if w < width:
                    batch[i, :, :h, w:] = self.pad_value
        return batch

    def forward(self, data: dict, training: bool = False) -> dict:
        if not isinstance(data, Mapping) or "inputs" not in data:
            got = sorted(data) if isinstance(data, Mapping) else type(data).__name__
            raise KeyError(f"{type(self).__name__}: the batch must be a dict with an 'inputs' key, got {got}")
        data = self.cast_data(data)
        inputs = data["inputs"]
        if isinstance(inputs, torch.Tensor):
            if inputs.dim() != 4:
                raise ValueError(
                    f"{type(self).__name__}: a tensor batch must be (N, C, H, W), got {tuple(inputs.shape)}"
                )
            batch = self._convert(inputs, "inputs")
            h, w = batch.shape[2:]
            th = math.ceil(h / self.pad_size_divisor) * self.pad_size_divisor
            tw = math.ceil(w / self.pad_size_divisor) * self.pad_size_divisor
            if (th, tw) != (h, w):
                batch = nn.functional.pad(batch, (0, tw - w, 0, th - h), value=self.pad_value)
        elif isinstance(inputs, (list, tuple)) and inputs and all(isinstance(t, torch.Tensor) for t in inputs):
            for i, t in enumerate(inputs):
                if t.dim() != 3:
                    raise ValueError(f"{type(self).__name__}: inputs[{i}] must be (C, H, W), got {tuple(t.shape)}")
            if all(t.dtype == inputs[0].dtype for t in inputs):
                batch = self._pad_then_convert(list(inputs))
            else:
                batch = stack_batch(
                    [self._convert(t, f"inputs[{i}]") for i, t in enumerate(inputs)],
                    self.pad_size_divisor,
                    self.pad_value,
                )
        else:
            raise TypeError(
                f"{type(self).__name__}: data['inputs'] must be a (N, C, H, W) tensor or a non-empty list of "
                f"(C, H, W) tensors, got {type(inputs).__name__}"
            )
        data = dict(data)
        data["inputs"] = batch
        data.setdefault("data_samples", None)
        return data
