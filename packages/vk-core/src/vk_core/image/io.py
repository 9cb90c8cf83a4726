"""Reading and writing images: cv2 by default, pillow optionally; errors name the file."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

_CV2_FLAGS = {
    "color": cv2.IMREAD_COLOR,
    "grayscale": cv2.IMREAD_GRAYSCALE,
    "unchanged": cv2.IMREAD_UNCHANGED,
    "color_ignore_orientation": cv2.IMREAD_IGNORE_ORIENTATION | cv2.IMREAD_COLOR,
    "grayscale_ignore_orientation": cv2.IMREAD_IGNORE_ORIENTATION | cv2.IMREAD_GRAYSCALE,
}
_BACKENDS = ("cv2", "pillow")
_default_backend = "cv2"


def use_backend(backend: str) -> None:
    """Sets the default decoding backend for imread/imfrombytes ('cv2' or 'pillow')."""
    global _default_backend
    if backend not in _BACKENDS:
        raise ValueError(f"image backend must be one of {_BACKENDS}, got {backend!r}")
    _default_backend = backend


def _check(flag: str, channel_order: str, backend: str | None) -> str:
    if flag not in _CV2_FLAGS:
        raise ValueError(f"flag must be one of {sorted(_CV2_FLAGS)}, got {flag!r}")
    if channel_order not in ("bgr", "rgb"):
        raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
    backend = backend or _default_backend
    if backend not in _BACKENDS:
        raise ValueError(f"image backend must be one of {_BACKENDS}, got {backend!r}")
    return backend


def _pillow_decode(content: bytes, flag: str, channel_order: str) -> np.ndarray:
    import io

    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(content)) as pil:
        if "ignore_orientation" not in flag and flag != "unchanged":
            pil = ImageOps.exif_transpose(pil)
        if flag.startswith("grayscale"):
            return np.array(pil.convert("L"))
        if flag == "unchanged":
            arr = np.array(pil)
            if arr.ndim == 3 and channel_order == "bgr":
                arr = np.ascontiguousarray(arr[..., [2, 1, 0, *range(3, arr.shape[2])]])
            return arr
        arr = np.array(pil.convert("RGB"))
    return np.ascontiguousarray(arr[..., ::-1]) if channel_order == "bgr" else arr


def imfrombytes(
    content: bytes, flag: str = "color", channel_order: str = "bgr", backend: str | None = None
) -> np.ndarray | None:
    """Decodes image bytes to an (H, W[, C]) uint8 array; returns None when the bytes are not an image.

    ``flag``: 'color' (3 channels, EXIF orientation applied), 'grayscale', 'unchanged' (keeps alpha and 16-bit),
    or the '*_ignore_orientation' variants.
    """
    backend = _check(flag, channel_order, backend)
    if backend == "pillow":
        try:
            return _pillow_decode(content, flag, channel_order)
        except Exception:
            return None
    buf = np.frombuffer(content, dtype=np.uint8)
    if buf.size == 0:
        return None
    img = cv2.imdecode(buf, _CV2_FLAGS[flag])
    if img is not None and img.ndim == 3 and channel_order == "rgb" and img.shape[2] >= 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB if img.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
    return img


def imread(
    img_or_path,
    flag: str = "color",
    channel_order: str = "bgr",
    backend: str | None = None,
    backend_args: dict | None = None,
) -> np.ndarray:
    """Reads an image from a path (any fileio backend) or passes an array through.

    Raises FileNotFoundError for a missing file and ValueError for bytes that do not decode, both naming the file.
    """
    if isinstance(img_or_path, np.ndarray):
        return img_or_path
    if not isinstance(img_or_path, (str, Path)):
        raise TypeError(f"imread: expected a path or an ndarray, got {type(img_or_path).__name__}")
    from vk_core import fileio

    try:
        content = fileio.get(img_or_path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(f"image file not found: {img_or_path}") from None
    img = imfrombytes(content, flag, channel_order, backend)
    if img is None:
        raise ValueError(f"could not decode image {img_or_path} ({len(content)} bytes): corrupt or not an image")
    return img


def imwrite(
    img: np.ndarray, file_path, params: list | None = None, auto_mkdir: bool = True, backend_args: dict | None = None
) -> bool:
    """Encodes by the file extension (cv2) and writes through fileio; parents are created."""
    if not isinstance(img, np.ndarray):
        raise TypeError(f"imwrite({file_path}): img must be an ndarray, got {type(img).__name__}")
    ext = os.path.splitext(str(file_path))[1]
    if not ext:
        raise ValueError(f"imwrite: {file_path} has no extension to choose the image format")
    ok, buf = cv2.imencode(ext, img, params or [])
    if not ok:
        raise ValueError(f"imwrite: cv2 could not encode an image of shape {img.shape} as {ext} for {file_path}")
    from vk_core import fileio

    if auto_mkdir is False and not fileio.exists(os.path.dirname(str(file_path)) or ".", backend_args=backend_args):
        raise FileNotFoundError(f"imwrite: folder of {file_path} does not exist and auto_mkdir=False")
    fileio.put(buf.tobytes(), file_path, backend_args=backend_args)
    return True
