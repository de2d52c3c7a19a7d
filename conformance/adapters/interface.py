"""The adapter interface: everything the claims and the harness ask of a Keras generation.

One implementation per generation, each a module: `keras3` (any backend) and `keras2` (tf.keras
2.x, with its legacy optimizers). `conformance.adapters.current()` gives the installed one, typed
as `Adapter`; tests/test_adapter.py checks that every implementation defines every member below
with the same parameters. A method the installed generation cannot express raises
`conformance.core.errors.Unsupported` (the claim's verdict is then `unsupported`).

Scenarios ask capabilities (`MULTI_BACKEND`, `DISTRIBUTED_WORKERS`), never a generation's name.
Optimizers, variables and models are the generation's own objects (typed Any); gradients and
values cross the interface as numpy arrays.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from conformance.adapters.common import Dialect, StateVar


class Adapter(Protocol):
    # --- what is installed -------------------------------------------------------------------
    GENERATION: str  # "keras3" / "keras2": for results and messages only, never for a decision
    MULTI_BACKEND: bool  # the same optimizer also runs on Keras's other backends (jax, torch)
    DISTRIBUTED_WORKERS: bool  # the distributed worker processes can rebuild its optimizers
    BASE_CLASS: type | tuple[type, ...]  # what an optimizer is an instance of
    BASE_NAMES: dict[type, str]  # abstract bases by the name an expectations entry gives them
    LAYOUT_SHAPES: tuple[tuple[int, ...], ...]  # the weights a state layout is recorded on
    LOSS_SCALE_STATE: tuple[str, ...]  # a LossScaleOptimizer's own variables, by name
    LOSS_SCALE_OPTIMIZER: type | None  # the generation's LossScaleOptimizer class (None: it has none)
    LOSS_SCALE_CODE: str  # how reproducer code names that class ("keras.optimizers.LossScaleOptimizer")
    REPRO: Dialect  # how a standalone reproducer spells things in this generation
    REPRO_HEADER: str
    keras_module: Any  # the `keras` module the optimizers come from

    def versions(self) -> dict[str, str]:
        """Keras, backend and backend-library versions, and `generation`."""

    def devices(self) -> list[str]:
        """The devices the backend sees."""

    def accelerator(self) -> str | None:
        """The first GPU, as `on_device` names it, or None."""

    def on_device(self, name: str) -> AbstractContextManager[Any]:
        """A scope that places new variables and computations on `name` ("cpu:0", "gpu:0")."""

    # --- optimizer classes ---------------------------------------------------------------------
    def exported_optimizers(self) -> dict[str, type]:
        """Every concrete optimizer class the generation exports, by name."""

    def is_optimizer(self, obj: object) -> bool: ...

    def rule_name(self, name: str) -> str:
        """The reference rule (and spec) an exported optimizer name is judged by."""

    def accepted_options(self, cls: type) -> frozenset[str]:
        """The base-optimizer arguments (clipnorm, use_ema, ...) the class's constructor takes."""

    def default_instance(self, name: str, cls: type) -> Any:
        """The optimizer with its defaults (a wrapper around a default SGD)."""

    def hyperparameter(self, opt: Any, name: str) -> Any:
        """The value an optimizer holds for a constructor argument."""

    def is_loss_scale(self, opt: Any) -> bool: ...

    def loss_scale(self, opt: Any) -> float:
        """What the optimizer multiplies a loss by (a LossScaleOptimizer's scale, else 1)."""

    # --- variables and steps -------------------------------------------------------------------
    def variables(self, arrays: Sequence[np.ndarray], dtype: str) -> list[Any]:
        """Model variables holding `arrays`, named v0, v1, ..."""

    def values(self, vars_: Sequence[Any]) -> list[np.ndarray]: ...

    def np_dtype(self, dtype: str) -> Any: ...

    def assign_weights(self, vars_: Sequence[Any], values: Sequence[np.ndarray]) -> None: ...

    def build(self, opt: Any, vars_: Sequence[Any]) -> None: ...

    def create_state(self, opt: Any, vars_: Sequence[Any]) -> None:
        """Create the optimizer's state for `vars_` (before the harness forces a state)."""

    def apply(self, opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> None:
        """One apply_gradients call on these gradients (of the optimizer's scaled loss)."""

    def unscaled(self, opt: Any, grads: list) -> list:
        """The gradients of the optimizer's scaled loss (tensors) as a training step hands them to
        apply_gradients: as they are where apply_gradients unscales them itself (Keras 3), through
        get_unscaled_gradients for Keras 2's LossScaleOptimizer."""

    def apply_as_given(self, opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> None:
        """One apply_gradients call on exactly these gradients, not multiplied by the loss scale (the
        claim scales those it means to: a variable overwritten with its gradient gets it as computed)."""

    def apply_without_variables(self, opt: Any, grads: Sequence[np.ndarray], dtype: str) -> None:
        """One `apply(grads)` call with no variables passed, on a built optimizer: it updates those it
        was built with (gradients of its scaled loss, as `dtype` tensors)."""

    def mark_overwrite_with_gradient(self, vars_: Sequence[Any]) -> None:
        """Set `overwrite_with_gradient = True` on `vars_`: a step assigns them their gradient."""

    def unaggregated_flags(self, opt: Any) -> dict[str, bool]:
        """The apply_gradients keywords that switch cross-replica aggregation off."""

    def apply_unaggregated(self, opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> None: ...

    def finalize(self, opt: Any, vars_: Sequence[Any]) -> None:
        """finalize_variable_values (EMA weights into the model's)."""

    def compiled_modes(self) -> dict[str, str]:
        """The backend's ways of compiling a step, by claim suffix ("function", "xla")."""

    def compiled_apply(self, mode: str) -> Callable[[Any, list, list], None]:
        """One compiled step (optimizer, variables, gradients) as `mode` compiles it."""

    def timed_step(self, opt: Any, vars_: list, grads: list, mode: str) -> Callable[[], None]:
        """A step that returns when the device has finished it (for the benchmarks)."""

    # --- state -------------------------------------------------------------------------------
    def optimizer_variables(self, opt: Any) -> list[Any]:
        """The optimizer's variable objects, in `state` order (replicated ones as the strategy holds them)."""

    def state(self, opt: Any) -> list[StateVar]:
        """Every optimizer variable, in order, under generation-independent names."""

    def iterations(self, opt: Any) -> int: ...

    def assign_state(self, opt: Any, values: Sequence[np.ndarray]) -> None: ...

    def state_layout(self, opt: Any) -> list[dict[str, Any]]:
        """Order, names, shapes and dtypes of the state once built on LAYOUT_SHAPES."""

    def get_weights(self, opt: Any) -> list[np.ndarray]: ...

    def save_state(self, opt: Any, mechanism: str) -> Any:
        """A snapshot of the state by one round-trip mechanism (get_weights, own_variables, ...)."""

    def load_state(self, opt: Any, mechanism: str, blob: Any) -> None: ...

    def load_values(self, opt: Any, mechanism: str, values: Sequence[np.ndarray]) -> None:
        """Restore a list of state values through set_weights or load_own_variables."""

    def learning_rate_saved(self, opt: Any) -> bool:
        """Whether the learning rate is one of the variables that saving carries."""

    # --- configuration -----------------------------------------------------------------------
    def config(self, opt: Any) -> dict[str, Any]:
        """get_config() in a comparable form."""

    def from_config(self, opt: Any) -> Any: ...

    def set_learning_rate(self, opt: Any, value: float) -> None: ...

    def exclude_from_weight_decay(
        self, opt: Any, var_list: Sequence[Any] = (), var_names: Sequence[str] = ()
    ) -> None: ...

    def serialize(self, opt: Any) -> Any: ...

    def deserialize(self, blob: Any, custom: Sequence[type]) -> Any: ...

    def get(self, identifier: Any, custom: Sequence[type] = ()) -> Any:
        """keras.optimizers.get(identifier), with user classes known by their names."""

    # --- models ------------------------------------------------------------------------------
    def model_holding(self, arrays: Sequence[np.ndarray], dtype: str, opt: Any) -> tuple[Any, list[Any]]:
        """A compiled model whose trainable weights are `arrays` and whose optimizer is `opt`."""

    def dense_model(self, kernel: np.ndarray, bias: np.ndarray, dtype: str, opt: Any, jit_compile: bool = False) -> Any:
        """A one-layer model compiled with `opt` and the mean squared error; `jit_compile`: compiled
        with jit_compile=True (else Keras's default)."""

    def model_weights(self, model: Any) -> list[np.ndarray]: ...

    def recompile(self, model: Any, opt: Any) -> None: ...

    def fit(self, model: Any, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int) -> None: ...

    def evaluate_swapping_ema(self, model: Any, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """model.evaluate(x, y) in one batch with callbacks=[keras.callbacks.SwapEMAWeights()]: the
        trainable weights the model held while it evaluated (the callback swaps them in and out)."""

    def keras_file_roundtrip(self, model: Any, custom: Sequence[type]) -> tuple[Any, list[Any]]:
        """model.save() to a .keras file and load_model(): the new optimizer and weights."""

    def keras_file_reload(self, model: Any, custom: Sequence[type]) -> Any: ...

    # --- errors ------------------------------------------------------------------------------
    def keras_call(self, what: str) -> AbstractContextManager[None]:
        """A scope that turns an exception Keras raises into a claim failure naming `what`."""


def members() -> dict[str, Any]:
    """The interface's members by name: attributes as their annotation, methods as functions."""
    out: dict[str, Any] = {n: t for n, t in Adapter.__annotations__.items()}
    out.update({n: f for n, f in vars(Adapter).items() if callable(f) and not n.startswith("_")})
    return out


def problems(implementation: Any) -> list[str]:
    """What `implementation` (an adapter module) lacks of the interface, or defines with other
    parameters than the interface's: one line each, none for a complete implementation."""
    import inspect

    out = []
    for name, member in members().items():
        if not hasattr(implementation, name):
            out.append(f"{name}: missing")
        elif inspect.isfunction(member):
            want = [p for p in inspect.signature(member).parameters if p != "self"]
            try:
                got = list(inspect.signature(getattr(implementation, name)).parameters)
            except (TypeError, ValueError):
                continue  # a builtin or C callable: nothing to compare
            if got != want:
                out.append(f"{name}: parameters ({', '.join(got)}), the interface's are ({', '.join(want)})")
    return out
