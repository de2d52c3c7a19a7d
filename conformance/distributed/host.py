"""Worker processes, from the suite's side: started on first use, fed jobs, stopped at exit.

A worker that does not answer in time, or dies, is killed with the rest of its cluster; the claim
gets an `error` verdict carrying the worker's last output, and every later job of the same test
fails at once with that message (so hypothesis does not wait out the timeout again). The next test
starts fresh workers.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable

from conformance.core.errors import ClaimFailed, Unsupported
from conformance.core.resident import resident
from conformance.distributed import wire

# Seconds a worker may take to import its backend and configure devices, and to run one job.
START_S = 240
JOB_S = 120
# A worker's caches only grow (TensorFlow keeps what every traced step made): one past this, after a
# job, is stopped and the next job starts a fresh one (5 s), so none passes 2.5 GB.
RECYCLE_BYTES = 3 * 2**29
OUTPUT_TAIL = 4000  # characters of a broken worker's output kept in the verdict


class WorkerFailed(Exception):
    """A worker hung, died or broke: the harness could not judge the claim (verdict `error`)."""


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@dataclass(frozen=True)
class Kind:
    """A kind of worker: its backend, how many processes form it, and their environments."""

    name: str
    needs: str  # the module the worker imports; without it the claims are unsupported
    backend: str
    processes: int = 1
    env: Callable[[int, list[int]], dict[str, str]] = lambda index, ports: {}


def _multi_worker_env(index: int, ports: list[int]) -> dict[str, str]:
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}


def _host_devices(index: int, ports: list[int]) -> dict[str, str]:
    from conformance.distributed import MAX_REPLICAS

    flags = os.environ.get("XLA_FLAGS", "")
    return {"XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count={MAX_REPLICAS}".strip()}


KINDS = {
    "mirrored": Kind("mirrored", "tensorflow", "tensorflow"),
    "multi_worker": Kind("multi_worker", "tensorflow", "tensorflow", processes=2, env=_multi_worker_env),
    "data_parallel": Kind("data_parallel", "jax", "jax", env=_host_devices),
}
# One process per Keras 3 backend, for the claims that compare backends (no device changes).
BACKENDS = ("tensorflow", "jax", "torch")
KINDS.update({f"backend_{b}": Kind(f"backend_{b}", b, b) for b in BACKENDS})


@dataclass
class _Process:
    popen: subprocess.Popen
    output: IO[bytes]  # the worker's stdout and stderr (its protocol runs on a duplicate of fd 1)

    def tail(self) -> str:
        self.output.flush()
        with open(self.output.name, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return text[-OUTPUT_TAIL:]


@dataclass
class Host:
    kind: Kind
    procs: list[_Process] = field(default_factory=list)
    ready: list[dict[str, Any]] = field(default_factory=list)  # what each worker reported at start
    failure: str | None = None
    unsupported: str | None = None  # why this kind cannot run here (found when it started)

    def _start(self) -> None:
        from conformance.adapters import current

        a = current()
        if self.kind.backend != "tensorflow" and not a.MULTI_BACKEND:
            # The worker runs the suite's Keras on another backend (DataParallel: Keras 3 on JAX).
            self.unsupported = (
                f"{self.kind.name} workers run the suite's optimizers on {self.kind.backend}, and Keras "
                f"{a.versions()['keras']} ({a.GENERATION}) runs on TensorFlow only"
            )
        elif importlib.util.find_spec(self.kind.needs) is None:
            self.unsupported = f"{self.kind.name} claims need {self.kind.needs}, which is not installed here"
        if self.unsupported:
            raise Unsupported(self.unsupported)
        ports = _free_ports(self.kind.processes)
        for index in range(self.kind.processes):
            env = {
                **os.environ,
                "KERAS_BACKEND": self.kind.backend,
                "TF_CPP_MIN_LOG_LEVEL": "2",
                # The worker imports what the suite imported: user optimizers, the suite's own tests.
                "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
                **self.kind.env(index, ports),
            }
            out = tempfile.NamedTemporaryFile(prefix=f"conformance-{self.kind.name}-{index}-", suffix=".log")
            popen = subprocess.Popen(
                [sys.executable, "-m", "conformance.distributed.worker", self.kind.name, str(index)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=out, env=env, start_new_session=True,
            )
            self.procs.append(_Process(popen, out))
        answers = self._gather(START_S, "starting")
        for i, answer in enumerate(answers):
            if "unsupported" in answer:
                self.stop()
                self.unsupported = answer["unsupported"]
                raise Unsupported(self.unsupported)
            if "ok" not in answer:
                self._broken(f"{self.kind.name} worker {i} could not start:\n{answer.get('error')}")
        self.ready = [answer["ok"] for answer in answers]
        # A worker inherits TF_USE_LEGACY_KERAS and imports the adapter as the suite does; one that found
        # another Keras generation would judge other optimizers than the suite drew.
        theirs = {r["versions"]["generation"] for r in self.ready}
        if theirs != {a.GENERATION}:
            self._broken(f"{self.kind.name} workers run {sorted(theirs)}, the suite {a.GENERATION}")

    def _gather(self, seconds: float, doing: str) -> list[Any]:
        deadline = time.monotonic() + seconds
        out: list[Any] = []
        for i, p in enumerate(self.procs):
            try:
                out.append(wire.recv_before(p.popen.stdout.fileno(), deadline))
            except (TimeoutError, EOFError, OSError) as e:
                if isinstance(e, TimeoutError):
                    what = f"did not answer within {seconds:.0f} s"
                else:
                    try:
                        p.popen.wait(timeout=5)  # reaped, so that its exit status shows
                    except subprocess.TimeoutExpired:
                        pass
                    what = f"died (exit {p.popen.poll()})"
                if any("failed" in a for a in out):
                    # A process that found the claim false has stopped issuing collectives, so the
                    # rest of its cluster waits for it: its finding stands; the cluster restarts.
                    self.stop()
                    return out + [{"error": f"worker {i} stopped after worker {len(out) - 1} failed"}]
                self._broken(f"{self.kind.name} worker {i} {what} while {doing}")
        return out

    def _broken(self, what: str) -> None:
        tails = [
            f"--- worker {i} (exit {p.popen.poll()}) output, last {OUTPUT_TAIL} characters:\n{p.tail()}"
            for i, p in enumerate(self.procs)
        ]
        self.stop()
        self.failure = what + "\n" + "\n".join(tails)
        raise WorkerFailed(self.failure)

    def request(self, job: dict[str, Any]) -> list[Any]:
        """Send `job` to every process of the worker; their answers, in process order."""
        if self.failure:
            raise WorkerFailed(self.failure)
        if not self.procs:
            self._start()
        for p in self.procs:
            try:
                wire.send(p.popen.stdin, job)
            except OSError:
                self._broken(f"{self.kind.name} worker had gone before the job was sent")
        answers = self._gather(JOB_S, f"running job {job.get('job')!r}")
        if any(resident(p.popen.pid) > RECYCLE_BYTES for p in self.procs):
            self.stop()
        return answers

    def stop(self) -> None:
        for p in self.procs:
            try:
                os.killpg(p.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.popen.wait()
            p.output.close()
        self.procs = []


HOSTS: dict[str, Host] = {}


def host(kind: str) -> Host:
    if kind not in HOSTS:
        HOSTS[kind] = Host(KINDS[kind])
    return HOSTS[kind]


def forget_failures() -> None:
    """A new test: broken workers are started afresh on their next job."""
    for h in HOSTS.values():
        h.failure = None


@atexit.register
def stop_all() -> None:
    """Stop every worker process (at exit, and when the tests of a module are done with them)."""
    for h in HOSTS.values():
        h.stop()


def outcome(answer: dict[str, Any]) -> Any:
    """A worker's answer to one job: its value, or the exception it stands for."""
    if "ok" in answer:
        return answer["ok"]
    if "failed" in answer:
        raise ClaimFailed(answer["failed"])
    if "unsupported" in answer:
        raise Unsupported(answer["unsupported"])
    raise WorkerFailed(f"the worker's harness raised:\n{answer['error']}")
