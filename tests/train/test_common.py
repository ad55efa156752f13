from __future__ import annotations

import errno
import logging

import pytest
import torch

from textgan.train import common as C


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch) -> None:
    path = tmp_path / "ckpt.pt"
    C.atomic_torch_save({"a": torch.ones(2)}, path)
    before = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        C.atomic_torch_save({"a": torch.zeros(2)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temp file left behind

    def zip_writer_full(obj, f):  # what torch.save's zip writer raises on a full disk
        f.write(b"partial")
        raise RuntimeError(
            "[enforce fail at inline_container.cc:603] . PytorchStreamWriter failed writing file data/3: file write failed"
        )

    monkeypatch.setattr(torch, "save", zip_writer_full)
    with pytest.raises(OSError) as info:
        C.atomic_torch_save({"a": torch.zeros(2)}, path)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_non_finite_weights_are_never_checkpointed(tmp_path) -> None:
    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="non-finite"):
        C.save_checkpoint(tmp_path / "c.pt", "lm", {}, 0, 0, {"g": model}, {}, {})
    assert not (tmp_path / "c.pt").exists()


def test_metrics_log_ignores_a_torn_last_line(tmp_path) -> None:
    path = tmp_path / "metrics.jsonl"
    C.MetricsLogger(path).log({"step": 1, "x": 2.0})
    with path.open("a") as fh:
        fh.write('{"step": 2, "x"')
    assert C.read_metrics(path) == [{"step": 1, "x": 2.0}]
    C.truncate_metrics(path, 0)
    assert C.read_metrics(path) == []


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def common_log(monkeypatch):
    """Records of textgan.train.loop (progress lines) at INFO, apart from any other handler."""
    handler, logger = _Records(), logging.getLogger("textgan.train.loop")
    level = logger.level
    monkeypatch.setattr(logger, "propagate", False)
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_log_progress_writes_periodic_lines_with_rate_and_time_left(common_log) -> None:
    bar = C.LogProgress(10, "autoencoder", "step", every=0.0)
    bar.set_postfix(rec="1.234")
    bar.update(5)
    bar.update(5)
    lines = common_log
    assert len(lines) == 2
    assert lines[0].startswith("autoencoder: step 5/10 (50%), ") and lines[0].endswith(", rec=1.234")
    assert "s/step" in lines[0] and "left" in lines[0]
    assert lines[1].startswith("autoencoder: step 10/10 (100%)")


def test_log_progress_is_quiet_between_intervals(common_log) -> None:
    bar = C.LogProgress(100, "adversarial", "it", every=3600.0)
    for _ in range(99):
        bar.update(1)
    assert not common_log
