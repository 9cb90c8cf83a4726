"""Pixel-value operations: normalisation and colour/brightness/contrast/hue adjustments (uint8 BGR in, same out)."""

from __future__ import annotations

import cv2
import numpy as np


def _vec(values, name: str, channels: int | None = None) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(1, -1)
    if channels is not None and arr.shape[1] not in (1, channels):
        raise ValueError(f"{name} has {arr.shape[1]} values but the image has {channels} channels")
    return arr


def imnormalize(img: np.ndarray, mean, std, to_rgb: bool = True) -> np.ndarray:
    """``(img[, BGR->RGB] - mean) / std`` as a new float32 array."""
    return imnormalize_(img.astype(np.float32), mean, std, to_rgb)


def imnormalize_(img: np.ndarray, mean, std, to_rgb: bool = True) -> np.ndarray:
    """In-place version of ``imnormalize`` for a float32 (H, W, C) image."""
    if img.dtype == np.uint8:
        raise TypeError("imnormalize_: img must be a float array (normalising uint8 in place would truncate)")
    channels = img.shape[2] if img.ndim == 3 else 1
    mean, std = _vec(mean, "mean", channels), _vec(std, "std", channels)
    if (std == 0).any():
        raise ValueError(f"imnormalize: std must be non-zero, got {std.ravel().tolist()}")
    if to_rgb:
        if channels != 3:
            raise ValueError(f"imnormalize: to_rgb needs a 3-channel image, got {channels} channels")
        cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
    # cv2 arithmetic with a (1, C) float64 scalar works in place and is several times faster than numpy broadcasting.
    cv2.subtract(img, mean, img)
    cv2.multiply(img, 1.0 / std, img)
    return img


def imdenormalize(img: np.ndarray, mean, std, to_bgr: bool = True) -> np.ndarray:
    """Inverts ``imnormalize``: ``img * std + mean`` (then RGB->BGR)."""
    if img.dtype == np.uint8:
        raise TypeError("imdenormalize: img must be a float array")
    mean, std = _vec(mean, "mean"), _vec(std, "std")
    out = cv2.multiply(img, std)
    cv2.add(out, mean, out)
    if to_bgr:
        cv2.cvtColor(out, cv2.COLOR_RGB2BGR, out)
    return out


def iminvert(img: np.ndarray) -> np.ndarray:
    return np.full_like(img, 255) - img


def solarize(img: np.ndarray, thr: int = 128) -> np.ndarray:
    """Inverts the pixels at or above ``thr``."""
    return np.where(img < thr, img, 255 - img)


def posterize(img: np.ndarray, bits: int) -> np.ndarray:
    """Keeps the ``bits`` most significant bits of each uint8 value."""
    if not 0 <= bits <= 8:
        raise ValueError(f"posterize: bits must be in [0, 8], got {bits}")
    shift = 8 - bits
    return np.left_shift(np.right_shift(img, shift), shift)


def _blend(img: np.ndarray, other: np.ndarray, factor: float) -> np.ndarray:
    out = cv2.addWeighted(img.astype(np.float32), factor, other.astype(np.float32), 1 - factor, 0)
    return np.clip(out, 0, 255).astype(img.dtype)


def adjust_brightness(img: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """Blends with black: 0 gives black, 1 the original, >1 brighter (clipped)."""
    if factor < 0:
        raise ValueError(f"adjust_brightness: factor must be >= 0, got {factor}")
    return np.clip(img.astype(np.float32) * factor, 0, 255).astype(img.dtype)


def adjust_contrast(img: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """Blends with a flat grey image at the mean luminance: 0 gives flat grey, 1 the original."""
    if factor < 0:
        raise ValueError(f"adjust_contrast: factor must be >= 0, got {factor}")
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 and img.shape[2] == 3 else img
    mean = np.round(gray.mean())
    return _blend(img, np.full_like(img, mean), factor)


def adjust_color(img: np.ndarray, alpha: float = 1.0, beta: float | None = None, gamma: float = 0.0) -> np.ndarray:
    """Saturation: ``img * alpha + gray(img) * beta + gamma`` (beta defaults to 1 - alpha); 0 gives greyscale."""
    gray = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    beta = 1 - alpha if beta is None else beta
    out = cv2.addWeighted(img.astype(np.float32), alpha, gray.astype(np.float32), beta, gamma)
    return np.clip(out, 0, 255).astype(img.dtype)


adjust_saturation = adjust_color


def adjust_hue(img: np.ndarray, hue_factor: float) -> np.ndarray:
    """Rotates the hue by ``hue_factor`` of a full turn, ``hue_factor`` in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"adjust_hue: hue_factor must be in [-0.5, 0.5], got {hue_factor}")
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    # uint8 wrap-around is exactly the rotation of a hue circle stored in [0, 256).
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + int(round(hue_factor * 255))) % 256
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(img.dtype)
