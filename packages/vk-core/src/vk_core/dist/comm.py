"""Collectives that return their result (MMEngine style) and work unchanged in a single process."""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as torch_dist

from vk_core.dist.utils import get_rank, get_world_size, is_distributed

_OPS = {
    "sum": torch_dist.ReduceOp.SUM,
    "mean": torch_dist.ReduceOp.SUM,
    "product": torch_dist.ReduceOp.PRODUCT,
    "prod": torch_dist.ReduceOp.PRODUCT,
    "min": torch_dist.ReduceOp.MIN,
    "max": torch_dist.ReduceOp.MAX,
    "band": torch_dist.ReduceOp.BAND,
    "bor": torch_dist.ReduceOp.BOR,
    "bxor": torch_dist.ReduceOp.BXOR,
}


def _comm_device() -> torch.device:
    if is_distributed() and torch_dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce(data: torch.Tensor, op: str = "sum", group=None) -> None:
    """Reduces ``data`` in place across ranks; ``op`` is sum, mean, prod, min, max, band, bor or bxor."""
    if op.lower() not in _OPS:
        raise ValueError(f"all_reduce: op must be one of {sorted(_OPS)}, got {op!r}")
    if get_world_size(group) == 1:
        return
    device = data.device
    buf = data.to(_comm_device())
    torch_dist.all_reduce(buf, _OPS[op.lower()], group)
    if op.lower() == "mean":
        buf = buf / get_world_size(group)
    data.copy_(buf.to(device))


def all_reduce_dict(data: dict, op: str = "sum", group=None) -> None:
    for key in sorted(data):
        all_reduce(data[key], op, group)


def all_reduce_params(params, op: str = "sum", group=None) -> None:
    for p in params:
        all_reduce(p.data, op, group)


def all_gather(data: torch.Tensor, group=None) -> list[torch.Tensor]:
    if get_world_size(group) == 1:
        return [data]
    buf = data.to(_comm_device())
    out = [torch.empty_like(buf) for _ in range(get_world_size(group))]
    torch_dist.all_gather(out, buf, group)
    return [t.to(data.device) for t in out]


def gather(data: torch.Tensor, dst: int = 0, group=None) -> list[torch.Tensor]:
    """Returns the list of every rank's tensor on ``dst`` and [] elsewhere (implemented with all_gather)."""
    gathered = all_gather(data, group)
    return gathered if get_rank(group) == dst else []


def all_gather_object(obj, group=None) -> list:
    if get_world_size(group) == 1:
        return [obj]
    out = [None] * get_world_size(group)
    torch_dist.all_gather_object(out, obj, group)
    return out


def gather_object(obj, dst: int = 0, group=None) -> list | None:
    gathered = all_gather_object(obj, group)
    return gathered if get_rank(group) == dst else None


def broadcast(data: torch.Tensor, src: int = 0, group=None) -> None:
    if get_world_size(group) == 1:
        return
    buf = data.to(_comm_device())
    torch_dist.broadcast(buf, src, group)
    data.copy_(buf.to(data.device))


def broadcast_object_list(data: list, src: int = 0, group=None) -> None:
    if not isinstance(data, list):
        raise TypeError(f"broadcast_object_list: data must be a list, got {type(data).__name__}")
    if get_world_size(group) == 1:
        return
    torch_dist.broadcast_object_list(data, src, group)


def sync_random_seed(group=None) -> int:
    """Draws a seed on rank 0 and gives it to every rank, so samplers shuffle alike."""
    seed = int(np.random.randint(2**31))
    if get_world_size(group) == 1:
        return seed
    box = [seed]
    broadcast_object_list(box, 0, group)
    return int(box[0])


def collect_results(results: list, size: int, device: str = "cpu", tmpdir=None) -> list | None:
    """Gathers per-rank result lists into dataset order on rank 0 (None elsewhere), trimmed to ``size``.

    Ranks are assumed to hold round-robin shards (rank r has items r, r + world, ...), as DefaultSampler
    produces; padding added to even out the shards is dropped by the trim.
    """
    if device not in ("cpu", "gpu"):
        raise ValueError(f"collect_results: device must be 'cpu' or 'gpu', got {device!r}")
    if not isinstance(results, list):
        raise TypeError(f"collect_results: results must be a list, got {type(results).__name__}")
    world = get_world_size()
    if world == 1:
        return results[:size]
    parts = all_gather_object(results)
    if get_rank() != 0:
        return None
    ordered = []
    longest = max(len(p) for p in parts)
    for i in range(longest):
        for part in parts:
            if i < len(part):
                ordered.append(part[i])
    return ordered[:size]


def get_data_device(data) -> torch.device:
    """The device of a tensor or of the tensors inside a list/tuple/dict (all must agree)."""
    if isinstance(data, torch.Tensor):
        return data.device
    values = data.values() if isinstance(data, dict) else data if isinstance(data, (list, tuple)) else None
    if values is None:
        raise TypeError(f"get_data_device: expected a tensor, list, tuple or dict, got {type(data).__name__}")
    devices = {get_data_device(v) for v in values}
    if len(devices) != 1:
        raise ValueError(f"get_data_device: data lies on several devices {sorted(map(str, devices))}")
    return devices.pop()
