"""Colour-space conversions (thin, named wrappers over cv2)."""

from __future__ import annotations

import cv2
import numpy as np


def imconvert(img: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Converts between colour spaces by name, e.g. ``imconvert(img, 'bgr', 'lab')``."""
    code = getattr(cv2, f"COLOR_{src.upper()}2{dst.upper()}", None)
    if code is None:
        raise ValueError(f"imconvert: no conversion from {src!r} to {dst!r}")
    return cv2.cvtColor(img, code)


def bgr2gray(img: np.ndarray, keepdim: bool = False) -> np.ndarray:
    out = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return out[..., None] if keepdim else out


def rgb2gray(img: np.ndarray, keepdim: bool = False) -> np.ndarray:
    out = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return out[..., None] if keepdim else out


def gray2bgr(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img[..., 0] if img.ndim == 3 else img, cv2.COLOR_GRAY2BGR)


def gray2rgb(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img[..., 0] if img.ndim == 3 else img, cv2.COLOR_GRAY2RGB)


def bgr2rgb(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def rgb2bgr(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2BGR)


def bgr2hsv(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2HSV)


def hsv2bgr(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_HSV2BGR)


def bgr2hls(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2HLS)


def hls2bgr(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_HLS2BGR)
