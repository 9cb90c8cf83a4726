"""Checkpoint files: atomic saving, loading from paths/URLs/aliases, key revision and the mismatch report.

A checkpoint written here holds only tensors and Python primitives (dict, list, tuple, str, int, float, bool,
None), so ``torch.load(path, weights_only=True)`` reads it without running pickled code.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import tempfile
import urllib.request
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

# Well-known weights addressed by ``torchvision://NAME``. URLs are the public torchvision download locations.
TORCHVISION_URLS = {
    "resnet18": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    "resnet34": "https://download.pytorch.org/models/resnet34-b627a593.pth",
    "resnet50": "https://download.pytorch.org/models/resnet50-0676ba61.pth",
    "resnet101": "https://download.pytorch.org/models/resnet101-63fe2227.pth",
    "resnet152": "https://download.pytorch.org/models/resnet152-394f9c45.pth",
    "vgg16": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "mobilenet_v2": "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
}

_PRIMITIVE = (str, int, float, bool, type(None))


def vk_home() -> Path:
    return Path(os.environ.get("VK_HOME", Path.home() / ".cache" / "vk"))


# ---- state helpers ---------------------------------------------------------------------------------------------
def unwrap_model(model):
    """Strips DataParallel/DDP-style wrappers (anything with a ``module`` attribute that is a wrapper)."""
    from torch.nn.parallel import DataParallel, DistributedDataParallel

    while isinstance(model, (DataParallel, DistributedDataParallel)) or getattr(model, "_vk_wrapper", False):
        model = model.module
    return model


def get_state_dict(module, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
    return unwrap_model(module).state_dict(destination=destination, prefix=prefix, keep_vars=keep_vars)


def weights_to_cpu(state_dict: dict) -> OrderedDict:
    return OrderedDict((k, v.detach().cpu() if isinstance(v, torch.Tensor) else v) for k, v in state_dict.items())


def to_primitive(obj, where: str = "checkpoint"):
    """Returns ``obj`` with numpy values turned into lists/tensors; raises naming the path of anything else."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu() if obj.device.type != "cpu" else obj.detach()
    if isinstance(obj, _PRIMITIVE):
        return obj
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj))
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, torch.device | torch.dtype):
        return str(obj)
    if isinstance(obj, dict):
        out = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for k, v in obj.items():
            if not isinstance(k, _PRIMITIVE):
                raise TypeError(f"{where}: key {k!r} is a {type(k).__name__}; checkpoint keys must be primitives")
            out[k] = to_primitive(v, f"{where}[{k!r}]")
        return out
    if isinstance(obj, list | tuple):
        return type(obj)(to_primitive(v, f"{where}[{i}]") for i, v in enumerate(obj))
    raise TypeError(
        f"{where} holds a {type(obj).__module__}.{type(obj).__name__}; a vk checkpoint stores only tensors and "
        "Python primitives so that torch.load(weights_only=True) can read it"
    )


def get_rng_state() -> dict:
    py_version, py_state, py_gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    data_state = _data_rng_state()
    if data_state is not None:
        state["data"] = data_state
    return state


def _data_rng_state():
    """The state of vk's shared data-augmentation generator, with its big ints as strings."""
    try:
        from vk_core.dataset.rng import data_rng
    except ImportError:
        return None
    bit_state = data_rng().bit_generator.state

    def encode(obj):
        if isinstance(obj, dict):
            return {k: encode(v) for k, v in obj.items()}
        if isinstance(obj, int) and not isinstance(obj, bool):
            return {"__int__": str(obj)}
        if isinstance(obj, np.ndarray):
            return {"__array__": obj.tolist(), "dtype": str(obj.dtype)}
        return obj

    return encode(bit_state)


def _set_data_rng_state(state) -> None:
    from vk_core.dataset.rng import data_rng

    def decode(obj):
        if isinstance(obj, dict) and "__int__" in obj:
            return int(obj["__int__"])
        if isinstance(obj, dict) and "__array__" in obj:
            return np.asarray(obj["__array__"], dtype=obj["dtype"])
        if isinstance(obj, dict):
            return {k: decode(v) for k, v in obj.items()}
        return obj

    data_rng().bit_generator.state = decode(state)


def set_rng_state(state: dict) -> None:
    py_version, py_state, py_gauss = state["python"]
    random.setstate((py_version, tuple(py_state), py_gauss))
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "data" in state:
        _set_data_rng_state(state["data"])


