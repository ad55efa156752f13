"""Small helpers: device resolution, seeding, logging setup, user errors, atomic file writes."""

from __future__ import annotations

import errno
import logging
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch loads on first use, so that `textgan --help` and bad flags answer at once
    import torch


class UserError(Exception):
    """An error caused by the user's input (a file, a flag, a run dir).

    The CLI prints it as one ``error: ...`` line on stderr and exits with code 2.
    """


def resolve_device(device: str) -> torch.device:
    """Turn ``auto|cpu|cuda|cuda:i`` into a ``torch.device``.

    Args:
        device: the ``--device`` value.

    Returns:
        The device to train on.

    Raises:
        UserError: for CUDA when no GPU is visible, or an unknown string.
    """
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise UserError(f"--device: unknown device {device!r} (use auto, cpu or cuda[:i])") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {device}: CUDA is not available on this machine")
    if dev.type not in ("cpu", "cuda"):
        raise UserError(f"--device: unsupported device type {dev.type!r} (use auto, cpu or cuda[:i])")
    return dev


def env_world_size() -> int:
    """``WORLD_SIZE`` that torchrun set for this process (1 when not launched by it)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def seed_everything(seed: int) -> None:
    """Seed python's ``random`` and torch (CPU and CUDA) for a run."""
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    try:  # numpy is optional for the library; seed it when present
        import numpy as np

        np.random.seed(seed % (2**32))
    except ImportError:  # pragma: no cover
        pass


class _StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is at each record, so that a
    stream swapped or closed since set-up (a test's capture, a caller's redirect) is never used."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201 - logging's own attribute
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001 - set by StreamHandler.__init__; always sys.stderr
        pass


def setup_logging(debug: bool = False) -> None:
    """Log ``textgan.*`` messages to stderr as ``level: message`` lines."""
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger("textgan")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False


def progress_enabled(requested: bool) -> bool:
    """Progress bars only when asked for and stderr is a terminal."""
    return requested and sys.stderr.isatty() and not os.environ.get("TEXTGAN_NO_PROGRESS")


def autocast(precision: str, device: torch.device) -> Any:
    """The forward-pass context of ``--precision``: bfloat16 autocast for ``bf16``, else a no-op."""
    import torch

    if precision not in ("fp32", "bf16"):
        raise UserError(f"--precision: unknown precision {precision!r} (choose from fp32, bf16)")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


@contextmanager
def atomic_path(path: Path, keep_previous: Path | None = None) -> Iterator[Path]:
    """A temporary path beside ``path``; on success it is fsynced and renamed over ``path``.

    Readers see the old file or the new one, never a torn one; on any error (a full disk
    included) the temporary file is removed and ``path`` is untouched. With ``keep_previous``
    the old ``path`` is first renamed to it, once the new file is safely on disk.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if keep_previous is not None and path.is_file():
            os.replace(path, keep_previous)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename in (tmp, str(tmp)):
            exc.filename = str(path)  # name the file being written, not its temporary
        elif not isinstance(exc, OSError) and _disk_full(exc):  # torch.save / safetensors say it their way
            raise OSError(errno.ENOSPC, "No space left on device", str(path)) from exc
        raise


def _disk_full(exc: BaseException) -> bool:
    """A failed write that is a full disk in another library's words (torch.save's zip writer:
    "file write failed"; safetensors: "No space left on device")."""
    text = str(exc)
    return "file write failed" in text or "No space left on device" in text or "os error 28" in text


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_torch_save(obj: Any, path: Path, keep_previous: Path | None = None) -> None:
    """``torch.save`` to ``path`` atomically (the old file renamed to ``keep_previous`` when given)."""
    import torch

    with atomic_path(path, keep_previous) as tmp, open(tmp, "wb") as fh:
        torch.save(obj, fh)  # through a Python file: a full disk is an OSError (ENOSPC)
