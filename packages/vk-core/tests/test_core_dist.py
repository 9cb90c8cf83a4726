import os
import socket

import pytest
import torch
from vk_core import dist


def test_single_process_fallbacks():
    assert dist.get_dist_info() == (0, 1)
    assert dist.get_backend() is None and dist.is_main_process()
    t = torch.arange(2)
    assert [x.tolist() for x in dist.gather(t)] == [[0, 1]]
    assert [x.tolist() for x in dist.all_gather(t)] == [[0, 1]]
    dist.all_reduce(t)
    dist.broadcast(t)
    assert t.tolist() == [0, 1]
    box = ["x"]
    dist.broadcast_object_list(box)
    assert box == ["x"]
    assert dist.collect_results([1, 2, 3], 2) == [1, 2]
    assert dist.get_data_device({"a": [torch.zeros(1)]}) == torch.device("cpu")
    assert dist.master_only(lambda: 5)() == 5
    with pytest.raises(ValueError, match="op must be one of"):
        dist.all_reduce(t, op="produce")
    with pytest.raises(ValueError, match="launcher must be 'pytorch' or 'slurm'"):
        dist.init_dist("mpi")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world, port, out_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    dist.init_dist("pytorch", backend="nccl")  # falls back to gloo without CUDA
    try:
        results = {}
        t = torch.tensor([1.0, 2.0]) if rank == 0 else torch.tensor([3.0, 4.0])
        dist.all_reduce(t)
        results["sum"] = t.tolist()
        m = torch.tensor([float(rank)])
        dist.all_reduce(m, op="mean")
        results["mean"] = m.item()
        # rank r holds items r, r + 2, ...; 5 real items, rank 1 padded with one repeat
        shard = [f"item{i}" for i in range(rank, 6, world)]
        results["collected"] = dist.collect_results(shard, 5)
        results["seed_equal"] = len(set(dist.all_gather_object(dist.sync_random_seed()))) == 1
        results["backend"] = dist.get_backend()
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pth"))
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_two_process_gloo_collectives(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pth", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pth", weights_only=True)
    assert r0["sum"] == r1["sum"] == [4.0, 6.0]
    assert r0["mean"] == r1["mean"] == 0.5
    assert r0["collected"] == ["item0", "item1", "item2", "item3", "item4"]
    assert r1["collected"] is None
    assert r0["seed_equal"] and r0["backend"] == "gloo"


def test_init_dist_reports_missing_environment(monkeypatch):
    for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_NODELIST"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match=r"missing \['RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'\]"):
        dist.init_dist("pytorch")
    with pytest.raises(RuntimeError, match="launcher='slurm' needs SLURM variables"):
        dist.init_dist("slurm")
