"""Data-parallel training under ``torchrun`` (PyTorch DistributedDataParallel).

``torchrun --nproc-per-node N -m textgan train lm ...`` starts N processes with ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE`` in their environment; :func:`setup` joins them into one
process group (gloo on CPU, nccl on CUDA) and everything else in textgan asks this module
whether it is distributed. Without those variables (a plain ``textgan train``) every helper
here is the identity and no collective is ever made.

What is global in a step (README, "Scaling out"): ``--batch-size`` is the global batch, split
evenly over the ranks in the order a single process would have used; gradients are averaged
by DDP (MLE's per-token mean is weighted by the global token count, so it equals the
single-process loss); the reweighting ``B * softmax(f)``, the advantage baseline and the
logged ratio / clip statistics are over the global batch (all-gathered scores, no gradient).
Only rank 0 writes the run dir and evaluates.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from textgan.utils import UserError, env_world_size, resolve_device  # noqa: F401 - env_world_size re-exported

log = logging.getLogger(__name__)

TIMEOUT_ENV = "TEXTGAN_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 900  # covers rank 0's periodic evaluation while the others wait


@dataclass(frozen=True)
class Context:
    """This process's place in the job: ``rank`` of ``world`` processes, ``device`` to train on."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files, logs and evaluates."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def world_size() -> int:
    """Processes in the job (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if world_size() > 1 else 0


def is_main() -> bool:
    return rank() == 0


def setup(device: str) -> Context:
    """Join the torchrun job named by the environment (if any) and pick this rank's device.

    ``--device cuda`` becomes ``cuda:LOCAL_RANK`` under torchrun. The collective timeout
    is ``$TEXTGAN_DIST_TIMEOUT`` seconds (default 900): a rank that dies or hangs makes the
    others fail with an error instead of waiting for ever.

    Raises:
        UserError: a malformed environment or an unusable device.
    """
    world = env_world_size()
    if world <= 1:
        return Context(device=resolve_device(device))
    try:
        rank_, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
        timeout = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S))
    except (KeyError, ValueError) as err:
        raise UserError(f"torchrun environment: {err} (RANK, LOCAL_RANK, {TIMEOUT_ENV} must be integers)") from None
    dev = resolve_device(device)
    if dev.type == "cuda":
        if local >= torch.cuda.device_count():
            raise UserError(f"--device cuda: LOCAL_RANK {local} but only {torch.cuda.device_count()} GPU(s) here")
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        kwargs: dict[str, Any] = {"backend": backend, "timeout": datetime.timedelta(seconds=timeout)}
        if dev.type == "cuda" and "device_id" in inspect.signature(dist.init_process_group).parameters:
            kwargs["device_id"] = dev  # binds NCCL to this rank's GPU up front (torch >= 2.3)
        dist.init_process_group(**kwargs)
    if rank_ != 0:  # one process speaks: rank 0 logs, the others only warn
        logging.getLogger("textgan").setLevel(logging.WARNING)
    return Context(rank=rank_, world=world, local_rank=local, device=dev)


def teardown() -> None:
    """Leave the process group (all ranks), if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def shard(x: torch.Tensor) -> torch.Tensor:
    """This rank's share of a global batch along dim 0: rows ``rank, rank + world, ...``."""
    w = world_size()
    return x if w == 1 else x[rank() :: w]


def local_batch_size(global_batch: int) -> int:
    """Rows of a ``global_batch`` that this rank gets (see :func:`shard`).

    Raises:
        UserError: the global batch does not split evenly over the ranks.
    """
    w = world_size()
    if global_batch % w:
        raise UserError(f"--batch-size {global_batch}: must be a multiple of the {w} torchrun processes")
    return global_batch // w


def gather(x: torch.Tensor) -> torch.Tensor:
    """All ranks' ``x`` (equal shapes) concatenated along dim 0 in rank order, without gradient.

    The identity (detached) when not distributed.
    """
    x = x.detach()
    w = world_size()
    if w == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(w)]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)


