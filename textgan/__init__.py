"""textgan: text GANs with probability-ratio clipping and sample reweighting."""

__version__ = "0.1.0"
