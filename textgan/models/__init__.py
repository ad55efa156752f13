"""Models: Gumbel-softmax, generators."""

from textgan.models.generators import (
    Generator,
    GPT2Generator,
    LSTMGenerator,
    RMCGenerator,
    Sample,
    build_generator,
)

__all__ = ["GPT2Generator", "Generator", "LSTMGenerator", "RMCGenerator", "Sample", "build_generator"]
