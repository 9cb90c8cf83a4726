"""Imports of the vk-core / vk-det / vk-ops building blocks the models use, in one place.

The model code was written in parallel with vk_core.model, vk_core.structures, the vk_det registries and the
vk-ops detection kernels. Every name is imported from its owner when it exists; the small stand-ins below are
used only while the owner's module is missing, so the models stay importable and testable on their own.
They follow the MMEngine/MMCV semantics the owners implement, and are dropped once the owners' modules land.
"""

from __future__ import annotations

import copy
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------- registries
try:
    from vk_det.registry import MODELS, TASK_UTILS
except ImportError:  # pragma: no cover - depends on what has landed

    class _Registry:
        """Name -> class table with MMEngine's build(cfg) convention (stand-in for vk_core.registry)."""

        def __init__(self, name):
            self.name = name
            self._modules = {}

        def register_module(self, name=None, force=False, module=None):
            def _register(cls):
                key = name or cls.__name__
                if key in self._modules and not force:
                    raise KeyError(f"{key} is already registered in {self.name}")
                self._modules[key] = cls
                return cls

            return _register(module) if module is not None else _register

        def get(self, name):
            if not isinstance(name, str):
                return name
            return self._modules.get(name.split(".")[-1])

        def __contains__(self, name):
            return self.get(name) is not None

        def build(self, cfg, *args, **kwargs):
            if not isinstance(cfg, dict) or "type" not in cfg:
                raise TypeError(f"{self.name}: config must be a dict with a 'type' key, got {cfg!r}")
            cfg = dict(cfg)
            obj_type = cfg.pop("type")
            cls = self.get(obj_type)
            if cls is None:
                raise KeyError(f"{obj_type!r} is not in the {self.name} registry")
            return cls(*args, **cfg, **kwargs)

    MODELS = _Registry("model")
    TASK_UTILS = _Registry("task util")

# ---------------------------------------------------------------------------------------------- structures
try:
    from vk_core.structures import InstanceData
except ImportError:  # pragma: no cover

    class InstanceData:
        """Fields of equal length, indexable together (stand-in for vk_core.structures.InstanceData)."""

        def __init__(self, metainfo=None, **kwargs):
            object.__setattr__(self, "_fields", {})
            object.__setattr__(self, "_metainfo", dict(metainfo or {}))
            for k, v in kwargs.items():
                setattr(self, k, v)

        def __setattr__(self, name, value):
            self._fields[name] = value

        def __getattr__(self, name):
            try:
                return self._fields[name]
            except KeyError:
                raise AttributeError(name) from None

        def __delattr__(self, name):
            del self._fields[name]

        def __contains__(self, name):
            return name in self._fields

        def get(self, name, default=None):
            return self._fields.get(name, default)

        def keys(self):
            return list(self._fields)

        @property
        def metainfo(self):
            return dict(self._metainfo)

        def __len__(self):
            for v in self._fields.values():
                return len(v)
            return 0

        def __getitem__(self, item):
            if isinstance(item, int):
                item = slice(item, item + 1 if item != -1 else None)
            out = InstanceData(metainfo=self._metainfo)
            for k, v in self._fields.items():
                if isinstance(v, torch.Tensor):
                    out._fields[k] = v[item]
                else:
                    idx = item
                    if isinstance(idx, torch.Tensor):
                        if idx.dtype == torch.bool:
                            idx = idx.nonzero().flatten()
                        out._fields[k] = [v[i] for i in idx.tolist()]
                    else:
                        out._fields[k] = v[idx]
            return out

        @staticmethod
        def cat(items):
            out = InstanceData(metainfo=items[0]._metainfo)
            for k in items[0].keys():
                vals = [it._fields[k] for it in items]
                out._fields[k] = torch.cat(vals) if isinstance(vals[0], torch.Tensor) else sum(vals, [])
            return out

        def __repr__(self):
            return f"InstanceData({', '.join(self._fields)})"


