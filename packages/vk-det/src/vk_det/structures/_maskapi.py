"""The COCO run-length-encoding API, from faster-coco-eval (a dependency) or pycocotools (the alternative)."""

from __future__ import annotations


def mask_api():
    """Return a module with pycocotools.mask's functions (encode, decode, frPyObjects, merge, area, toBbox)."""
    try:
        from faster_coco_eval.core import mask
    except ImportError:
        try:
            from pycocotools import mask
        except ImportError as exc:  # pragma: no cover - both are missing only in a broken install
            raise ImportError(
                "mask RLE encoding needs faster-coco-eval (a vk-det dependency) or pycocotools: "
                "pip install faster-coco-eval, or pip install 'vk-det[pycocotools]'"
            ) from exc
    return mask
