"""Exceptions that turn into verdicts (see plugin.py)."""


class ClaimFailed(AssertionError):
    """The optimizer does not do what the claim says: verdict `fail` (or `deviation`)."""


class OptimizerRaised(ClaimFailed):
    """Keras raised while the claim drove it; the claim cannot hold, so this is a failure too."""


class Unsupported(Exception):
    """This environment's API cannot express the claim: verdict `unsupported`."""
