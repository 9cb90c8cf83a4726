"""``Visualizer``: draws on an RGB image with vectorised OpenCV calls and forwards records to its backends."""

from __future__ import annotations

import numpy as np

from vk_core.dist import master_only
from vk_core.utils.manager import ManagerMixin

_NAMED_COLORS = {
    "red": (255, 0, 0),
    "r": (255, 0, 0),
    "green": (0, 255, 0),
    "g": (0, 255, 0),
    "blue": (0, 0, 255),
    "b": (0, 0, 255),
    "yellow": (255, 255, 0),
    "y": (255, 255, 0),
    "cyan": (0, 255, 255),
    "c": (0, 255, 255),
    "magenta": (255, 0, 255),
    "m": (255, 0, 255),
    "white": (255, 255, 255),
    "w": (255, 255, 255),
    "black": (0, 0, 0),
    "k": (0, 0, 0),
    "orange": (255, 165, 0),
    "purple": (128, 0, 128),
    "gray": (128, 128, 128),
}


def color_val(color, where: str = "color") -> tuple[int, int, int]:
    """A colour name, a 0-255 RGB triple or a 0-1 float triple -> an RGB int triple."""
    if isinstance(color, str):
        if color not in _NAMED_COLORS:
            raise ValueError(f"{where}: unknown colour name {color!r}; known: {sorted(_NAMED_COLORS)}")
        return _NAMED_COLORS[color]
    c = tuple(color)
    if len(c) != 3:
        raise ValueError(f"{where}: expected 3 RGB components, got {color!r}")
    if all(isinstance(v, float) for v in c) and all(0 <= v <= 1 for v in c):
        return tuple(int(round(v * 255)) for v in c)
    if not all(0 <= int(v) <= 255 for v in c):
        raise ValueError(f"{where}: RGB components must be in 0..255, got {color!r}")
    return tuple(int(v) for v in c)


def _per_item(value, n: int, name: str) -> list:
    """Broadcasts one value (or a list of n) to a list of n."""
    if isinstance(value, list) and not (len(value) == 3 and all(isinstance(v, int | float) for v in value)):
        if len(value) != n:
            raise ValueError(f"{name}: got {len(value)} values for {n} items")
        return value
    return [value] * n


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


