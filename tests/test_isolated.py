"""Part of a claim run in a worker process of the suite's own backend (`isolated.call`): the value
comes back, a ClaimFailed or Unsupported stays one, and where it ran is recorded."""

from __future__ import annotations

import os

import pytest

from conformance.adapters import current
from conformance.core import running
from conformance.core.errors import ClaimFailed, Unsupported
from conformance.distributed import host, isolated


def pid_and_double(x: int) -> tuple[int, int, str]:
    return os.getpid(), 2 * x, current().versions()["backend"]


def finds(kind: str) -> None:
    raise {"failed": ClaimFailed, "unsupported": Unsupported}[kind](f"found in the worker: {kind}")


@pytest.fixture(autouse=True)
def _stopped():
    yield
    host.stop_all()


def test_the_function_runs_in_another_process_of_this_backend_and_where_is_recorded():
    rc = running.start("SGD", "a.claim")
    pid, value, backend = isolated.call(pid_and_double, 21)
    assert value == 42 and pid != os.getpid()
    assert backend == current().versions()["backend"]
    assert rc.ran_on["kind"] == f"backend_{backend}" and rc.ran_on["devices"]


@pytest.mark.parametrize("kind, raised", [("failed", ClaimFailed), ("unsupported", Unsupported)])
def test_a_finding_in_the_worker_is_the_same_finding_here(kind, raised):
    running.start("SGD", "a.claim")
    with pytest.raises(raised, match=f"found in the worker: {kind}"):
        isolated.call(finds, kind)


def test_a_function_a_worker_cannot_import_is_refused_before_any_worker_starts():
    with pytest.raises(ValueError, match="not a module-level function"):
        isolated.call(lambda: 1)
    assert not any(h.procs for h in host.HOSTS.values())