# ---------------------------------------------------------------------------------------------- modules
try:
    from vk_core.model import BaseModule
except ImportError:  # pragma: no cover

    class BaseModule(nn.Module):
        """nn.Module carrying an ``init_cfg`` (stand-in for vk_core.model.BaseModule)."""

        def __init__(self, init_cfg=None):
            super().__init__()
            self.init_cfg = copy.deepcopy(init_cfg)
            self._is_init = False

        @property
        def is_init(self):
            return self._is_init

        def init_weights(self):
            for cfg in _as_list(self.init_cfg):
                _apply_init(self, cfg)
            for m in self.children():
                if hasattr(m, "init_weights"):
                    m.init_weights()
            self._is_init = True


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, list | tuple) else [x]


def _apply_init(module, cfg):  # pragma: no cover - only used by the stand-in BaseModule
    cfg = dict(cfg)
    kind = cfg.pop("type")
    layers = _as_list(cfg.pop("layer", None))
    override = _as_list(cfg.pop("override", None))
    if kind == "Pretrained":
        ckpt = torch.load(cfg["checkpoint"], map_location="cpu", weights_only=True)
        state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else ckpt
        prefix = cfg.get("prefix")
        if prefix:
            state = {k[len(prefix) + 1 :]: v for k, v in state.items() if k.startswith(prefix + ".")}
        module.load_state_dict(state, strict=False)
        return
    for m in module.modules():
        if type(m).__name__ in layers or (not layers and m is module):
            _init_one(m, kind, cfg)
    for o in override:
        o = dict(o)
        sub = getattr(module, o.pop("name"))
        o.setdefault("type", kind)
        for k, v in cfg.items():
            o.setdefault(k, v)
        _init_one(sub, o.pop("type"), o)


def _init_one(m, kind, cfg):  # pragma: no cover
    w = getattr(m, "weight", None)
    b = getattr(m, "bias", None)
    if w is None:
        return
    if kind == "Normal":
        nn.init.normal_(w, cfg.get("mean", 0.0), cfg.get("std", 1.0))
    elif kind == "Constant":
        nn.init.constant_(w, cfg.get("val", 0.0))
    elif kind == "Kaiming":
        nn.init.kaiming_normal_(w, mode=cfg.get("mode", "fan_out"), nonlinearity=cfg.get("nonlinearity", "relu"))
    elif kind == "Xavier":
        nn.init.xavier_uniform_(w, gain=cfg.get("gain", 1.0))
    if b is not None:
        nn.init.constant_(b, cfg.get("bias", 0.0))


try:
    from vk_core.model import ConvModule, build_activation_layer, build_conv_layer, build_norm_layer
