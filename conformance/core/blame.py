"""Who raised: the frames of an exception's traceback that are the user's own code.

A frame belongs to the user when its module is neither the standard library nor one of the
libraries the suite drives (Keras, its backends, numpy, the suite and its test runner). An
exception raised while such a frame was on the stack is the user's optimizer's doing (their
constructor, `build`, `update_step`, or TensorFlow-only code under another backend), not Keras's.
"""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

LIBRARIES = frozenset({
    "keras", "tf_keras", "tensorflow", "tensorboard", "jax", "jaxlib", "torch", "numpy", "ml_dtypes", "optree", "optax",
    "absl", "h5py", "google", "namex", "rich", "chex", "flax", "conformance", "hypothesis", "_pytest", "pytest",
    "pluggy", "xdist", "execnet", "__main__", "_hypothesis_globals",
})


def _is_user(module: str) -> bool:
    top = module.split(".")[0]
    # autograph's converted functions are Keras's or the user's: no verdict on them either way
    return (
        bool(top) and top not in LIBRARIES and top not in sys.stdlib_module_names and not top.startswith("__autograph")
    )


def user_frames(tb: TracebackType | None) -> list[traceback.FrameSummary]:
    """The user's frames in `tb`, outermost first."""
    out = []
    for frame, lineno in traceback.walk_tb(tb):
        if _is_user(frame.f_globals.get("__name__", "")):
            out.append(traceback.FrameSummary(frame.f_code.co_filename, lineno, frame.f_code.co_name))
    return out


PREFIX = "the optimizer's own code raised "  # how a user's crash is told apart, in any message that carries it


# Methods a subclass must write: the base class's own raises NotImplementedError, so a class that
# does not write one crashes in Keras's frame, but the gap is the subclass's.
ABSTRACT = frozenset({"update_step"})


def unimplemented(exc: BaseException) -> str | None:
    """The abstract method whose base version raised `exc`, where that is what happened."""
    if not isinstance(exc, NotImplementedError) or str(exc):
        return None
    frames = list(traceback.walk_tb(exc.__traceback__))
    name = frames[-1][0].f_code.co_name if frames else ""
    return name if name in ABSTRACT else None


def describe(exc: BaseException, frames: list[traceback.FrameSummary], what: str) -> str:
    """The message of a user's crash: where in their code, what the suite was doing, their frames."""
    last = frames[-1]
    shown = "".join(traceback.format_list(frames)).rstrip()
    return (
        f"{PREFIX}{type(exc).__name__} in {last.name} ({last.filename}:{last.lineno}) "
        f"during {what}: {exc}\nits frames (outermost first):\n{shown}"
    )
