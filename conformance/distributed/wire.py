"""Length-prefixed pickles between the suite and its worker processes (both run this package)."""

from __future__ import annotations

import os
import pickle
import select
import struct
import time
from typing import IO, Any

_HEADER = struct.Struct(">Q")


def send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def recv(stream: IO[bytes]) -> Any:
    """The next object on a blocking stream; EOFError when the other side has gone."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("stream closed")
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("stream closed mid-message")
    return pickle.loads(data)


def recv_before(fd: int, deadline: float) -> Any:
    """The next object on the pipe `fd`, or TimeoutError once `time.monotonic()` passes `deadline`."""

    def read(n: int) -> bytes:
        out = b""
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, n - len(out))
            if not chunk:
                raise EOFError("worker closed its output")
            out += chunk
        return out

    (size,) = _HEADER.unpack(read(_HEADER.size))
    return pickle.loads(read(size))
