"""CUDA checks (marked ``gpu``: skipped by default; run with ``pytest -m gpu`` on a GPU machine)."""

from __future__ import annotations

import json

import pytest
import torch

from textgan.cli import main
from textgan.config import GeneratorConfig
from textgan.models.generators import build_generator

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.mark.parametrize("loss", ["ppo", "rsgan"])
def test_smoke_run_on_cuda(tmp_path, loss) -> None:
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "lm",
                "--preset",
                "smoke",
                "--device",
                "cuda",
                "--no-progress",
                "--loss",
                loss,
                "--run-dir",
                str(run),
            ]
        )
        == 0
    )
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["adv_step"] == 3 and last["nll_gen"] > 0
    assert main(["generate", str(run), "-n", "5", "--device", "cuda"]) == 0


def test_cpu_and_cuda_log_prob_agree() -> None:
    gen = build_generator(GeneratorConfig(head_size=8, embed_dim=8), 20, 7)
    ids = gen.sample_ids(4)[0]
    cpu = gen.log_prob(ids)
    cuda = gen.to("cuda").log_prob(ids.cuda()).cpu()
    torch.testing.assert_close(cpu, cuda, rtol=1e-4, atol=1e-4)
