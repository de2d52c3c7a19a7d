"""Standalone reproducer snippets (keras + numpy only) for a failing case."""

from __future__ import annotations

import re

import numpy as np

from conformance.adapters import current as adapter
from conformance.inputs.strategies import Case


def array_code(a: np.ndarray) -> str:
    """`a` as `np.array([...])` code (NaN and Inf included), in float64."""
    text = re.sub(r"\b(nan|inf)\b", r"float('\1')", repr(np.asarray(a, np.float64).tolist()))
    return f"np.array({text})"


def script(
    case: Case,
    steps: list[list[np.ndarray]] | None = None,
    check: str = "",
    build_first: bool = False,
    prelude: str = "",
) -> str:
    """A script that rebuilds the case's optimizer and variables and applies `steps` gradients.

    `prelude` is run before the optimizer is built (e.g. a call configuring it); `check` is
    appended as the lines that show what the claim expected.
    """
    steps = case.grads if steps is None else steps
    d = adapter().REPRO
    lines = _opening(case, "variables")
    if prelude:
        lines += prelude.strip().splitlines()
    if build_first:
        lines.append(d.build)
    lines.append("gradients = [")
    for step in steps:
        lines.append("    [" + ", ".join(array_code(g) for g in step) + "],")
    lines += [
        "]",
        "for grads in gradients:",
        "    # gradients of opt.scale_loss(loss): 1x unless the optimizer scales the loss",
        f"    scale = {d.scale}",
        f"    grads = [{d.tensor.format(x='g * scale', dtype='v.dtype')} for g, v in zip(grads, variables)]",
        f"    opt.apply_gradients(zip({d.unscale.format(grads='grads')}, variables))",
    ]
    return "\n".join(lines + _closing(check))


def _opening(case: Case, name: str) -> list[str]:
    """The script's imports, the optimizer and the case's variables, as the list `name`."""
    d = adapter().REPRO
    return [
        d.header,
        *([case.setup.imports] if case.setup.imports else []),
        "",
        f"opt = {case.setup.code}",
        f"{name} = [",
        *[
            f"    {d.variable.format(value=array_code(w), dtype=case.dtype, name=f'v{i}')},"
            for i, w in enumerate(case.weights)
        ],
        "]",
    ]


def _closing(check: str) -> list[str]:
    """What the script prints (weights, iterations, every optimizer variable), then `check`."""
    d = adapter().REPRO
    return [
        f"print('weights:', [{d.numpy.format(x='v')} for v in variables])",
        f"print('iterations:', int({d.numpy.format(x='opt.iterations')}))",
        f"for v in {d.variables}:",
        f"    print({d.name.format(v='v')}, {d.numpy.format(x='v')})",
        *(["", *check.strip().splitlines()] if check else []),
    ]


def selected_script(
    case: Case, built: list[int], steps: list[tuple[list[int], list[np.ndarray]]], check: str = ""
) -> str:
    """A script that builds the case's optimizer on `variables[i] for i in built` and then applies
    each step's gradients to the variables that step names, in its order: (indices, gradients)."""
    d = adapter().REPRO
    lines = [
        *_opening(case, "model_variables"),
        f"variables = [model_variables[i] for i in {built}]  # what the optimizer is built with",
        d.build,
        "variables = model_variables",
        "steps = [  # (the variables given, by index; their gradients)",
        *[f"    ({given}, [{', '.join(array_code(g) for g in grads)}])," for given, grads in steps],
        "]",
        "for given, grads in steps:",
        "    # gradients of opt.scale_loss(loss): 1x unless the optimizer scales the loss",
        f"    scale = {d.scale}",
        "    chosen = [variables[i] for i in given]",
        f"    grads = [{d.tensor.format(x='g * scale', dtype='v.dtype')} for g, v in zip(grads, chosen)]",
        f"    opt.apply_gradients(zip({d.unscale.format(grads='grads')}, chosen))",
    ]
    return "\n".join(lines + _closing(check))