except ImportError:  # pragma: no cover
    _NORM_ABBR = {"BN": ("bn", nn.BatchNorm2d), "SyncBN": ("bn", nn.BatchNorm2d), "GN": ("gn", None)}
    _NORM_ABBR.update({"BN2d": ("bn", nn.BatchNorm2d), "LN": ("ln", nn.LayerNorm), "IN": ("in", nn.InstanceNorm2d)})

    def build_norm_layer(cfg, num_features, postfix=""):
        cfg = dict(cfg)
        kind = cfg.pop("type")
        if kind not in _NORM_ABBR:
            raise KeyError(f"norm type {kind!r} unknown, expected one of {sorted(_NORM_ABBR)}")
        abbr, cls = _NORM_ABBR[kind]
        requires_grad = cfg.pop("requires_grad", True)
        cfg.setdefault("eps", 1e-5)
        if kind == "GN":
            layer = nn.GroupNorm(num_channels=num_features, **cfg)
        else:
            layer = cls(num_features, **cfg)
        for p in layer.parameters():
            p.requires_grad = requires_grad
        return f"{abbr}{postfix}", layer

    def build_conv_layer(cfg, *args, **kwargs):
        cfg = dict(cfg or {"type": "Conv2d"})
        kind = cfg.pop("type")
        if kind not in ("Conv2d", "Conv"):
            raise KeyError(f"conv type {kind!r} is not available yet")
        return nn.Conv2d(*args, **kwargs, **cfg)

    def build_activation_layer(cfg):
        cfg = dict(cfg)
        kind = cfg.pop("type")
        table = {"ReLU": nn.ReLU, "ReLU6": nn.ReLU6, "LeakyReLU": nn.LeakyReLU, "Sigmoid": nn.Sigmoid}
        table.update({"SiLU": nn.SiLU, "Swish": nn.SiLU, "GELU": nn.GELU})
        return table[kind](**cfg)

    class ConvModule(nn.Module):
        """conv -> norm -> activation with MMCV's attribute names (``conv``, ``bn``/``gn``, ``activate``)."""

        def __init__(
            self,
            in_channels,
            out_channels,
            kernel_size,
            stride=1,
            padding=0,
            dilation=1,
            groups=1,
            bias="auto",
            conv_cfg=None,
            norm_cfg=None,
            act_cfg=None,
            inplace=True,
            order=("conv", "norm", "act"),
            **kwargs,
        ):
            super().__init__()
            act_cfg = {"type": "ReLU"} if act_cfg is None and "act_cfg" not in kwargs else act_cfg
            self.with_norm = norm_cfg is not None
            self.with_activation = act_cfg is not None
            if bias == "auto":
                bias = not self.with_norm
            self.conv = build_conv_layer(
                conv_cfg, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias=bias
            )
            self.order = order
            if self.with_norm:
                norm_ch = out_channels if order.index("norm") > order.index("conv") else in_channels
                self.norm_name, norm = build_norm_layer(norm_cfg, norm_ch)
                self.add_module(self.norm_name, norm)
            if self.with_activation:
                act_cfg = dict(act_cfg)
                if act_cfg["type"] in ("ReLU", "ReLU6", "LeakyReLU", "SiLU"):
                    act_cfg.setdefault("inplace", inplace)
                self.activate = build_activation_layer(act_cfg)
            nn.init.kaiming_normal_(self.conv.weight, mode="fan_out", nonlinearity="relu")
            if self.conv.bias is not None:
                nn.init.zeros_(self.conv.bias)

        @property
        def norm(self):
            return getattr(self, self.norm_name) if self.with_norm else None

        def forward(self, x, activate=True, norm=True):
            for layer in self.order:
                if layer == "conv":
                    x = self.conv(x)
                elif layer == "norm" and norm and self.with_norm:
                    x = self.norm(x)
                elif layer == "act" and activate and self.with_activation:
                    x = self.activate(x)
            return x


# ---------------------------------------------------------------------------------------------- ops
def bbox_overlaps(bboxes1, bboxes2, mode="iou", aligned=False, offset=0, eps=1e-6):
    """IoU/IoF/GIoU through vk_ops, tolerant of empty inputs and of extra leading batch dimensions."""
    if bboxes1.numel() == 0 or bboxes2.numel() == 0:
        if aligned:
            return bboxes1.new_zeros(bboxes1.shape[:-1])
        return bboxes1.new_zeros(bboxes1.shape[:-1] + bboxes2.shape[-2:-1])
    import vk_ops

    if bboxes1.dim() == 2 and bboxes2.dim() == 2:
        return vk_ops.bbox_overlaps(bboxes1.float().contiguous(), bboxes2.float().contiguous(), mode, aligned, offset)
    return _overlaps_torch(bboxes1, bboxes2, mode, aligned, eps)


