"""Short learning test: the shapes RetinaNet config, fed through the real dataset and pipeline, learns
(its training loss on a fixed batch falls by more than half within a dozen steps)."""

import pytest
import torch
from vk_core.config import Config
from vk_core.dataset import pseudo_collate
from vk_core.registry import DefaultScope
from vk_core.testing import make_shapes_dataset
from vk_det.registry import DATASETS, MODELS


@pytest.mark.slow
def test_retinanet_shapes_loss_drops(tmp_path):
    torch.manual_seed(0)
    make_shapes_dataset(tmp_path, splits={"train": 2, "val": 0}, image_size=64, seed=3)
    cfg = Config.fromfile("vk_det::retinanet/retinanet_r18_fpn_shapes.py")
    data_cfg = cfg.train_dataloader.dataset
    data_cfg.data_root = str(tmp_path)
    # Fixed geometry so the batch is identical at every step.
    data_cfg.pipeline = [p for p in data_cfg.pipeline if p["type"] != "RandomFlip"]
    data_cfg.pipeline[2] = dict(type="Resize", scale=(64, 64), keep_ratio=True)
    with DefaultScope.overwrite_default_scope("vk_det"):  # pipeline names resolve in the config's scope
        dataset = DATASETS.build(data_cfg)
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    assert len(batch["inputs"]) == 2 and sum(len(s.gt_instances) for s in batch["data_samples"]) > 0

    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    data = model.data_preprocessor(batch, True)
    history = []
    for _ in range(12):
        loss, _ = model.parse_losses(model(**data, mode="loss"))
        optim.zero_grad()
        loss.backward()
        optim.step()
        history.append(loss.item())
    assert all(torch.isfinite(torch.tensor(history)))
    assert min(history[-3:]) < 0.5 * history[0], history
