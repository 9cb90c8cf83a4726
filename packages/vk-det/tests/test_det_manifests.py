"""Each shipped one-stage config builds a model whose state_dict names and shapes equal MMDetection 3.3.0's."""

from pathlib import Path

import pytest
import torch
from vk_core.config import Config
from vk_det.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "vk_det" / "configs"
REFERENCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "mmdet"

SHIPPED = {
    "retinanet/retinanet_r50_fpn_1x_coco.py": "retinanet_r50_fpn_1x_coco",
    "retinanet/retinanet_r18_fpn_1x_coco.py": "retinanet_r18_fpn_1x_coco",
    "fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py": "fcos_r50-caffe_fpn_gn-head_1x_coco",
    "atss/atss_r50_fpn_1x_coco.py": "atss_r50_fpn_1x_coco",
}


def _shape_text(t: torch.Tensor) -> str:
    return "x".join(str(s) for s in t.shape) if t.dim() else "scalar"


def read_manifest(path: Path) -> dict[str, str]:
    entries = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"{path}:{number}: expected 'name shape', got {line!r}")
        entries[parts[0]] = parts[1]
    return entries


@pytest.mark.parametrize("config,manifest", sorted(SHIPPED.items()))
def test_state_dict_matches_mmdet_manifest(config, manifest):
    path = REFERENCE / f"{manifest}.keys.txt"
    if not path.exists():
        pytest.skip(f"reference manifest {path} is not available")
    cfg = Config.fromfile(str(CONFIGS / config))
    model = MODELS.build(cfg.model)
    ours = {k: _shape_text(v) for k, v in model.state_dict().items()}
    ref = read_manifest(path)
    missing = sorted(set(ref) - set(ours))
    extra = sorted(set(ours) - set(ref))
    assert not missing and not extra, f"{config}: missing {missing[:10]}, unexpected {extra[:10]}"
    wrong = [(k, ours[k], ref[k]) for k in ref if ours[k] != ref[k]]
    assert not wrong, f"{config}: shape mismatches (name, ours, mmdet): {wrong[:10]}"
    # Same order too, so a positional conversion of an MMDetection checkpoint lines up.
    assert list(ours) == list(ref)


def test_read_manifest_names_bad_line(tmp_path):
    bad = tmp_path / "x.keys.txt"
    bad.write_text("backbone.conv1.weight 64x3x7x7\nbroken-line\n")
    with pytest.raises(ValueError, match=r"x.keys.txt:2: expected 'name shape'"):
        read_manifest(bad)
