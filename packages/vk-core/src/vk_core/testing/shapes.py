"""make_shapes_dataset: coloured circles, squares, triangles and stars on textured backgrounds.

Layout written under ``root`` for each split (default ``train``/``val``)::

    images/<split>/<000001>.jpg          RGB scene, JPEG quality 95
    annotations/instances_<split>.json   COCO instances: bbox xywh, polygon segmentation, area, iscrowd=0
    masks/<split>/<000001>.png           8-bit single-channel class ids: 0 background, 1..4 as the categories
    classes.json                         class names, ids and the display palette (RGB)

Annotations describe what is *visible*: a shape partly covered by a later one gets the polygon, box and area of its
uncovered part. Placements that would hide most of a shape or punch a hole in it are redrawn, so every instance is
one or more hole-free polygons that pycocotools rasterises back to the drawn pixels.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np

SHAPES_CLASSES = ("circle", "square", "triangle", "star")
# Display colours for the semantic masks (RGB), background first. The PNGs store class ids, not these colours.
SHAPES_PALETTE = ((0, 0, 0), (220, 20, 60), (0, 130, 200), (60, 180, 75), (255, 200, 0))

_MIN_VISIBLE = 0.5  # a shape keeps at least this fraction of its pixels visible
_TRIES = 30


def _polygon(kind: int, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    """Vertices (N, 2) float of shape ``kind`` (0 circle, 1 square, 2 triangle, 3 star) of circumradius ``r``."""
    if kind == 0:
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        radii = np.full_like(t, r)
    elif kind == 1:
        t = np.linspace(0, 2 * np.pi, 4, endpoint=False) + np.pi / 4
        radii = np.full_like(t, r)
    elif kind == 2:
        t = np.linspace(0, 2 * np.pi, 3, endpoint=False) - np.pi / 2
        radii = np.full_like(t, r)
    else:
        t = np.linspace(0, 2 * np.pi, 10, endpoint=False) - np.pi / 2
        radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
    t = t + angle
    return np.stack([cx + radii * np.cos(t), cy + radii * np.sin(t)], axis=1)


def _texture(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A muted, low-saturation background: smooth blotches plus stripes plus fine grain (uint8 BGR)."""
    base = rng.uniform(80, 170, size=3)
    base = base.mean() + (base - base.mean()) * 0.3  # keep the background greyish so saturated shapes stand out
    # Luminance-only variation (one channel, cheap); the slight tint comes from ``base`` and the chroma blotches.
    coarse = rng.normal(0, 20, size=(max(2, h // 40), max(2, w // 40))).astype(np.float32)
    lum = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    theta, freq = rng.uniform(0, np.pi), rng.uniform(0.05, 0.25)
    phase = np.add.outer(np.arange(h, dtype=np.float32) * np.sin(theta), np.arange(w, dtype=np.float32) * np.cos(theta))
    lum += np.sin(phase * freq) * np.float32(rng.uniform(6, 16))
    lum += rng.standard_normal(size=(h, w), dtype=np.float32) * 5
    chroma = rng.normal(0, 5, size=3)
    channels = [np.clip(lum + np.float32(base[c] + chroma[c]), 0, 255).astype(np.uint8) for c in range(3)]
    return cv2.merge(channels)


def _shape_colour(rng: np.random.Generator) -> np.ndarray:
    hsv = np.array([[[rng.integers(0, 180), rng.integers(170, 256), rng.integers(170, 256)]]], dtype=np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def _has_hole_or_gone(mask: np.ndarray) -> bool:
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return True
    return bool((hierarchy[0][:, 3] >= 0).any())


def _draw_scene(rng: np.random.Generator, w: int, h: int, min_shapes: int, max_shapes: int):
    """Returns (bgr image, instance id map int32, list of (class index, target area))."""
    inst_map = np.zeros((h, w), dtype=np.int32)
    classes: list[int] = []
    areas: list[int] = []
    scale = min(w, h)
    n = int(rng.integers(min_shapes, max_shapes + 1))
    canvas = np.zeros((h, w), dtype=np.uint8)
    for _ in range(n):
        for _try in range(_TRIES):
            kind = int(rng.integers(0, len(SHAPES_CLASSES)))
            r = rng.uniform(0.07, 0.2) * scale
            cx, cy = rng.uniform(r * 0.6, w - r * 0.6), rng.uniform(r * 0.6, h - r * 0.6)
            poly = _polygon(kind, cx, cy, r, rng.uniform(0, 2 * np.pi))
            canvas[:] = 0
            cv2.fillPoly(canvas, [np.round(poly).astype(np.int32)], 1)
            new = canvas.astype(bool)
            if new.sum() < 0.002 * w * h:
                continue
            covered = np.unique(inst_map[new])
            ok = True
            for k in covered[covered > 0]:
                visible = (inst_map == k) & ~new
                if visible.sum() < _MIN_VISIBLE * areas[k - 1] or _has_hole_or_gone(visible.astype(np.uint8)):
                    ok = False
                    break
            if ok:
                classes.append(kind)
                areas.append(int(new.sum()))
                inst_map[new] = len(classes)
                break

    img = _texture(rng, w, h).astype(np.float32)
    for k in range(1, len(classes) + 1):
        ys, xs = np.nonzero(inst_map == k)
        # A slight linear shading keeps shapes from being perfectly flat without hurting contrast.
        shade = rng.uniform(-12, 12) * (xs.astype(np.float32) / w - 0.5)
        grain = rng.standard_normal(size=(len(xs), 3), dtype=np.float32) * 4
        img[ys, xs] = _shape_colour(rng) + shade[:, None] + grain
    return np.clip(img, 0, 255).astype(np.uint8), inst_map, classes


def _instance_annotation(mask: np.ndarray) -> tuple[list[list[float]], list[float], int] | None:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    # Contours traced on the mask upsampled 2x run a quarter pixel inside the pixel edges, so COCO's rasteriser
    # (pixel centres inside the polygon) gives back exactly the drawn pixels; tracing at 1x would lose half of
    # every boundary pixel.
    crop = np.pad(mask[y0:y1, x0:x1], 1)
    up = np.repeat(np.repeat(crop, 2, axis=0), 2, axis=1)
    contours, _ = cv2.findContours(up, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = []
    for c in contours:
        if len(c) >= 3:
            pts = (c.reshape(-1, 2).astype(np.float64) + 0.5) / 2 + (x0 - 1, y0 - 1)
            polygons.append(pts.round(2).flatten().tolist())
    if not polygons:
        return None
    bbox = [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
    return polygons, bbox, int(len(xs))


def _split_counts(num_images: int | None, splits: dict[str, int] | None) -> dict[str, int]:
    if splits is not None:
        if not isinstance(splits, dict) or not splits:
            raise ValueError(f"make_shapes_dataset: splits must be a non-empty dict name -> count, got {splits!r}")
        for name, count in splits.items():
            if not isinstance(name, str) or not name or os.sep in name:
                raise ValueError(f"make_shapes_dataset: split name {name!r} must be a plain non-empty string")
            if not isinstance(count, int) or count < 0:
                raise ValueError(f"make_shapes_dataset: splits[{name!r}] must be an int >= 0, got {count!r}")
        return dict(splits)
    if not isinstance(num_images, int) or num_images < 1:
        raise ValueError(f"make_shapes_dataset: num_images must be an int >= 1, got {num_images!r}")
    train = max(1, round(num_images * 0.8)) if num_images > 1 else 1
    return {"train": train, "val": num_images - train}


def make_shapes_dataset(
    root: str | os.PathLike,
    num_images: int | None = 100,
    image_size: int | tuple[int, int] = 320,
    seed: int = 0,
    *,
    splits: dict[str, int] | None = None,
    min_shapes: int = 2,
    max_shapes: int = 5,
) -> dict:
    """Writes a small detection/segmentation dataset under ``root`` and returns where everything is.

    Args:
        root: output folder (created; existing files of the same names are overwritten).
        num_images: total images, split 80/20 into ``train``/``val`` (``val`` may be empty for tiny counts).
            Ignored when ``splits`` is given.
        image_size: ``S`` for S x S images, or ``(w, h)``.
        seed: the same seed writes byte-identical files. Each image draws from its own generator seeded by
            ``(seed, split name, index)``, so changing one split's count leaves the other split unchanged.
        splits: explicit ``{'train': 400, 'val': 100}``.
        min_shapes, max_shapes: shapes attempted per image (a placement that keeps failing is skipped).

    Returns:
        ``{'root', 'classes', 'palette', 'splits': {name: {'img_dir', 'ann_file', 'mask_dir', 'num_images'}}}``.
    """
    counts = _split_counts(num_images, splits)
    if isinstance(image_size, int):
        w = h = image_size
    elif isinstance(image_size, (tuple, list)) and len(image_size) == 2:
        w, h = image_size
    else:
        raise ValueError(f"make_shapes_dataset: image_size must be an int or (w, h), got {image_size!r}")
    if not all(isinstance(v, int) and v >= 32 for v in (w, h)):
        raise ValueError(f"make_shapes_dataset: image sizes must be ints >= 32, got {image_size!r}")
    if not (isinstance(min_shapes, int) and isinstance(max_shapes, int) and 1 <= min_shapes <= max_shapes):
        raise ValueError(f"make_shapes_dataset: need 1 <= min_shapes <= max_shapes, got {min_shapes}, {max_shapes}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"make_shapes_dataset: seed must be an int >= 0, got {seed!r}")

    root = Path(root)
    categories = [{"id": i + 1, "name": name, "supercategory": "shape"} for i, name in enumerate(SHAPES_CLASSES)]
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    out = {"root": str(root), "classes": SHAPES_CLASSES, "palette": SHAPES_PALETTE, "splits": {}}
    ann_id = 0
    for split, count in counts.items():
        img_dir, mask_dir = root / "images" / split, root / "masks" / split
        img_dir.mkdir(parents=True, exist_ok=True)
        mask_dir.mkdir(parents=True, exist_ok=True)
        split_key = int.from_bytes(split.encode()[:8].ljust(8, b"\0"), "little")
        images, annotations = [], []
        for i in range(count):
            rng = np.random.default_rng([seed, split_key, i])
            img, inst_map, classes = _draw_scene(rng, w, h, min_shapes, max_shapes)
            name = f"{i + 1:06d}"
            image_id = i + 1
            cv2.imwrite(str(img_dir / f"{name}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
            semantic = np.zeros((h, w), dtype=np.uint8)
            for k, cls in enumerate(classes, start=1):
                mask = (inst_map == k).astype(np.uint8)
                semantic[mask.astype(bool)] = cls + 1
                ann = _instance_annotation(mask)
                if ann is None:
                    continue
                polygons, bbox, area = ann
                ann_id += 1
                annotations.append(
                    {
                        "id": ann_id,
                        "image_id": image_id,
                        "category_id": cls + 1,
                        "bbox": bbox,
                        "segmentation": polygons,
                        "area": area,
                        "iscrowd": 0,
                    }
                )
            cv2.imwrite(str(mask_dir / f"{name}.png"), semantic)
            images.append({"id": image_id, "file_name": f"{name}.jpg", "width": w, "height": h})
        ann_file = root / "annotations" / f"instances_{split}.json"
        coco = {
            "info": {"description": f"vk shapes dataset, seed {seed}"},
            "images": images,
            "annotations": annotations,
            "categories": categories,
        }
        ann_file.write_text(json.dumps(coco))
        out["splits"][split] = {
            "img_dir": str(img_dir),
            "ann_file": str(ann_file),
            "mask_dir": str(mask_dir),
            "num_images": count,
        }
    classes_doc = {
        "classes": list(SHAPES_CLASSES),
        "ids": list(range(1, 5)),
        "palette": [list(c) for c in SHAPES_PALETTE],
    }
    (root / "classes.json").write_text(json.dumps(classes_doc, indent=1))
    return out
