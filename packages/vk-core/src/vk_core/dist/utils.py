"""Process-group set-up and rank queries; every helper degrades to a no-op outside distributed runs."""

from __future__ import annotations

import functools
import gc
import os
import subprocess

import torch
import torch.distributed as torch_dist


def is_distributed() -> bool:
    return torch_dist.is_available() and torch_dist.is_initialized()


def get_rank(group=None) -> int:
    return torch_dist.get_rank(group) if is_distributed() else 0


def get_world_size(group=None) -> int:
    return torch_dist.get_world_size(group) if is_distributed() else 1


def get_dist_info(group=None) -> tuple[int, int]:
    return get_rank(group), get_world_size(group)


def get_local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", 0))


def get_backend(group=None) -> str | None:
    return torch_dist.get_backend(group) if is_distributed() else None


def is_main_process(group=None) -> bool:
    return get_rank(group) == 0


def master_only(func):
    """Runs ``func`` on rank 0 only; other ranks get None."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if is_main_process():
            return func(*args, **kwargs)
        return None

    return wrapper


def barrier(group=None) -> None:
    if is_distributed():
        torch_dist.barrier(group)


def destroy_dist() -> None:
    """Wait for every rank, then tear the default process group down (a no-op when not distributed).

    The ``vk`` dispatcher calls this after a command succeeds: leaving the group to interpreter shutdown lets
    a rank that finishes first abort in the backend's destructor ("terminate called without an active
    exception") while its peers still talk to it.
    """
    if is_distributed():
        torch_dist.barrier()
        # Objects kept alive only by reference cycles (a Runner and its DDP model) still hold the group;
        # collecting them first lets destroy_process_group free it now, not during interpreter shutdown.
        gc.collect()
        torch_dist.destroy_process_group()


def _default_backend() -> str:
    return "nccl" if torch.cuda.is_available() else "gloo"


def init_dist(launcher: str, backend: str | None = None, init_backend: str = "torch", **kwargs) -> None:
    """Initialises the default process group for ``launcher`` 'pytorch' (torchrun) or 'slurm'.

    ``backend`` defaults to nccl with CUDA and gloo on CPU; asking for nccl without CUDA falls back to gloo.
    """
    if is_distributed():
        return
    if backend is None or (backend == "nccl" and not torch.cuda.is_available()):
        backend = _default_backend()
    if launcher == "pytorch":
        missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
        if missing:
            raise RuntimeError(
                f"launcher='pytorch' needs the environment set by torchrun; missing {missing}. "
                "Start the job with `torchrun --nproc_per_node N ...`"
            )
        local_rank = int(os.environ.get("LOCAL_RANK", 0))
    elif launcher == "slurm":
        needed = [k for k in ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_NODELIST") if k not in os.environ]
        if needed:
            raise RuntimeError(f"launcher='slurm' needs SLURM variables; missing {needed}. Run under srun")
        proc_id = int(os.environ["SLURM_PROCID"])
        ntasks = int(os.environ["SLURM_NTASKS"])
        num_gpus = max(torch.cuda.device_count(), 1)
        local_rank = proc_id % num_gpus
        if "MASTER_ADDR" not in os.environ:
            node_list = os.environ["SLURM_NODELIST"]
            try:
                addr = subprocess.getoutput(f"scontrol show hostname {node_list} | head -n1").strip()
            except OSError:
                addr = ""
            os.environ["MASTER_ADDR"] = addr or "127.0.0.1"
        os.environ.setdefault("MASTER_PORT", str(kwargs.pop("port", 29500)))
        os.environ["WORLD_SIZE"] = str(ntasks)
        os.environ["LOCAL_RANK"] = str(local_rank)
        os.environ["RANK"] = str(proc_id)
    else:
        raise ValueError(f"init_dist: launcher must be 'pytorch' or 'slurm', got {launcher!r}")
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    kwargs.pop("port", None)
    torch_dist.init_process_group(backend=backend, **kwargs)
