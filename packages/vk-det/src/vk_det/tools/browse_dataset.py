"""``vk det browse-dataset CONFIG``: draw what the training pipeline feeds the model."""

from __future__ import annotations

import os
import os.path as osp

HELP = "draw the ground truth of pipeline outputs (after augmentation) into a folder"


def add_arguments(parser) -> None:
    parser.add_argument("config", help="config path or shipped config name")
    parser.add_argument("--output-dir", required=True, help="folder for the drawings")
    parser.add_argument("--phase", default="train", choices=("train", "val", "test"))
    parser.add_argument("--num", type=int, default=20, help="how many samples to draw")
    from vk_core.config import DictAction

    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default=None, help="key=value overrides")


def build_dataset(cfg, phase: str):
    from vk_core.registry import DefaultScope

    import vk_det.datasets
    import vk_det.transforms  # noqa: F401

    from ..registry import DATASETS

    loader = cfg.get(f"{phase}_dataloader")
    if not loader:
        raise KeyError(f"the config has no {phase}_dataloader")
    with DefaultScope.using(cfg.get("default_scope", "vk_det")):
        return DATASETS.build(loader["dataset"])


def browse(cfg, output_dir: str, phase: str = "train", num: int = 20) -> list[str]:
    from ..visualization import DetLocalVisualizer
    from ._progress import track

    dataset = build_dataset(cfg, phase)
    vis = DetLocalVisualizer(name=f"browse_{id(dataset)}")
    vis.dataset_meta = dataset.metainfo
    os.makedirs(output_dir, exist_ok=True)
    written = []
    for idx in track(range(min(num, len(dataset))), description="browse-dataset"):
        item = dataset[idx]
        sample = item["data_samples"]
        img = item["inputs"].permute(1, 2, 0).numpy()[:, :, ::-1]  # BGR CHW -> RGB HWC
        name = osp.basename(sample.img_path) if sample.get("img_path") else f"{idx:06d}.jpg"
        out = osp.join(output_dir, f"{idx:04d}_{osp.splitext(name)[0]}.jpg")
        vis.add_datasample(name, img, sample, draw_pred=False, out_file=out)
        written.append(out)
    return written


def run(args) -> int:
    from ..apis import resolve_config

    cfg = resolve_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    written = browse(cfg, args.output_dir, args.phase, args.num)
    print(f"drew {len(written)} samples into {args.output_dir}")
    return 0
