"""textgan.distributed, helper by helper: the identity in one process, and the collective it
stands for in a two-process gloo group (spawned here, no torchrun needed). The trainers under
torchrun are tested in tests/train/test_distributed.py."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import torch

from textgan import distributed as D
from textgan.utils import UserError


def test_in_one_process_every_helper_is_the_identity(monkeypatch) -> None:
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    ctx = D.setup("cpu")
    assert (ctx.rank, ctx.world, ctx.is_main, ctx.enabled) == (0, 1, True, False)
    x = torch.arange(6.0, requires_grad=True)
    assert D.shard(x) is x and D.local_batch_size(7) == 7
    g = D.gather(x)
    assert torch.equal(g, x) and not g.requires_grad
    assert D.all_sum(x) is x
    assert D.any_rank(True) and not D.any_rank(False)
    stats = {"loss": torch.tensor(1.0), "ratio_max": torch.tensor(2.0)}
    assert D.reduce_stats(stats) is stats
    assert D.from_main("value") == "value"
    with D.main_first():
        pass
    module = torch.nn.Linear(2, 2)
    assert D.replicate(module, ("__call__",), torch.device("cpu")) is module
    assert D.collective_failure(RuntimeError("boom")) is None
    D.barrier()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, world: int, port: int, out: str) -> None:
    """One rank of the two-process group: every helper, its result written to ``out/rank<r>.json``."""
    import os

    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world)
    )
    torch.set_num_threads(1)
    ctx = D.setup("cpu")
    res: dict = {"rank": ctx.rank, "world": ctx.world, "is_main": ctx.is_main}
    res["shard"] = D.shard(torch.arange(8)).tolist()
    res["local_batch"] = D.local_batch_size(8)
    try:
        D.local_batch_size(7)
    except UserError as err:
        res["uneven"] = str(err)
    res["gather"] = D.gather(torch.tensor([float(rank), 10.0 + rank])).tolist()
    res["all_sum"] = D.all_sum(torch.tensor([1.0 + rank])).tolist()
    res["any"] = [D.any_rank(rank == 1), D.any_rank(False)]
    stats = D.reduce_stats(
        {"loss": torch.tensor(float(rank)), "r_max": torch.tensor(float(rank)), "r_min": torch.tensor(float(rank))}
    )
    res["stats"] = {k: float(v) for k, v in stats.items()}
    res["from_main"] = D.from_main(f"from rank {rank}")
    try:  # rank 0 fails inside main_first: the other rank stops with its message instead of waiting
        with D.main_first():
            if rank == 0:
                raise ValueError("no data")
    except ValueError:
        res["main_first"] = "raised"
    except UserError as err:
        res["main_first"] = str(err)
    torch.manual_seed(rank)  # different starting weights: replicate broadcasts rank 0's
    module = torch.nn.Linear(3, 1, bias=False)
    model = D.replicate(module, ("__call__",), ctx.device)
    model(torch.full((1, 3), float(rank + 1))).sum().backward()  # rank r's gradient: (r + 1, r + 1, r + 1)
    res["weight"] = module.weight.detach().flatten().tolist()
    res["grad"] = module.weight.grad.flatten().tolist()
    D.barrier()
    D.teardown()
    Path(out, f"rank{rank}.json").write_text(json.dumps(res))


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> list[dict]:
    import torch.multiprocessing as mp

    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available in this build")
    out = tmp_path_factory.mktemp("ranks")
    mp.spawn(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_two_ranks_split_gather_and_reduce_as_one_global_batch(two_ranks) -> None:
    r0, r1 = two_ranks
    assert (r0["rank"], r0["world"], r0["is_main"], r1["is_main"]) == (0, 2, True, False)
    assert r0["shard"] == [0, 2, 4, 6] and r1["shard"] == [1, 3, 5, 7]  # together: the single-process batch
    assert r0["local_batch"] == r1["local_batch"] == 4 and "multiple of the 2" in r0["uneven"]
    assert r0["gather"] == r1["gather"] == [0.0, 10.0, 1.0, 11.0]  # rank order
    assert r0["all_sum"] == r1["all_sum"] == [3.0]
    assert r0["any"] == r1["any"] == [True, False]
    assert r0["stats"] == r1["stats"] == {"loss": 0.5, "r_max": 1.0, "r_min": 0.0}
    assert r0["from_main"] == r1["from_main"] == "from rank 0"
    assert r0["main_first"] == "raised" and r1["main_first"] == "rank 0 stopped: no data"


def test_replicated_modules_start_equal_and_average_their_gradients(two_ranks) -> None:
    r0, r1 = two_ranks
    assert r0["weight"] == r1["weight"]  # rank 0's weights, broadcast
    assert r0["grad"] == r1["grad"] == pytest.approx([1.5, 1.5, 1.5])  # mean of (1, 1, 1) and (2, 2, 2)
