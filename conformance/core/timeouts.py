"""--claim-timeout: stop a claim that runs too long, and end a process stuck where Python cannot.

The plugin brackets each claim's call with Guard.start() and Guard.stop(). Two clocks run meanwhile:

- an interval timer (SIGALRM; POSIX, main thread) that raises ClaimTimeout in the test at the limit.
  The claim's verdict is `error` with what it was doing, and the run goes on with the next claim.
- a watchdog thread that, if the call has still not returned `grace(limit)` seconds later (native
  code that never comes back to Python, where a signal handler cannot run, or no SIGALRM here),
  hands the plugin an `error` record for the claim, dumps every thread's stack with faulthandler
  and ends the process with os._exit(EXIT_STUCK): nothing else can stop such a call, and the
  results file so far stays valid, so that `--resume` can carry on from it.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from types import FrameType
from typing import Any, Callable

from conformance.core import running
from conformance.core.errors import ClaimTimeout

DEFAULT_S = 900.0
# `thorough` draws 200 examples per claim instead of 10: the same claim may take 20 times longer.
PROFILE_DEFAULT_S = {"thorough": 3600.0}
EXIT_STUCK = 124  # the exit status of timeout(1)
FRAMES = 8  # innermost frames shown of where the claim was
_SUITE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # the whole package

Context = dict[str, Any]  # message, configuration, duration_s, examples


def default_limit(profile: str) -> float:
    """The limit when --claim-timeout is not given, for a hypothesis profile."""
    return PROFILE_DEFAULT_S.get(profile, DEFAULT_S)


def grace(limit: float) -> float:
    """How long past the limit the watchdog leaves the timer's exception to unwind the claim:
    half the limit, at least 5 s and at most 60 s."""
    return min(60.0, max(5.0, limit / 2))


def cannot_interrupt() -> str:
    """Why SIGALRM cannot stop a claim in this thread ('' where it can)."""
    if not hasattr(signal, "setitimer"):
        return "this platform has no SIGALRM"
    if threading.current_thread() is not threading.main_thread():
        return "the tests do not run in the main thread"
    return ""


def stack(frame: FrameType | None) -> str:
    """The innermost frames of a stack, most recent call last, after the innermost two of the
    suite's own (which scenario, which step) where those are further out."""
    if frame is None:
        return "  (no Python frame)\n"
    frames = traceback.extract_stack(frame)
    ours = [f for f in frames[:-FRAMES] if f.filename.startswith(_SUITE)][-2:]
    return "".join(
        traceback.format_list(ours) + (["  ...\n"] if ours else []) + traceback.format_list(frames[-FRAMES:])
    )


class Guard:
    """Both clocks of one process, for one claim at a time."""

    def __init__(self, limit: float, stderr_fd: int) -> None:
        self.limit, self.grace, self.stderr_fd = limit, grace(limit), stderr_fd
        self._said = False
        self._lock = threading.Lock()
        self._watch: threading.Timer | None = None
        self._previous: Any = None  # the SIGALRM handler to restore; None while not armed
        self._t0, self._drawn0, self._thread = 0.0, 0, 0

    def start(self, on_stuck: Callable[[Context], None]) -> None:
        """Start both clocks; `on_stuck(context)` is called from the watchdog before the process ends."""
        self._t0, self._drawn0, self._thread = time.perf_counter(), running.current().drawn, threading.get_ident()
        why = cannot_interrupt()
        if why and not self._said:
            self._said = True
            warnings.warn(
                f"--claim-timeout cannot interrupt a claim here ({why}): a claim over "
                f"{self.limit:g} s ends the process {self.grace:g} s later instead",
                stacklevel=2,
            )
        if not why:
            self._previous = signal.signal(signal.SIGALRM, self._alarm)
            signal.setitimer(signal.ITIMER_REAL, self.limit)
        watch = threading.Timer(self.limit + self.grace, self._stuck, args=(on_stuck,))
        watch.daemon = True
        with self._lock:
            self._watch = watch
        watch.start()

    def stop(self) -> None:
        if self._previous is not None:  # disarm first: an alarm now would land in pytest's code
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)
            self._previous = None
        with self._lock:  # after this, a watchdog that fires late does nothing
            watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()

    def context(self, what: str, frame: FrameType | None) -> Context:
        """The claim's verdict context: how long, how many examples, the last one, where it was."""
        elapsed = time.perf_counter() - self._t0
        rc = running.current()
        drawn = rc.drawn - self._drawn0
        case = rc.case
        configuration = case.setup.code if case is not None else None
        message = (
            f"claim timeout: {what} after {elapsed:.1f} s (--claim-timeout {self.limit:g}); "
            f"{drawn} example(s) drawn"
            + (f", the last with optimizer {configuration}" if configuration else "")
            + f"\nwhere it was (most recent call last):\n{stack(frame)}"
        )
        return {"message": message, "configuration": configuration, "duration_s": round(elapsed, 3), "examples": drawn}

    def _alarm(self, signum: int, frame: FrameType | None) -> None:
        context = self.context("stopped", frame)
        raise ClaimTimeout(context["message"], context["configuration"])

    def _stuck(self, on_stuck: Callable[[Context], None]) -> None:
        with self._lock:
            if self._watch is not threading.current_thread():  # this claim stopped meanwhile
                return
        frame = sys._current_frames().get(self._thread)  # noqa: SLF001 - the only way to see another thread's stack
        context = self.context(
            f"did not return to Python {self.grace:g} s after the limit, so this process ends", frame
        )
        self._say(f"\nconformance: {context['message']}")
        try:
            on_stuck(context)
        except BaseException as e:  # noqa: BLE001 - the process ends either way; say why the record is missing
            self._say(f"conformance: could not record the stuck claim: {type(e).__name__}: {e}\n")
        self._say(f"conformance: the stacks of every thread follow, then this process exits ({EXIT_STUCK})\n")
        faulthandler.dump_traceback(file=self.stderr_fd, all_threads=True)
        os._exit(EXIT_STUCK)

    def _say(self, text: str) -> None:
        os.write(self.stderr_fd, text.encode("utf-8", "replace"))
