"""snnc: a compiler from trained spiking neural networks to Loihi-class neuromorphic chips."""

__version__ = "0.1.0"