# ---- saving -----------------------------------------------------------------------------------------------------
def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, write: Callable[[object], None]) -> None:
    """Calls ``write(fileobj)`` on a temporary file next to ``path``, fsyncs it and renames it over ``path``.

    If ``write`` raises, the temporary file is removed and ``path`` (if it existed) is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _torch_save(obj, f) -> None:
    # a module-level hook point: tests replace it to inject a failure in the middle of a write
    torch.save(obj, f)


def save_checkpoint(checkpoint: dict, filename) -> None:
    """Writes ``checkpoint`` atomically after checking it holds only tensors and primitives."""
    if not isinstance(checkpoint, dict):
        raise TypeError(f"save_checkpoint({filename}): checkpoint must be a dict, got {type(checkpoint).__name__}")
    clean = to_primitive(checkpoint, f"checkpoint {Path(filename).name}")
    atomic_write(filename, lambda f: _torch_save(clean, f))


def save_safetensors(state_dict_or_model, filename, metadata: dict | None = None) -> None:
    """Exports weights to ``.safetensors`` (tensors only; tied/shared tensors are cloned as the format requires)."""
    try:
        from safetensors.torch import save as st_save
    except ImportError as exc:
        raise ImportError("safetensors export needs the extra: pip install 'vk-core[safetensors]'") from exc
    state = state_dict_or_model
    if isinstance(state, torch.nn.Module):
        state = get_state_dict(state)
    tensors = {}
    seen = set()
    for k, v in state.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"save_safetensors({filename}): entry {k!r} is a {type(v).__name__}, not a tensor")
        v = v.detach().cpu()
        ptr = (v.untyped_storage().data_ptr(), v.storage_offset(), tuple(v.shape))
        if ptr in seen or not v.is_contiguous():
            v = v.clone().contiguous()
        seen.add(ptr)
        tensors[k] = v.contiguous()
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    data = st_save(tensors, metadata=meta or None)
    atomic_write(filename, lambda f: f.write(data))


# ---- loading ----------------------------------------------------------------------------------------------------
def _torch_load(path, map_location, weights_only):
    if weights_only is not None:
        return torch.load(path, map_location=map_location, weights_only=weights_only)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle.UnpicklingError and friends from foreign checkpoints
        warnings.warn(
            f"{path} holds Python objects beyond tensors and primitives ({type(exc).__name__}); loading it with full "
            "unpickling. Only do this for files you trust; pass weights_only=True to refuse.",
            stacklevel=3,
        )
        return torch.load(path, map_location=map_location, weights_only=False)


def _load_local(filename, map_location=None, weights_only=None):
    path = Path(filename).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {filename} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        device = "cpu" if map_location is None or callable(map_location) else str(map_location)
        return {"state_dict": OrderedDict(load_file(str(path), device=device))}
    return _torch_load(path, map_location, weights_only)


_HASH_RE = re.compile(r"-([a-f0-9]{8,})\.")


def download_to_cache(url: str, subdir: str = "checkpoints") -> Path:
    """Downloads ``url`` once into ``$VK_HOME/<subdir>`` and returns the cached path.

    A file name like ``name-1a2b3c4d.pth`` is checked against the sha256 prefix it carries.
    """
    cache_dir = vk_home() / subdir
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = os.path.basename(url.split("?")[0]) or hashlib.sha256(url.encode()).hexdigest()[:16]
    target = cache_dir / name
    if target.is_file():
        return target
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=cache_dir)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        match = _HASH_RE.search(name)
        if match and not digest.hexdigest().startswith(match.group(1)):
            raise RuntimeError(
                f"downloaded {url}: sha256 {digest.hexdigest()[:16]}... does not start with {match.group(1)} from "
                "the file name; the download is corrupt or the file changed"
            )
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


class CheckpointLoader:
    """Dispatches ``load_checkpoint`` on the source's scheme (longest matching prefix wins)."""

    _schemes: dict[str, Callable] = {}

    @classmethod
    def register_scheme(cls, prefixes, loader: Callable | None = None, force: bool = False):
        """Registers ``loader(filename, map_location)`` for ``prefixes`` (a str or list); usable as a decorator."""
        if isinstance(prefixes, str):
            prefixes = [prefixes]
        if not all(isinstance(p, str) for p in prefixes):
            raise TypeError(f"CheckpointLoader.register_scheme: prefixes must be str, got {prefixes!r}")

        def _register(fn):
            for prefix in prefixes:
                if prefix in cls._schemes and not force:
                    raise KeyError(
                        f"CheckpointLoader: scheme {prefix!r} is already handled by {cls._schemes[prefix].__name__}; "
                        "pass force=True to replace it"
                    )
                cls._schemes[prefix] = fn
            cls._schemes = dict(sorted(cls._schemes.items(), key=lambda kv: -len(kv[0])))
            return fn

        if loader is not None:
            return _register(loader)
        return _register

    @classmethod
    def _get_loader(cls, filename: str) -> Callable:
        for prefix, loader in cls._schemes.items():
            if re.match(re.escape(prefix), filename):
                return loader
        return _load_local

    @classmethod
    def load_checkpoint(cls, filename, map_location=None, logger=None):
        filename = str(filename)
        loader = cls._get_loader(filename)
        from vk_core.logging import print_log

        print_log(
            f"Loads checkpoint by {getattr(loader, '__name__', 'loader')} from path: {filename}",
            logger=logger or "silent",
        )
        return loader(filename, map_location)


