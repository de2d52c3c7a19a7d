"""A worker process: `python -m conformance.distributed.worker KIND INDEX`, started by `host`.

It configures its devices before the backend initialises, says what it has, then runs jobs read
from stdin until stdin closes. The protocol uses a duplicate of fd 1; fd 1 itself is pointed at
the log, so anything Keras or TensorFlow prints cannot corrupt it.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import traceback
from typing import Any

from conformance.distributed import wire


def _orphan_watch() -> None:
    """Exit when the suite has gone (a worker blocked in a collective never sees stdin close)."""
    parent = os.getppid()
    while True:
        time.sleep(2)
        if os.getppid() != parent:
            os._exit(3)


def replicas(kind: str) -> Any:
    """The device group factory of a kind; imports (and so initialises) the backend."""
    if kind == "mirrored":
        from conformance.distributed.tf_replicas import mirrored

        return mirrored()
    if kind == "multi_worker":
        from conformance.distributed.tf_replicas import multi_worker

        return multi_worker()
    if kind == "data_parallel":
        from conformance.distributed.jax_replicas import data_parallel

        return data_parallel()
    if kind.startswith("backend_"):  # one device, the backend's default
        from types import SimpleNamespace

        from conformance.adapters import current

        return SimpleNamespace(devices=current().devices())
    raise SystemExit(f"unknown worker kind {kind!r}")


def answer(run: Any, *args: Any) -> dict[str, Any]:
    """Run a job; its value, or what went wrong as data the suite turns back into a verdict."""
    from conformance.core.errors import ClaimFailed, Unsupported

    try:
        return {"ok": run(*args)}
    except ClaimFailed as e:
        found = {"failed": str(e), "context": getattr(e, "context", {})}
    except Unsupported as e:
        found = {"unsupported": str(e)}
    except Exception:  # noqa: BLE001 - the harness broke: the suite records it as an error
        found = {"error": traceback.format_exc()}
    # A raising job's traceback holds its frames in reference cycles, and with them what they held:
    # a failed replicated model.fit keeps its multi-device iterator and the threads that iterator
    # blocks, and every eighth such failure TensorFlow stalled the next fit for 200 s (measured:
    # MirroredStrategy over 3 CPUs, jit_compile=True). Collected now, before the next job.
    gc.collect()
    return found


def main(argv: list[str]) -> None:
    kind = argv[1]
    proto = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    threading.Thread(target=_orphan_watch, daemon=True).start()
    found = answer(replicas, kind)
    if "ok" not in found:
        wire.send(proto, found)
        return
    group_of = found["ok"]
    from conformance.adapters import current
    from conformance.distributed import jobs

    gc.collect()
    gc.freeze()  # the imports and the devices: out of every later collection
    wire.send(proto, {"ok": {"devices": group_of.devices, "versions": current().versions()}})
    while True:
        try:
            job = wire.recv(sys.stdin.buffer)
        except EOFError:
            return
        if job is None:
            return
        wire.send(proto, answer(jobs.run, group_of, job))


if __name__ == "__main__":
    main(sys.argv)
