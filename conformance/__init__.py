"""keras-optimizer-conformance: behavioural conformance suite for Keras optimizers."""

__version__ = "0.1.0"