@CheckpointLoader.register_scheme(["http://", "https://"])
def load_from_http(filename, map_location=None):
    return _load_local(download_to_cache(filename), map_location)


@CheckpointLoader.register_scheme("torchvision://")
def load_from_torchvision(filename, map_location=None):
    name = filename[len("torchvision://") :]
    if name not in TORCHVISION_URLS:
        import difflib

        close = difflib.get_close_matches(name, TORCHVISION_URLS, n=3)
        hint = f"; did you mean {close}?" if close else f"; known: {sorted(TORCHVISION_URLS)}"
        raise KeyError(f"torchvision://{name} is not in vk's alias table{hint}")
    return load_from_http(TORCHVISION_URLS[name], map_location)


def _report(missing, unexpected, shape_mismatch) -> str:
    lines = []
    if unexpected:
        lines.append(f"unexpected key in source state_dict: {', '.join(unexpected)}")
    if missing:
        lines.append(f"missing keys in source state_dict: {', '.join(missing)}")
    if shape_mismatch:
        lines.append(
            "size mismatch (skipped): "
            + ", ".join(f"{k} checkpoint {tuple(a)} vs model {tuple(b)}" for k, a, b in shape_mismatch)
        )
    return "\n".join(lines)


def load_state_dict(module, state_dict: dict, strict: bool = False, logger=None) -> dict:
    """Loads ``state_dict`` into ``module`` and reports missing, unexpected and wrongly shaped keys.

    Wrongly shaped entries are skipped rather than failing the load; with ``strict`` any mismatch raises a
    RuntimeError carrying the report. Returns ``dict(missing_keys, unexpected_keys, shape_mismatch)``.
    """
    from vk_core.logging import print_log

    module = unwrap_model(module)
    own = module.state_dict()
    shape_mismatch = []
    filtered = OrderedDict()
    for k, v in state_dict.items():
        if k in own and isinstance(v, torch.Tensor) and tuple(v.shape) != tuple(own[k].shape):
            shape_mismatch.append((k, v.shape, own[k].shape))
            continue
        filtered[k] = v
    result = module.load_state_dict(filtered, strict=False)
    missing = [k for k in result.missing_keys if k not in {s[0] for s in shape_mismatch}]
    unexpected = list(result.unexpected_keys)
    report = _report(missing, unexpected, shape_mismatch)
    if report:
        if strict:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}:\n{report}")
        print_log(
            f"The model and loaded state dict do not match exactly\n{report}", logger=logger or "current", level=30
        )
    return {"missing_keys": missing, "unexpected_keys": unexpected, "shape_mismatch": [s[0] for s in shape_mismatch]}


def _load_checkpoint_to_model(model, checkpoint, strict=False, logger=None, revise_keys=((r"^module\.", ""),)):
    if isinstance(checkpoint, dict) and "state_dict" in checkpoint:
        state_dict = checkpoint["state_dict"]
    elif isinstance(checkpoint, dict):
        state_dict = checkpoint
    else:
        raise TypeError(f"checkpoint must be a dict, got {type(checkpoint).__name__}")
    metadata = getattr(state_dict, "_metadata", None)
    for pattern, replacement in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, replacement, k), v) for k, v in state_dict.items())
    if metadata is not None:
        state_dict._metadata = metadata
    load_state_dict(model, state_dict, strict, logger)
    return checkpoint


def load_checkpoint(
    model, filename, map_location=None, strict: bool = False, logger=None, revise_keys=((r"^module\.", ""),)
):
    """Loads weights from a local path, ``http(s)://`` (cached under ``$VK_HOME``), ``torchvision://NAME`` or a
    registered scheme into ``model``; returns the whole checkpoint dict.

    ``revise_keys`` is a list of ``(regex, replacement)`` applied to every key in order.
    """
    for i, pair in enumerate(revise_keys):
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise ValueError(f"load_checkpoint: revise_keys[{i}] must be a (pattern, replacement) pair, got {pair!r}")
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location, logger)
    return _load_checkpoint_to_model(model, checkpoint, strict, logger, revise_keys)


def find_latest_checkpoint(path) -> str | None:
    """Returns the checkpoint named in ``path/last_checkpoint`` if that file still exists, else None."""
    pointer = Path(path) / "last_checkpoint"
    if not pointer.is_file():
        return None
    target = pointer.read_text().strip()
    if target and Path(target).is_file():
        return target
    if target and (Path(path) / Path(target).name).is_file():
        return str(Path(path) / Path(target).name)
    return None


def write_last_checkpoint(work_dir, ckpt_path) -> None:
    atomic_write(Path(work_dir) / "last_checkpoint", lambda f: f.write(str(ckpt_path).encode()))


def copy_checkpoint(src, dst) -> None:
    atomic_write(dst, lambda f: shutil.copyfileobj(open(src, "rb"), f))
