"""vk-det detectors on CPU: predict and one training step, against the bare network in the same run.

Baselines: ``network`` is backbone + neck + head in ``tensor`` mode (pure PyTorch convolutions, no target
assignment, decoding or NMS). The ratio therefore shows what the detection logic (anchors, assignment, losses,
decoding, batched NMS) adds on top of the unavoidable network compute. Absolute medians are printed for
comparison with MMDetection 3.3.0 on the same machine (issue 8, at 512x512: ~0.66 s predict and ~2.0 s train
step for RetinaNet-R50, ~1.2 s and ~2.9 s for Faster R-CNN-R50). For Faster R-CNN the ``network`` baseline is
its ``tensor`` mode, which already includes the RPN proposals (decoding and NMS) that feed the RoI head.
"""

import os

import torch
from harness import compare
from vk_core.config import Config
from vk_core.structures import InstanceData
from vk_det.registry import MODELS
from vk_det.structures import DetDataSample

# (config, input sizes): the two sizes for RetinaNet and Faster R-CNN, one for FCOS to keep the run short.
CASES = [
    ("retinanet/retinanet_r50_fpn_1x_coco.py", [(512, 512), (800, 1216)]),
    ("faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py", [(512, 512), (800, 1216)]),
    ("fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py", [(512, 512)]),
]


def _data(h, w, g):
    sample = DetDataSample()
    sample.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0)))
    n = 8
    xy = torch.rand(n, 2, generator=g) * torch.tensor([w * 0.7, h * 0.7])
    wh = torch.rand(n, 2, generator=g) * torch.tensor([w * 0.3, h * 0.3]) + 16
    sample.gt_instances = InstanceData(
        bboxes=torch.cat([xy, xy + wh], 1), labels=torch.randint(0, 80, (n,), generator=g)
    )
    return dict(inputs=[torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)], data_samples=[sample])


def _model(config):
    cfg = Config.fromfile(f"vk_det::{config}")
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def main() -> None:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    # VK_BENCH_DET_CONFIGS=faster,retina keeps the cases whose config path contains one of the words.
    words = [w for w in os.environ.get("VK_BENCH_DET_CONFIGS", "").split(",") if w]
    for config, sizes in CASES:
        if not words or any(w in config for w in words):
            _bench_config(config, sizes, g)


def _bench_config(config, sizes, g):
    model = _model(config)
    name = config.split("/")[1].removesuffix(".py")
    optim = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    for h, w in sizes:
        data = _data(h, w, g)

        def network(data=data):
            model.eval()
            with torch.no_grad():
                model(model.data_preprocessor(data, False)["inputs"], mode="tensor")

        def predict(data=data):
            model.eval()
            with torch.no_grad():
                model.test_step(data)

        compare(f"{name} predict {h}x{w}", {"network": network, "predict": predict}, baseline="network",
                repeat=3, warmup=1, params={"config": config, "size": [h, w]})  # fmt: skip

        def network_step(data=data):
            model.train()
            inputs = model.data_preprocessor(data, True)["inputs"]
            outs = model(inputs, mode="tensor")
            loss = sum(t.float().mean() for level in outs for t in level)
            optim.zero_grad()
            loss.backward()
            optim.step()

        def train_step(data=data):
            model.train()
            d = model.data_preprocessor(data, True)
            loss, _ = model.parse_losses(model(**d, mode="loss"))
            optim.zero_grad()
            loss.backward()
            optim.step()

        compare(f"{name} train step {h}x{w}", {"network": network_step, "train_step": train_step},
                baseline="network", repeat=2, warmup=1, params={"config": config, "size": [h, w]})  # fmt: skip
