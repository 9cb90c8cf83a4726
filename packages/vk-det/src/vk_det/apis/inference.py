"""init_detector / inference_detector: build a detector from a config and run it on images."""

from __future__ import annotations

import copy
import os
import os.path as osp
from pathlib import Path

import numpy as np
import torch

CONFIG_ROOT = Path(__file__).resolve().parents[1] / "configs"


def resolve_config(config):
    """A Config from a Config, a dict, a path, ``'vk_det::x/y.py'`` or the bare name of a shipped config
    (``'retinanet_r18_fpn_shapes'``)."""
    from vk_core.config import Config

    if isinstance(config, Config):
        return config
    if isinstance(config, dict):
        return Config(copy.deepcopy(config))
    if not isinstance(config, (str, os.PathLike)):
        raise TypeError(f"config must be a path, a shipped config name or a Config, got {type(config).__name__}")
    config = str(config)
    if "::" in config or osp.isfile(config):
        return Config.fromfile(config)
    name = config[:-3] if config.endswith(".py") else config
    matches = sorted(CONFIG_ROOT.rglob(f"{name}.py"))
    matches = [m for m in matches if "_base_" not in m.parts]
    if not matches:
        import difflib

        known = sorted(p.stem for p in CONFIG_ROOT.rglob("*.py") if "_base_" not in p.parts)
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise FileNotFoundError(f"config {config!r} is neither a file nor a config shipped with vk_det{hint}")
    return Config.fromfile(str(matches[0]))


def _dataset_meta_from_cfg(cfg) -> dict:
    for key in ("test_dataloader", "val_dataloader", "train_dataloader"):
        loader = cfg.get(key)
        if not loader:
            continue
        dataset = loader.get("dataset", {})
        while "dataset" in dataset and "metainfo" not in dataset:  # wrappers such as RepeatDataset
            dataset = dataset["dataset"]
        meta = dataset.get("metainfo")
        if meta and meta.get("classes"):
            return dict(meta)
        if dataset.get("type") in ("CocoDataset", "vk_det.CocoDataset"):
            from ..datasets import CocoDataset

            return dict(CocoDataset.METAINFO)
    return {}


def init_detector(config, checkpoint=None, palette: str = "none", device: str = "cpu", cfg_options=None):
    """Build the model of ``config`` in eval mode on ``device``, load ``checkpoint`` if given.

    ``model.dataset_meta`` comes from the checkpoint's ``meta.dataset_meta`` when present, else from the config's
    dataset ``metainfo``; ``model.cfg`` keeps the config for the test pipeline.
    """
    from vk_core.registry import DefaultScope

    cfg = resolve_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if "model" not in cfg:
        raise KeyError(f"config {getattr(cfg, 'filename', config)!r} has no 'model'")
    model_cfg = copy.deepcopy(cfg.model)
    # Pretrained backbone weights are not needed when a whole checkpoint follows.
    if checkpoint is not None:
        backbone = model_cfg.get("backbone", {})
        if isinstance(backbone, dict) and backbone.get("init_cfg"):
            backbone["init_cfg"] = None
    with DefaultScope.using(cfg.get("default_scope", "vk_det")):
        from ..registry import MODELS

        model = MODELS.build(model_cfg)
    meta = {}
    if checkpoint is not None:
        from vk_core.runner.checkpoint import load_checkpoint

        ckpt = load_checkpoint(model, checkpoint, map_location="cpu")
        meta = (ckpt.get("meta") or {}).get("dataset_meta") or {}
    if not meta:
        meta = _dataset_meta_from_cfg(cfg)
    if palette != "none" and meta:
        meta["palette"] = palette
    model.dataset_meta = meta
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


def get_test_pipeline_cfg(cfg, from_ndarray: bool = False) -> list[dict]:
    """The config's test pipeline without annotation loading; with ``from_ndarray`` the image loader reads
    arrays instead of files."""
    pipeline = None
    for key in ("test_dataloader", "val_dataloader"):
        loader = cfg.get(key)
        if loader and loader.get("dataset", {}).get("pipeline"):
            pipeline = loader["dataset"]["pipeline"]
            break
    if pipeline is None:
        pipeline = cfg.get("test_pipeline")
    if pipeline is None:
        raise KeyError("the config has no test_dataloader.dataset.pipeline (or test_pipeline) to run inference with")
    steps = []
    for step in copy.deepcopy(list(pipeline)):
        kind = step.get("type") if isinstance(step, dict) else None
        name = kind.rsplit(".", 1)[-1] if isinstance(kind, str) else getattr(kind, "__name__", "")
        if name == "LoadAnnotations":
            continue
        if name == "LoadImageFromFile" and from_ndarray:
            step = dict(type="LoadImageFromNDArray")
        if name == "PackDetInputs":
            keys = [k for k in step.get("meta_keys", ()) if k != "instances"]
            if keys:
                step["meta_keys"] = tuple(keys)
        steps.append(step)
    return steps


def _build_pipeline(steps):
    from vk_core.dataset import Compose
    from vk_core.registry import DefaultScope

    import vk_det.transforms  # noqa: F401  (registers the det transforms)

    with DefaultScope.using("vk_det"):
        return Compose(steps)


def inference_detector(model, imgs, test_pipeline=None):
    """Run ``model`` (from init_detector) on a path/array or a list of them; returns one DetDataSample or a list."""
    single = not isinstance(imgs, (list, tuple))
    imgs = [imgs] if single else list(imgs)
    if not imgs:
        raise ValueError("inference_detector: no images given")
    from_ndarray = isinstance(imgs[0], np.ndarray)
    pipeline = test_pipeline or _build_pipeline(get_test_pipeline_cfg(model.cfg, from_ndarray))
    results = []
    for i, img in enumerate(imgs):
        data = dict(img=img, img_id=i) if isinstance(img, np.ndarray) else dict(img_path=str(img), img_id=i)
        packed = pipeline(data)
        batch = dict(inputs=[packed["inputs"]], data_samples=[packed["data_samples"]])
        with torch.no_grad():
            results.append(model.test_step(batch)[0])
    return results[0] if single else results