def _overlaps_torch(b1, b2, mode, aligned, eps):
    area1 = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1])
    area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])
    if aligned:
        lt = torch.max(b1[..., :2], b2[..., :2])
        rb = torch.min(b1[..., 2:], b2[..., 2:])
        wh = (rb - lt).clamp(min=0)
        overlap = wh[..., 0] * wh[..., 1]
        union = area1 + area2 - overlap if mode in ("iou", "giou") else area1
        ious = overlap / union.clamp(min=eps)
        if mode == "giou":
            elt = torch.min(b1[..., :2], b2[..., :2])
            erb = torch.max(b1[..., 2:], b2[..., 2:])
            ewh = (erb - elt).clamp(min=0)
            enclose = (ewh[..., 0] * ewh[..., 1]).clamp(min=eps)
            ious = ious - (enclose - union) / enclose
        return ious
    lt = torch.max(b1[..., :, None, :2], b2[..., None, :, :2])
    rb = torch.min(b1[..., :, None, 2:], b2[..., None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    overlap = wh[..., 0] * wh[..., 1]
    union = area1[..., None] + area2[..., None, :] - overlap if mode in ("iou", "giou") else area1[..., None]
    ious = overlap / union.clamp(min=eps)
    if mode == "giou":
        elt = torch.min(b1[..., :, None, :2], b2[..., None, :, :2])
        erb = torch.max(b1[..., :, None, 2:], b2[..., None, :, 2:])
        ewh = (erb - elt).clamp(min=0)
        enclose = (ewh[..., 0] * ewh[..., 1]).clamp(min=eps)
        ious = ious - (enclose - union) / enclose
    return ious


_warned = set()


def _warn_once(key, msg):
    if key not in _warned:
        _warned.add(key)
        warnings.warn(msg, stacklevel=3)


def batched_nms(boxes, scores, idxs, nms_cfg, class_agnostic=False):
    """vk_ops.batched_nms (MMCV semantics) when present; otherwise a per-class offset trick on torch ops."""
    try:
        from vk_ops import batched_nms as _op
    except ImportError:
        _op = None
    if _op is not None:
        return _op(boxes, scores, idxs, nms_cfg, class_agnostic)
    _warn_once("batched_nms", "vk_ops.batched_nms is not available yet; using the pure-PyTorch fallback")
    nms_cfg = dict(nms_cfg)
    iou_thr = nms_cfg.pop("iou_threshold", nms_cfg.pop("iou_thr", 0.5))
    max_num = nms_cfg.pop("max_num", -1)
    split_thr = nms_cfg.pop("split_thr", 10000)
    if boxes.numel() == 0:
        return boxes.new_zeros((0, 5)), idxs.new_zeros((0,), dtype=torch.long)
    if class_agnostic:
        boxes_for_nms = boxes
    else:
        offsets = idxs.to(boxes) * (boxes.max() + 1)
        boxes_for_nms = boxes + offsets[:, None]
    del split_thr  # the offset trick keeps one NMS call whatever the size
    keep = _nms_torch(boxes_for_nms, scores, iou_thr)
    if max_num > 0:
        keep = keep[:max_num]
    return torch.cat([boxes[keep], scores[keep, None]], -1), keep


def _nms_torch(boxes, scores, iou_thr):
    order = scores.argsort(descending=True)
    boxes = boxes[order]
    ious = _overlaps_torch(boxes, boxes, "iou", False, 1e-6)
    # Greedy NMS over the sorted IoU matrix: a box survives if no surviving higher-scored box overlaps it.
    n = boxes.shape[0]
    suppressed = torch.zeros(n, dtype=torch.bool, device=boxes.device)
    over = (ious > iou_thr).triu(1)
    for i in range(n):
        if not suppressed[i]:
            suppressed |= over[i]
    return order[~suppressed]


def sigmoid_focal_loss(pred, target, gamma=2.0, alpha=0.25, weight=None, reduction="mean"):
    """Element-wise sigmoid focal loss on integer targets (MMCV signature), via vk_ops when present."""
    try:
        from vk_ops import sigmoid_focal_loss as _op
    except ImportError:
        _op = None
    if _op is not None:
        return _op(pred, target, gamma, alpha, weight, reduction)
    num_classes = pred.shape[1]
    onehot = F.one_hot(target.long().clamp(max=num_classes), num_classes + 1)[:, :num_classes].to(pred)
    return py_sigmoid_focal_loss_elem(pred, onehot, gamma, alpha, weight, reduction)


def py_sigmoid_focal_loss_elem(pred, target, gamma, alpha, weight, reduction):
    p = pred.sigmoid()
    pt = (1 - p) * target + p * (1 - target)
    focal_w = (alpha * target + (1 - alpha) * (1 - target)) * pt.pow(gamma)
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * focal_w
    if weight is not None:
        loss = loss * weight.view(-1, 1) if weight.dim() == 1 else loss * weight
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


try:
    from vk_core.model import Scale
except ImportError:  # pragma: no cover

    class Scale(nn.Module):
        """A learnable scalar multiplier (parameter name ``scale`` as MMCV)."""

        def __init__(self, scale=1.0):
            super().__init__()
            self.scale = nn.Parameter(torch.tensor(scale, dtype=torch.float))

        def forward(self, x):
            return x * self.scale


try:
    from vk_core.model import BaseModel, ImgDataPreprocessor
except ImportError:  # pragma: no cover
    import math
    from collections import OrderedDict

    class ImgDataPreprocessor(nn.Module):
        """Normalise, optionally swap BGR/RGB, and pad a list of (C, H, W) images into one batch."""

        def __init__(self, mean=None, std=None, pad_size_divisor=1, pad_value=0, bgr_to_rgb=False, rgb_to_bgr=False,
                     non_blocking=False):  # fmt: skip
            super().__init__()
            self._enable_normalize = mean is not None
            if self._enable_normalize:
                self.register_buffer("mean", torch.tensor(mean, dtype=torch.float).view(-1, 1, 1), persistent=False)
                self.register_buffer("std", torch.tensor(std, dtype=torch.float).view(-1, 1, 1), persistent=False)
            self._channel_conversion = bgr_to_rgb or rgb_to_bgr
            self.pad_size_divisor = pad_size_divisor
            self.pad_value = pad_value

        @property
        def device(self):
            return next(iter(self.buffers()), torch.zeros(0)).device

        def _convert(self, img):
            if self._channel_conversion and img.shape[-3] == 3:
                img = img.flip(-3)
            img = img.float()
            return (img - self.mean) / self.std if self._enable_normalize else img

        def forward(self, data, training=False):
            inputs = data["inputs"]
            imgs = [self._convert(t) for t in inputs]
            h = max(t.shape[-2] for t in imgs)
            w = max(t.shape[-1] for t in imgs)
            d = self.pad_size_divisor
            h, w = math.ceil(h / d) * d, math.ceil(w / d) * d
            batch = imgs[0].new_full((len(imgs), imgs[0].shape[-3], h, w), self.pad_value)
            for i, t in enumerate(imgs):
                batch[i, :, : t.shape[-2], : t.shape[-1]] = t
            return {"inputs": batch, "data_samples": data.get("data_samples")}

    class BaseModel(BaseModule):
        def __init__(self, data_preprocessor=None, init_cfg=None):
            super().__init__(init_cfg)
            if data_preprocessor is None:
                data_preprocessor = ImgDataPreprocessor()
            elif isinstance(data_preprocessor, dict):
                data_preprocessor = MODELS.build(data_preprocessor)
            self.data_preprocessor = data_preprocessor

        def parse_losses(self, losses):
            items = []
            for name, value in losses.items():
                items.append((name, value.mean() if isinstance(value, torch.Tensor) else sum(v.mean() for v in value)))
            loss = sum(v for k, v in items if "loss" in k)
            log_vars = OrderedDict([("loss", loss.detach())])
            log_vars.update((k, v.detach()) for k, v in items)
            return loss, log_vars

        def train_step(self, data, optim_wrapper):
            data = self.data_preprocessor(data, True)
            loss, log_vars = self.parse_losses(self(**data, mode="loss"))
            optim_wrapper.update_params(loss)
            return log_vars

        def val_step(self, data):
            return self(**self.data_preprocessor(data, False), mode="predict")

        test_step = val_step
