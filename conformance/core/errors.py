"""Exceptions that turn into verdicts (see plugin.py)."""


class ClaimFailed(AssertionError):
    """The optimizer does not do what the claim says: verdict `fail` (or `deviation`).

    `str()` is what was observed; `reproducer` a standalone script that shows it. The condition
    and the case checked are added where it is caught (running.RunningClaim.check)."""

    def __init__(self, message: str, reproducer: str = "") -> None:
        super().__init__(message)
        self.reproducer = reproducer


class OptimizerRaised(ClaimFailed):
    """Keras raised while the claim drove it; the claim cannot hold, so this is a failure too."""


class UserCodeRaised(OptimizerRaised):
    """The user's optimizer raised in its own code (blame.py): a failure of their optimizer, with
    their frames, never matched against the deviations declared for Keras."""


class Unsupported(Exception):
    """This environment's API cannot express the claim: verdict `unsupported`."""


class ClaimTimeout(BaseException):
    """A claim ran past --claim-timeout (see timeouts.py): verdict `error`, with what it was doing.

    A BaseException, like KeyboardInterrupt: hypothesis treats an Exception as a failing example
    to shrink and replay (a replay that does not time out would then be reported as flaky), and a
    scenario's `except Exception` would take it for the optimizer's own error. A BaseException
    stops hypothesis's whole run at once and reaches pytest, which records it for the test.
    """

    def __init__(self, message: str, configuration: str | None = None) -> None:
        super().__init__(message)
        self.configuration = configuration  # the last drawn case's optimizer, as code