def all_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum of ``x`` over ranks (a copy; ``x`` itself when not distributed)."""
    if world_size() == 1:
        return x
    y = x.detach().clone()
    dist.all_reduce(y)
    return y


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any (used for stop requests)."""
    if world_size() == 1:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=_collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def reduce_stats(stats: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Logged statistics over the global batch: ``*_max`` by max, ``*_min`` by min, the rest
    by the mean over ranks (equal local batches). Unchanged when not distributed."""
    if world_size() == 1 or not stats:
        return stats
    out = dict(stats)
    dev = _collective_device()
    for suffix, op in (("_max", dist.ReduceOp.MAX), ("_min", dist.ReduceOp.MIN), ("", dist.ReduceOp.SUM)):
        keys = [k for k in stats if (k.endswith(suffix) if suffix else not k.endswith(("_max", "_min")))]
        if not keys:
            continue
        t = torch.stack([stats[k].detach().float().reshape(()).to(dev) for k in keys])
        dist.all_reduce(t, op=op)
        if not suffix:
            t = t / world_size()
        out.update({k: t[i] for i, k in enumerate(keys)})
    return out


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


@contextmanager
def main_first() -> Iterator[None]:
    """Rank 0 runs the block first (it creates the run dir and writes the run files), then the
    others run it. If rank 0 fails there, the others stop with one line instead of waiting."""
    if world_size() == 1:
        yield
        return
    if is_main():
        try:
            yield
        except BaseException as err:
            from_main(f"rank 0 stopped: {err}")
            raise
        from_main("")
    else:
        problem = from_main(None)
        if problem:
            raise UserError(problem)
        yield


def from_main(value: Any) -> Any:
    """Rank 0's ``value`` on every rank (a picklable object; ``value`` itself when not distributed)."""
    if world_size() == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _collective_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def collective_failure(exc: BaseException) -> str | None:
    """One line for an error raised inside a collective of a torchrun job (a peer died, hung past
    the timeout, or stopped), or None for any other error."""
    if env_world_size() <= 1:
        return None
    tb, inside = exc.__traceback__, False
    while tb is not None:
        inside = inside or f"torch{os.sep}distributed" in tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    if not inside:
        return None
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    first = first.split("] ", 1)[-1].split(". ")[0][:160]  # without the C++ source location
    return (
        f"torchrun rank {os.environ.get('RANK', '?')}: another process of the job failed or stopped answering "
        f"({first}); its own log says why. The last checkpoint is kept (--resume continues it)"
    )


class _Dispatch(torch.nn.Module):
    """Routes ``module.<method>(...)`` through ``forward`` so that DDP prepares its gradient
    all-reduce for calls other than ``__call__`` (``token_log_probs``, ``relax``, ...)."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, method: str, *args: Any, **kwargs: Any) -> Any:
        fn = self.module if method == "__call__" else getattr(self.module, method)
        return fn(*args, **kwargs)


class Replicated:
    """A module whose listed methods run under DistributedDataParallel; every other attribute
    is the module's own. Calls made through it average their gradients over the ranks in the
    backward pass; calls on the plain module (frozen uses, evaluation) do not communicate."""

    def __init__(self, module: torch.nn.Module, methods: tuple[str, ...], device: torch.device) -> None:
        from torch.nn.parallel import DistributedDataParallel

        self.module = module
        self._methods = frozenset(methods)
        # textgan's buffers are constants (masks, ids): no buffer broadcast before each forward
        params = inspect.signature(DistributedDataParallel).parameters
        no_sync = {"forward_sync_buffers": False} if "forward_sync_buffers" in params else {"broadcast_buffers": False}
        self._ddp = DistributedDataParallel(
            _Dispatch(module), device_ids=[device] if device.type == "cuda" else None, **no_sync
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if "__call__" not in self._methods:
            return self.module(*args, **kwargs)
        return self._ddp("__call__", *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in self._methods:
            return functools.partial(self._ddp, name)
        return getattr(self.module, name)


def replicate(module: torch.nn.Module, methods: tuple[str, ...], device: torch.device) -> Any:
    """``module`` itself in a single process; under torchrun a :class:`Replicated` whose
    ``methods`` (``"__call__"`` for calling the module) synchronise gradients (DDP). DDP
    broadcasts rank 0's weights here, so every rank starts from the same ones."""
    if world_size() == 1:
        return module
    return Replicated(module, methods, device)
