"""Peak resident memory of a command and of every process it starts, sampled from /proc (Linux).

    python -m conformance.tools.peak_rss [--interval S] -- COMMAND ...

runs COMMAND, samples the resident set of it and all its descendants every S seconds (0.5), and
prints the peak per kind of process (the pytest controller, its xdist workers, each kind of the
suite's worker processes) and the highest of all, the number the memory target is stated in.
suite_wall uses the same Sampler around each run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

from conformance.core.resident import resident


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out




def kind(pid: int) -> str:
    """What a process is, from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return "gone"
    if "conformance.distributed.worker" in argv:
        return f"{argv[argv.index('conformance.distributed.worker') + 1]} worker"
    if any("exec(eval(" in a for a in argv):  # how execnet starts a pytest-xdist worker
        return "xdist worker"
    if "pytest" in argv or any(Path(a).name in ("pytest", "py.test") for a in argv[:2]):
        return "pytest controller"
    return Path(argv[0]).name or "process"


class Sampler(threading.Thread):
    """Samples the tree under `root` until stop(); `peaks` holds (bytes, kind) per pid."""

    def __init__(self, root: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peaks: dict[int, tuple[int, str]] = {}
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            todo, seen = [self.root], set()
            while todo:
                pid = todo.pop()
                if pid in seen:
                    continue
                seen.add(pid)
                rss = resident(pid)
                if rss > self.peaks.get(pid, (0, ""))[0]:
                    self.peaks[pid] = (rss, kind(pid))
                todo += _children(pid)
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """kind -> (peak bytes of any one process of that kind, number of processes)."""
        out: dict[str, tuple[int, int]] = {}
        for rss, k in self.peaks.values():
            peak, n = out.get(k, (0, 0))
            out[k] = (max(peak, rss), n + 1)
        return out

    def summary(self) -> str:
        kinds = sorted(self.by_kind().items(), key=lambda kv: -kv[1][0])
        top = max((rss for rss, _ in self.peaks.values()), default=0)
        parts = ", ".join(f"{k} {peak / 2**30:.2f} GB ({n})" for k, (peak, n) in kinds)
        return f"peak RSS {top / 2**30:.2f} GB; per kind (processes): {parts}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print("usage: python -m conformance.tools.peak_rss [--interval S] -- COMMAND ...", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="python -m conformance.tools.peak_rss")
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv[: argv.index("--")])
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv[argv.index("--") + 1:])
    sampler = Sampler(proc.pid, args.interval)
    sampler.start()
    code = proc.wait()
    sampler.stop()
    print(f"{time.perf_counter() - t0:.0f} s wall, exit {code}; {sampler.summary()}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
