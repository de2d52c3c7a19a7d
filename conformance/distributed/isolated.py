"""Part of a claim run in a worker process of this process's own backend (kind `backend_<name>`).

For work that leaves what Python cannot release: TensorFlow keeps every function that model.fit
traces, with its XLA compilations, for the life of the process. Run in the worker, it is freed
when the worker passes `host.RECYCLE_BYTES` and is replaced, so the pytest process stays small.
The function runs as it would here (same Keras, backend and device); its ClaimFailed and
Unsupported come back as such, and a crash of the worker is a harness error.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from conformance.adapters import current as adapter
from conformance.core import running
from conformance.distributed import host


def name_of(function: Callable) -> str:
    """How the worker finds `function`: a module-level function of an importable module."""
    if "<" in function.__qualname__ or function.__module__ == "__main__":
        raise ValueError(f"{function.__qualname__} is not a module-level function a worker can import")
    return f"{function.__module__}:{function.__qualname__}"


def function_named(name: str) -> Callable:
    module, qualname = name.split(":")
    return getattr(importlib.import_module(module), qualname)


def request(kind: str, job: dict[str, Any]) -> dict[str, Any]:
    """`job`'s answer from the one-process worker `kind`, where it ran recorded on the running claim."""
    worker = host.host(kind)
    answer = host.outcome(worker.request(job)[0])
    running.current().ran_on.update(kind=kind, devices=[answer["devices"]], versions=worker.ready[0]["versions"])
    return answer


def call(function: Callable, *args: Any) -> Any:
    """`function(*args)` (picklable arguments and value) in this backend's worker process."""
    job = {"job": "call", "function": name_of(function), "args": args}
    return request(f"backend_{adapter().versions()['backend']}", job)["value"]
