"""Where the visualizer's records go: local files, TensorBoard, Weights & Biases, MLflow."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def _scalar(value, name: str):
    if hasattr(value, "item"):
        value = value.item()
    if not isinstance(value, int | float):
        raise TypeError(f"scalar {name!r} must be a number or a one-element tensor/array, got {type(value).__name__}")
    return value


def _config_text(config) -> str:
    if isinstance(config, str):
        return config
    text = getattr(config, "pretty_text", None)
    if isinstance(text, str):
        return text
    return repr(dict(config))


class BaseVisBackend:
    """Backends initialise lazily: nothing touches the disk (or imports an extra) until the first record."""

    def __init__(self, save_dir: str | None = None):
        self._save_dir = save_dir
        self._env_ready = False

    @property
    def experiment(self):
        self._ensure_env()
        return self

    def _ensure_env(self) -> None:
        if not self._env_ready:
            self._init_env()
            self._env_ready = True

    def _init_env(self) -> None:
        pass

    def add_config(self, config, **kwargs) -> None:
        pass

    def add_graph(self, model, data_batch=None, **kwargs) -> None:
        pass

    def add_image(self, name: str, image: np.ndarray, step: int = 0, **kwargs) -> None:
        pass

    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        pass

    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path=None, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


class LocalVisBackend(BaseVisBackend):
    """Writes ``save_dir/scalars.json`` (one JSON object per line, with ``step``), ``save_dir/config.py`` and
    images ``save_dir/vis_image/<name>_<step>.png``."""

    def __init__(
        self,
        save_dir: str,
        img_save_dir: str = "vis_image",
        config_save_file: str = "config.py",
        scalar_save_file: str = "scalars.json",
    ):
        if save_dir is None:
            raise ValueError("LocalVisBackend needs a save_dir")
        for name, value in (("config_save_file", config_save_file), ("scalar_save_file", scalar_save_file)):
            if os.path.dirname(value):
                raise ValueError(f"LocalVisBackend: {name} must be a bare file name, got {value!r}")
        if not scalar_save_file.endswith(".json"):
            raise ValueError(f"LocalVisBackend: scalar_save_file must end in .json, got {scalar_save_file!r}")
        super().__init__(save_dir)
        self._img_save_dir = img_save_dir
        self._config_save_file = config_save_file
        self._scalar_save_file = scalar_save_file

    def _init_env(self) -> None:
        Path(self._save_dir).mkdir(parents=True, exist_ok=True)
        self._img_dir = Path(self._save_dir) / self._img_save_dir
        self._config_path = Path(self._save_dir) / self._config_save_file
        self._scalar_path = Path(self._save_dir) / self._scalar_save_file

    def add_config(self, config, **kwargs) -> None:
        self._ensure_env()
        self._config_path.write_text(_config_text(config), encoding="utf-8")

    def add_image(self, name: str, image: np.ndarray, step: int = 0, **kwargs) -> None:
        import cv2

        self._ensure_env()
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError(
                f"add_image({name!r}): expected a uint8 HxW or HxWx3 RGB array, got {image.dtype} {image.shape}"
            )
        self._img_dir.mkdir(parents=True, exist_ok=True)
        bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(self._img_dir / f"{name}_{step}.png"), bgr)

    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        self.add_scalars({name: value}, step)

    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path=None, **kwargs) -> None:
        self._ensure_env()
        if not isinstance(scalar_dict, dict):
            raise TypeError(f"add_scalars: scalar_dict must be a dict, got {type(scalar_dict).__name__}")
        record = {k: _scalar(v, k) if not isinstance(v, str) else v for k, v in scalar_dict.items()}
        record["step"] = step
        line = json.dumps(record) + "\n"
        with open(self._scalar_path, "a", encoding="utf-8") as f:
            f.write(line)
        if file_path is not None:
            extra = Path(self._save_dir) / file_path
            if extra == self._scalar_path:
                raise ValueError(f"add_scalars: file_path {file_path!r} is the main scalars file")
            with open(extra, "a", encoding="utf-8") as f:
                f.write(line)


class TensorboardVisBackend(BaseVisBackend):
    """Writes TensorBoard event files into ``save_dir`` (needs the ``vk-core[tensorboard]`` extra)."""

    def __init__(self, save_dir: str):
        super().__init__(save_dir)
        self._writer = None

    def _init_env(self) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise ImportError("TensorboardVisBackend needs tensorboard: pip install 'vk-core[tensorboard]'") from exc
        Path(self._save_dir).mkdir(parents=True, exist_ok=True)
        self._writer = SummaryWriter(self._save_dir)

    @property
    def experiment(self):
        self._ensure_env()
        return self._writer

    def add_config(self, config, **kwargs) -> None:
        self._ensure_env()
        self._writer.add_text("config", _config_text(config))

    def add_image(self, name: str, image: np.ndarray, step: int = 0, **kwargs) -> None:
        self._ensure_env()
        self._writer.add_image(
            name, np.asarray(image), step, dataformats="HWC" if np.asarray(image).ndim == 3 else "HW"
        )

    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        self._ensure_env()
        self._writer.add_scalar(name, _scalar(value, name), step)

    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path=None, **kwargs) -> None:
        self._ensure_env()
        for key, value in scalar_dict.items():
            if not isinstance(value, str):
                self._writer.add_scalar(key, _scalar(value, key), step)
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class WandbVisBackend(BaseVisBackend):
    """Logs to Weights & Biases (extra ``wandb``); ``init_kwargs=dict(mode='offline')`` works without network."""

    def __init__(self, save_dir: str, init_kwargs: dict | None = None, commit: bool = True):
        super().__init__(save_dir)
        self._init_kwargs = dict(init_kwargs or {})
        self._commit = commit
        self._wandb = None

    def _init_env(self) -> None:
        try:
            import wandb
        except ImportError as exc:
            raise ImportError("WandbVisBackend needs wandb: pip install wandb") from exc
        Path(self._save_dir).mkdir(parents=True, exist_ok=True)
        self._init_kwargs.setdefault("dir", self._save_dir)
        wandb.init(**self._init_kwargs)
        self._wandb = wandb

    def add_config(self, config, **kwargs) -> None:
        self._ensure_env()
        self._wandb.config.update(dict(config) if not isinstance(config, str) else {"config": config})

    def add_image(self, name: str, image, step: int = 0, **kwargs) -> None:
        self._ensure_env()
        self._wandb.log({name: self._wandb.Image(image)}, commit=self._commit)

    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        self.add_scalars({name: value}, step)

    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path=None, **kwargs) -> None:
        self._ensure_env()
        self._wandb.log(dict(scalar_dict), commit=self._commit)

    def close(self) -> None:
        if self._wandb is not None:
            self._wandb.finish()


class MLflowVisBackend(BaseVisBackend):
    """Logs to MLflow (extra ``mlflow``); defaults to a file store under ``save_dir`` so it works offline."""

    def __init__(self, save_dir: str, exp_name: str | None = None, run_name: str | None = None, tracking_uri=None):
        super().__init__(save_dir)
        self._exp_name = exp_name or "vk"
        self._run_name = run_name
        self._tracking_uri = tracking_uri
        self._mlflow = None

    def _init_env(self) -> None:
        try:
            import mlflow
        except ImportError as exc:
            raise ImportError("MLflowVisBackend needs mlflow: pip install mlflow") from exc
        Path(self._save_dir).mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(self._tracking_uri or Path(self._save_dir, "mlruns").resolve().as_uri())
        mlflow.set_experiment(self._exp_name)
        mlflow.start_run(run_name=self._run_name)
        self._mlflow = mlflow

    def add_config(self, config, **kwargs) -> None:
        self._ensure_env()
        self._mlflow.log_text(_config_text(config), "config.py")

    def add_image(self, name: str, image, step: int = 0, **kwargs) -> None:
        self._ensure_env()
        self._mlflow.log_image(np.asarray(image), f"{name}_{step}.png")

    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        self.add_scalars({name: value}, step)

    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path=None, **kwargs) -> None:
        self._ensure_env()
        self._mlflow.log_metrics({k: _scalar(v, k) for k, v in scalar_dict.items() if not isinstance(v, str)}, step)

    def close(self) -> None:
        if self._mlflow is not None:
            self._mlflow.end_run()