class Visualizer(ManagerMixin):
    """Draw primitives over ``self.get_image()`` (an RGB uint8 array) plus recording through ``vis_backends``.

    ``vis_backends`` are dicts like ``dict(type='LocalVisBackend')``; each is given ``save_dir`` when it has none.
    """

    def __init__(self, name: str = "visualizer", image=None, vis_backends=None, save_dir: str | None = None, **kwargs):
        super().__init__(name)
        self._dataset_meta = None
        self._image = None
        self._vis_backends: dict = {}
        if image is not None:
            self.set_image(image)
        if vis_backends:
            if isinstance(vis_backends, dict):
                vis_backends = [vis_backends]
            if save_dir is None:
                raise ValueError(
                    "Visualizer: vis_backends need a save_dir (the runner passes work_dir/<timestamp>/vis_data)"
                )
            from vk_core.visualization import vis_backend as vb

            for i, cfg in enumerate(vis_backends):
                if isinstance(cfg, vb.BaseVisBackend):
                    backend = cfg
                else:
                    cfg = dict(cfg)
                    name_ = cfg.pop("name", None)
                    cfg.setdefault("save_dir", save_dir)
                    backend_type = cfg.pop("type", None)
                    if backend_type is None:
                        raise KeyError(f"Visualizer: vis_backends[{i}] lacks 'type': {cfg}")
                    if isinstance(backend_type, str):
                        from vk_core.registry import VISBACKENDS

                        backend = VISBACKENDS.build(dict(type=backend_type, **cfg))
                    else:
                        backend = backend_type(**cfg)
                    cfg["name"] = name_
                key = (cfg.get("name") if isinstance(cfg, dict) else None) or type(backend).__name__
                if key in self._vis_backends:
                    raise ValueError(f"Visualizer: two vis_backends are named {key!r}; give them distinct 'name's")
                self._vis_backends[key] = backend

    # ---- state ----------------------------------------------------------------------------------------------
    @property
    def dataset_meta(self):
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta) -> None:
        self._dataset_meta = meta

    def set_image(self, image) -> None:
        image = _to_numpy(image)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"Visualizer.set_image: expected an HxWx3 RGB image, got shape {image.shape}")
        self._image = np.ascontiguousarray(image.astype(np.uint8))

    def get_image(self) -> np.ndarray:
        self._require_image("get_image")
        return self._image

    def _require_image(self, what: str) -> None:
        if self._image is None:
            raise RuntimeError(f"Visualizer.{what}: call set_image(image) first")

    def _blend(self, overlay: np.ndarray, alpha: float) -> None:
        if alpha >= 1:
            self._image = overlay
        else:
            mixed = self._image.astype(np.float32) * (1 - alpha) + overlay.astype(np.float32) * alpha
            self._image = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)

    # ---- drawing --------------------------------------------------------------------------------------------
    def draw_bboxes(self, bboxes, edge_colors="g", line_styles="-", line_widths=2, face_colors="none", alpha=0.8):
        """``bboxes``: (N, 4) xyxy in pixels."""
        import cv2

        self._require_image("draw_bboxes")
        boxes = _to_numpy(bboxes)
        if boxes.ndim == 1 and boxes.size == 4:
            boxes = boxes[None]
        if boxes.size == 0:
            boxes = np.zeros((0, 4))
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"draw_bboxes: expected (N, 4) boxes, got shape {boxes.shape}")
        if (boxes[:, 2] < boxes[:, 0]).any() or (boxes[:, 3] < boxes[:, 1]).any():
            raise ValueError("draw_bboxes: boxes must be xyxy with x2 >= x1 and y2 >= y1")
        n = len(boxes)
        colors = _per_item(edge_colors, n, "draw_bboxes edge_colors")
        widths = _per_item(line_widths, n, "draw_bboxes line_widths")
        faces = _per_item(face_colors, n, "draw_bboxes face_colors")
        overlay = self._image.copy()
        pts = np.round(boxes).astype(np.int32)
        for (x1, y1, x2, y2), c, w, f in zip(pts, colors, widths, faces):
            if f is not None and f != "none":
                cv2.rectangle(overlay, (x1, y1), (x2, y2), color_val(f, "face_colors"), -1)
            cv2.rectangle(overlay, (x1, y1), (x2, y2), color_val(c, "edge_colors"), max(1, int(w)))
        self._blend(overlay, alpha)
        return self

    def draw_lines(self, x_datas, y_datas, colors="g", line_widths=2):
        import cv2

        self._require_image("draw_lines")
        xs, ys = _to_numpy(x_datas).reshape(-1, 2), _to_numpy(y_datas).reshape(-1, 2)
        if xs.shape != ys.shape:
            raise ValueError(f"draw_lines: x_datas {xs.shape} and y_datas {ys.shape} differ")
        colors, widths = _per_item(colors, len(xs), "colors"), _per_item(line_widths, len(xs), "line_widths")
        for (x1, x2), (y1, y2), c, w in zip(xs.astype(int), ys.astype(int), colors, widths):
            cv2.line(self._image, (x1, y1), (x2, y2), color_val(c), max(1, int(w)))
        return self

    def draw_points(self, positions, colors="g", sizes=5):
        import cv2

        self._require_image("draw_points")
        pos = _to_numpy(positions).reshape(-1, 2).astype(int)
        colors, sizes = _per_item(colors, len(pos), "colors"), _per_item(sizes, len(pos), "sizes")
        for (x, y), c, s in zip(pos, colors, sizes):
            cv2.circle(self._image, (int(x), int(y)), max(1, int(s)), color_val(c), -1)
        return self

    def draw_circles(self, center, radius, edge_colors="g", line_widths=2, face_colors="none", alpha=0.8):
        import cv2

        self._require_image("draw_circles")
        centers = _to_numpy(center).reshape(-1, 2).astype(int)
        radii = _to_numpy(radius).reshape(-1)
        if len(radii) != len(centers):
            raise ValueError(f"draw_circles: {len(centers)} centers but {len(radii)} radii")
        overlay = self._image.copy()
        n = len(centers)
        for (x, y), r, c, w, f in zip(
            centers,
            radii,
            _per_item(edge_colors, n, "edge_colors"),
            _per_item(line_widths, n, "line_widths"),
            _per_item(face_colors, n, "face_colors"),
        ):
            if f not in (None, "none"):
                cv2.circle(overlay, (int(x), int(y)), int(r), color_val(f), -1)
            cv2.circle(overlay, (int(x), int(y)), int(r), color_val(c), max(1, int(w)))
        self._blend(overlay, alpha)
        return self

    def draw_polygons(self, polygons, edge_colors="g", line_widths=2, face_colors="none", alpha=0.8):
        """``polygons``: one (K, 2) array or a list of them."""
        import cv2

        self._require_image("draw_polygons")
        if hasattr(polygons, "shape") or (len(polygons) and np.asarray(polygons[0]).ndim == 1):
            polygons = [polygons]
        polys = [_to_numpy(p).reshape(-1, 2).round().astype(np.int32) for p in polygons]
        n = len(polys)
        overlay = self._image.copy()
        for p, c, w, f in zip(
            polys,
            _per_item(edge_colors, n, "edge_colors"),
            _per_item(line_widths, n, "line_widths"),
            _per_item(face_colors, n, "face_colors"),
        ):
            if f not in (None, "none"):
                cv2.fillPoly(overlay, [p], color_val(f))
            cv2.polylines(overlay, [p], True, color_val(c), max(1, int(w)))
        self._blend(overlay, alpha)
        return self

    def draw_binary_masks(self, binary_masks, colors="g", alphas=0.8):
        """``binary_masks``: (H, W) or (N, H, W) boolean; each mask is tinted with its colour."""
        self._require_image("draw_binary_masks")
        masks = _to_numpy(binary_masks)
        if masks.ndim == 2:
            masks = masks[None]
        h, w = self._image.shape[:2]
        if masks.ndim != 3 or masks.shape[1:] != (h, w):
            raise ValueError(f"draw_binary_masks: masks of shape {masks.shape} do not match the image {(h, w)}")
        masks = masks.astype(bool)
        n = len(masks)
        colors, alphas = _per_item(colors, n, "colors"), _per_item(alphas, n, "alphas")
        img = self._image.astype(np.float32)
        for m, c, a in zip(masks, colors, alphas):
            img[m] = img[m] * (1 - a) + np.asarray(color_val(c), np.float32) * a
        self._image = np.clip(img + 0.5, 0, 255).astype(np.uint8)
        return self

    def draw_texts(self, texts, positions, font_sizes=None, colors="g", bboxes=None):
        """``positions``: (N, 2) top-left anchors in pixels; ``bboxes`` (list of dicts with ``facecolor``) adds a
        filled background behind each text."""
        import cv2

        self._require_image("draw_texts")
        if isinstance(texts, str):
            texts = [texts]
        pos = _to_numpy(positions).reshape(-1, 2).astype(int)
        if len(pos) != len(texts):
            raise ValueError(f"draw_texts: {len(texts)} texts but {len(pos)} positions")
        n = len(texts)
        sizes = _per_item(font_sizes or 12, n, "font_sizes")
        colors = _per_item(colors, n, "colors")
        backs = bboxes if isinstance(bboxes, list) else [bboxes] * n
        for t, (x, y), s, c, b in zip(texts, pos, sizes, colors, backs):
            scale = s / 30.0
            (tw, th), base = cv2.getTextSize(str(t), cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            if b:
                face = color_val(b.get("facecolor", "black")) if isinstance(b, dict) else (0, 0, 0)
                cv2.rectangle(self._image, (x, y), (x + tw, y + th + base), face, -1)
            cv2.putText(self._image, str(t), (x, y + th), cv2.FONT_HERSHEY_SIMPLEX, scale, color_val(c), 1, cv2.LINE_AA)
        return self

    @staticmethod
    def draw_featmap(
        featmap,
        overlaid_image=None,
        channel_reduction: str | None = "squeeze_mean",
        topk: int = 20,
        arrangement=(4, 5),
        resize_shape=None,
        alpha: float = 0.5,
    ) -> np.ndarray:
        """Renders a (C, H, W) feature map as an RGB heat map (mean or max over channels, or the top-k channels
        tiled in ``arrangement``), optionally blended over ``overlaid_image``."""
        import cv2

        feat = _to_numpy(featmap).astype(np.float32)
        if feat.ndim != 3:
            raise ValueError(f"draw_featmap: expected a (C, H, W) feature map, got shape {feat.shape}")
        if channel_reduction not in ("squeeze_mean", "select_max", None):
            raise ValueError(
                f"draw_featmap: channel_reduction must be 'squeeze_mean', 'select_max' or None, got {channel_reduction!r}"
            )

        def heat(m):
            m = m - m.min()
            m = m / max(m.max(), 1e-12)
            m = (m * 255).astype(np.uint8)
            if resize_shape is not None:
                m = cv2.resize(m, (resize_shape[1], resize_shape[0]))
            colored = cv2.cvtColor(cv2.applyColorMap(m, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
            if overlaid_image is not None:
                base = np.asarray(overlaid_image)
                if base.shape[:2] != colored.shape[:2]:
                    base = cv2.resize(base, (colored.shape[1], colored.shape[0]))
                colored = np.clip(base * (1 - alpha) + colored * alpha, 0, 255).astype(np.uint8)
            return colored

        if channel_reduction == "squeeze_mean":
            return heat(feat.mean(0))
        if channel_reduction == "select_max":
            return heat(feat[int(feat.sum(axis=(1, 2)).argmax())])
        if topk <= 0 or feat.shape[0] == 1:
            return heat(feat[0])
        rows, cols = arrangement
        k = min(topk, feat.shape[0], rows * cols)
        idx = np.argsort(-feat.sum(axis=(1, 2)))[:k]
        tiles = [heat(feat[i]) for i in idx]
        th, tw = tiles[0].shape[:2]
        rows = (k + cols - 1) // cols
        canvas = np.zeros((rows * th, cols * tw, 3), np.uint8)
        for j, t in enumerate(tiles):
            r, c = divmod(j, cols)
            canvas[r * th : (r + 1) * th, c * tw : (c + 1) * tw] = t
        return canvas

    # ---- recording --------------------------------------------------------------------------------------------
    def get_backend(self, name: str):
        return self._vis_backends.get(name)

    @property
    def vis_backends(self) -> dict:
        return self._vis_backends

    @master_only
    def add_config(self, config, **kwargs) -> None:
        for backend in self._vis_backends.values():
            backend.add_config(config, **kwargs)

    @master_only
    def add_graph(self, model, data_batch=None, **kwargs) -> None:
        for backend in self._vis_backends.values():
            backend.add_graph(model, data_batch, **kwargs)

    @master_only
    def add_image(self, name: str, image, step: int = 0) -> None:
        for backend in self._vis_backends.values():
            backend.add_image(name, image, step)

    @master_only
    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        for backend in self._vis_backends.values():
            backend.add_scalar(name, value, step, **kwargs)

    @master_only
    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path=None, **kwargs) -> None:
        for backend in self._vis_backends.values():
            backend.add_scalars(scalar_dict, step, file_path, **kwargs)

    def add_datasample(
        self, name, image, data_sample=None, draw_gt=True, draw_pred=True, show=False, wait_time=0, step=0, **kwargs
    ):
        """Task visualizers (detection, segmentation) override this; the base records the raw image."""
        self.set_image(image)
        if show:
            self.show(wait_time=wait_time)
        self.add_image(name, self.get_image(), step)

    def show(self, drawn_img=None, win_name: str = "image", wait_time: float = 0, continue_key: str = " ") -> None:
        import cv2

        img = self.get_image() if drawn_img is None else drawn_img
        try:
            cv2.imshow(win_name, cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            cv2.waitKey(int(wait_time * 1000))
        except cv2.error as exc:
            raise RuntimeError(
                "Visualizer.show needs a display and an OpenCV build with GUI support; record images with a "
                "vis backend instead"
            ) from exc

    def close(self) -> None:
        for backend in self._vis_backends.values():
            backend.close()
