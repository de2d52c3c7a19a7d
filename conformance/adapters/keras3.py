"""Keras 3 adapter, for any backend (chosen by KERAS_BACKEND before keras is imported)."""

from __future__ import annotations

import inspect
import re
from typing import Any, Callable, Sequence

import keras
import numpy as np

from conformance.adapters import common
from conformance.adapters.common import StateVar, keras_call, np_dtype
from conformance.core.errors import Unsupported

# Interface members every generation spells alike (common.py), part of this module's interface.
LAYOUT_SHAPES, assign_weights = common.LAYOUT_SHAPES, common.assign_weights
config, from_config = common.config, common.from_config
set_learning_rate, learning_rate_saved = common.set_learning_rate, common.learning_rate_saved
exclude_from_weight_decay = common.exclude_from_weight_decay

GENERATION = "keras3"
MULTI_BACKEND = True  # tensorflow, jax and torch run the same optimizers
DISTRIBUTED_WORKERS = True  # the workers rebuild optimizers from Keras 3 reproducer code
BASE_CLASS = keras.optimizers.Optimizer
# The abstract bases by the name a declared deviation may give them (a user class inherits their entries).
BASE_NAMES = {keras.optimizers.Optimizer: "Optimizer"}


def versions() -> dict[str, str]:
    """Keras, backend and backend library versions."""
    backend = keras.backend.backend()
    out = {"keras": keras.__version__, "backend": backend, "generation": GENERATION}
    lib = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}[backend]
    out[lib] = str(__import__(lib).__version__)  # torch: a str subclass that xdist cannot send
    return out


def devices() -> list[str]:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_logical_devices()]
    if backend == "jax":
        import jax

        return [str(d) for d in jax.devices()]
    if backend == "torch":
        import torch

        return ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return ["cpu"]


def exported_optimizers() -> dict[str, type]:
    """Every concrete optimizer class `keras.optimizers` exports, by name."""
    out = {}
    for name, obj in vars(keras.optimizers).items():
        if inspect.isclass(obj) and issubclass(obj, BASE_CLASS) and obj is not BASE_CLASS:
            out[name] = obj
    return dict(sorted(out.items()))


def is_optimizer(obj: object) -> bool:
    return isinstance(obj, BASE_CLASS)


def variables(arrays: Sequence[np.ndarray], dtype: str) -> list[Any]:
    """Model variables holding `arrays`, named v0, v1, ... so optimizer state names pair up."""
    return [
        keras.Variable(np.asarray(a, dtype=np.float64).astype(np_dtype(dtype)), dtype=dtype, name=f"v{i}")
        for i, a in enumerate(arrays)
    ]


def to_numpy(x: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def values(vars_: Sequence[Any]) -> list[np.ndarray]:
    return [to_numpy(v) for v in vars_]


def build(opt: Any, vars_: Sequence[Any]) -> None:
    with keras_call("optimizer.build(variables)"):
        opt.build(list(vars_))


def create_state(opt: Any, vars_: Sequence[Any]) -> None:
    """Create the optimizer's state for `vars_` (what the harness needs before forcing state)."""
    build(opt, vars_)


def unscaled(opt: Any, grads: list) -> list:
    """`grads` as they are: apply_gradients unscales the gradients of `scale_loss(loss)` itself."""
    return list(grads)


def apply(opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> None:
    """One `apply_gradients` call; gradients are those of `scale_loss(loss)`, as Keras documents."""
    with keras_call("optimizer.apply_gradients"):
        opt.apply_gradients(zip(_scaled_tensors(opt, grads, vars_), vars_))


def _scaled_tensors(opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> list[Any]:
    """The gradients of `opt.scale_loss(loss)` as tensors of each variable's dtype."""
    scale = loss_scale(opt)
    return [
        keras.ops.convert_to_tensor((np.asarray(g, np.float64) * scale).astype(np_dtype(v.dtype)), dtype=v.dtype)
        for g, v in zip(grads, vars_)
    ]


def apply_as_given(opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> None:
    """One `apply_gradients` call on exactly these gradients (cast to each variable's dtype, not scaled)."""
    tensors = [
        keras.ops.convert_to_tensor(np.asarray(g, np.float64).astype(np_dtype(v.dtype)), dtype=v.dtype)
        for g, v in zip(grads, vars_)
    ]
    with keras_call("optimizer.apply_gradients"):
        opt.apply_gradients(zip(tensors, vars_))


def apply_without_variables(opt: Any, grads: Sequence[np.ndarray], dtype: str) -> None:
    """One `apply(grads)` call, no variables passed; gradients are those of `scale_loss(loss)`."""
    scale = loss_scale(opt)
    tensors = [
        keras.ops.convert_to_tensor((np.asarray(g, np.float64) * scale).astype(np_dtype(dtype)), dtype=dtype)
        for g in grads
    ]
    with keras_call("optimizer.apply(grads)"):
        opt.apply(tensors)


def mark_overwrite_with_gradient(vars_: Sequence[Any]) -> None:
    for v in vars_:
        v.overwrite_with_gradient = True


def optimizer_variables(opt: Any) -> list[Any]:
    return list(opt.variables)


def state(opt: Any) -> list[StateVar]:
    """Every optimizer variable in `opt.variables` order (iteration counter included)."""
    owners = _slot_owners(opt)
    out = []
    for v in opt.variables:
        path = getattr(v, "path", v.name)
        # Keras uniquifies auto-named variables per process ("variable", "variable_1", ...);
        # no slot name ends in digits, so the suffix is dropped for a stable name.
        name = re.sub(r"_\d+$", "", path.split("/")[-1])
        # A weight of the suite's holder layer ("weight_holder_3/v0") names its slots after its
        # path ("weight_holder_3_v0_momentum"): the weight's own name is what pairs them.
        name = re.sub(r"^weight_holder(_\d+)?_", "", name)
        owner = owners.get(id(v))
        if owner and name != owner and not name.startswith(f"{owner}_"):
            name = f"{owner}_{name}"  # the `<weight>_<slot>` name later Keras releases give it
        out.append(StateVar(path, name, tuple(v.shape), str(v.dtype), to_numpy(v)))
    return out


def _slot_owners(opt: Any) -> dict[int, str]:
    """The weight each per-weight slot variable belongs to, by id, from the optimizer's slot lists.

    Keras 3.3 (at least) names some slots without their weight: Adagrad's and Ftrl's accumulators are
    all "accumulator" (`add_variable(name="accumulator")`), where later releases name them
    "<weight>_accumulator". Their position in the optimizer's per-weight list says whose they are."""
    weights = list(getattr(opt, "_trainable_variables", None) or [])
    own = {id(v) for v in opt.variables}
    skip = id(getattr(opt, "_variables", None))
    owners: dict[int, str] = {}
    for value in vars(opt).values():
        if (
            not isinstance(value, list)
            or id(value) == skip
            or not value
            or len(value) != len(weights)
            or not all(id(x) in own for x in value)
        ):
            continue
        for w, x in zip(weights, value):
            owners.setdefault(id(x), w.name)
    return owners


def iterations(opt: Any) -> int:
    return int(to_numpy(opt.iterations))


def finalize(opt: Any, vars_: Sequence[Any]) -> None:
    with keras_call("optimizer.finalize_variable_values"):
        opt.finalize_variable_values(list(vars_))


def hyperparameter(opt: Any, name: str) -> Any:
    """The value an optimizer holds for a constructor argument (Keras keeps them as attributes)."""
    value = getattr(opt, name, None)
    return to_numpy(value).item() if hasattr(value, "numpy") or hasattr(value, "value") else value


def assign_state(opt: Any, values: Sequence[np.ndarray]) -> None:
    """Assign a value to every optimizer variable, in `opt.variables` order."""
    common.assign_all(opt.variables, values)


def _get_weights(opt: Any) -> Any:
    return common.weights_or_unsupported(opt, keras.__version__)


# State round trips: name -> (take a snapshot of a built optimizer, restore it into another).


def _checkpoint_write(opt: Any) -> Any:
    if keras.backend.backend() != "tensorflow":
        raise Unsupported("tf.train.Checkpoint needs the TensorFlow backend")
    return common.checkpoint_write(opt)


ROUND_TRIPS = {
    "get_weights": (_get_weights, lambda opt, blob: opt.set_weights(blob)),
    "variables_set_weights": (
        lambda opt: [to_numpy(v) for v in opt.variables],
        lambda opt, blob: opt.set_weights(blob),
    ),
    "own_variables": (common.own_save, lambda opt, blob: opt.load_own_variables(blob)),
    "tf_checkpoint": (_checkpoint_write, common.checkpoint_read),
}


# The functions spelled alike in every generation (common.py), made from this generation's pieces.
_models, _io = common.Models(keras), common.StateIO(
    keras.__version__, ROUND_TRIPS, to_numpy, _scaled_tensors, _get_weights
)
model_holding, dense_model, recompile, fit = _models.model_holding, _models.dense_model, _models.recompile, _models.fit
keras_file_roundtrip, keras_file_reload = _models.keras_file_roundtrip, _models.keras_file_reload
serialize, deserialize, get = _models.serialize, _models.deserialize, _models.get
model_weights, save_state, load_state, get_weights = _io.model_weights, _io.save_state, _io.load_state, _io.get_weights
unaggregated_flags, apply_unaggregated = _io.unaggregated_flags, _io.apply_unaggregated


def evaluate_swapping_ema(model: Any, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """model.evaluate(x, y) in one batch with callbacks=[keras.callbacks.SwapEMAWeights()]: the
    trainable weights the model held while it evaluated."""
    swap = getattr(keras.callbacks, "SwapEMAWeights", None)
    if swap is None:
        raise Unsupported(f"Keras {keras.__version__} has no keras.callbacks.SwapEMAWeights")
    seen: list[np.ndarray] = []

    class Seen(keras.callbacks.Callback):
        # Listed after SwapEMAWeights, whose hooks run first: this sees the weights evaluation uses.
        def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
            seen[:] = model_weights(self.model)

    with keras_call("model.evaluate(x, y, callbacks=[keras.callbacks.SwapEMAWeights()])"):
        model.evaluate(x, y, batch_size=len(x), verbose=0, callbacks=[swap(), Seen()])
    return seen


# A LossScaleOptimizer's own variables: its loss scale and the finite steps counted towards growing it.
LOSS_SCALE_STATE = ("step_counter", "dynamic_scale")
# Looked up, not assumed: a Keras 3 release without it gets None (the loss-scale claims say so).
LOSS_SCALE_OPTIMIZER: type | None = getattr(keras.optimizers, "LossScaleOptimizer", None)
LOSS_SCALE_CODE = "keras.optimizers.LossScaleOptimizer"


def is_loss_scale(opt: Any) -> bool:
    return isinstance(opt, keras.optimizers.LossScaleOptimizer)


def loss_scale(opt: Any) -> float:
    """What `opt.scale_loss` multiplies a loss by (a LossScaleOptimizer's dynamic scale, else 1)."""
    return float(to_numpy(opt.scale_loss(1.0)))


def default_instance(name: str, cls: type) -> Any:
    """The optimizer with its defaults (wrappers around a default SGD), for recording layouts."""
    if issubclass(cls, keras.optimizers.LossScaleOptimizer):
        return cls(keras.optimizers.SGD())
    if issubclass(cls, keras.optimizers.MultiOptimizer):
        return cls(keras.optimizers.OptimizerMap(default_optimizer=keras.optimizers.SGD()))
    return cls()


def state_layout(opt: Any) -> list[dict[str, Any]]:
    """Order, names, shapes and dtypes of the optimizer's variables once built on LAYOUT_SHAPES."""
    return common.layout_of(build, state, variables, opt)


def load_values(opt: Any, mechanism: str, values: Sequence[np.ndarray]) -> None:
    """Restore a list of state values through `set_weights` or `load_own_variables`."""
    with keras_call(f"restoring optimizer state ({mechanism})"):
        if mechanism == "set_weights":
            opt.set_weights(list(values))
        else:
            opt.load_own_variables({str(i): v for i, v in enumerate(values)})


keras_module = keras

REPRO = common.Dialect(
    header="import keras\nimport numpy as np",
    variable="keras.Variable({value}, dtype={dtype!r}, name={name!r})",
    numpy="keras.ops.convert_to_numpy({x})",
    tensor="keras.ops.convert_to_tensor({x}, dtype={dtype})",
    scale="float(keras.ops.convert_to_numpy(opt.scale_loss(1.0)))",
    name="{v}.path",
)
REPRO_HEADER = REPRO.header + "\n"


def accepted_options(cls: type) -> frozenset[str]:
    """The base arguments the class's constructor takes (options.OPTION_NAMES and
    loss_scale_factor): the signature of the nearest Keras class (a user subclass may take **kwargs)."""
    return common.base_arguments(cls, ("keras",))


def rule_name(name: str) -> str:
    """The reference rule and hyperparameter table of an exported optimizer name."""
    return name


def compiled_modes() -> dict[str, str]:
    """The backend's ways of compiling an optimizer step, by claim suffix."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return {"function": "tf.function", "xla": "tf.function(jit_compile=True)"}
    if backend == "jax":
        return {"function": "jax.jit(optimizer.stateless_apply)"}
    return {}


def compiled_apply(mode: str) -> Callable[[Any, list, list], None]:
    """One compiled step, (optimizer, variables, float64 gradients) -> None, as `mode` compiles it."""
    modes = compiled_modes()
    if mode not in modes:
        raise Unsupported(
            f"the {keras.backend.backend()} backend has no {mode!r} compilation of an optimizer step "
            f"(it has: {', '.join(modes.values()) or 'none'})"
        )
    if keras.backend.backend() == "tensorflow":
        return common.tf_compiled_step(modes[mode], mode == "xla", _scaled_tensors)
    import jax

    def apply(opt: Any, vars_: list, grads: list) -> None:
        tensors = _scaled_tensors(opt, grads, vars_)
        with keras_call(f"{modes[mode]}(optimizer variables, gradients, weights)"):
            weights, state = jax.jit(opt.stateless_apply)(
                [v.value for v in opt.variables], tensors, [v.value for v in vars_]
            )
            for v, x in zip(vars_, weights):
                v.assign(x)
            for v, x in zip(opt.variables, state):
                v.assign(x)

    return apply


def timed_step(opt: Any, vars_: list, grads: list, mode: str) -> Callable[[], None]:
    """A zero-argument step of the built optimizer on these gradients (converted once), "eager" or
    a compiled_modes() key, that returns only when the device has finished it (for benchmarks)."""
    backend = keras.backend.backend()
    if mode != "eager" and mode not in compiled_modes():
        raise Unsupported(f"the {backend} backend has no {mode!r} compilation of an optimizer step")
    tensors = _scaled_tensors(opt, grads, vars_)
    if backend == "tensorflow":
        return common.tf_timed_step(opt, vars_, tensors, mode)
    if backend == "jax":
        import jax

        if mode == "eager":

            def eager() -> None:
                opt.apply_gradients(zip(tensors, vars_))
                jax.block_until_ready([v.value for v in vars_])

            return eager
        # Weights and state stay jax arrays between steps, as in a jitted training loop.
        jitted, held = jax.jit(opt.stateless_apply), [[v.value for v in opt.variables], [v.value for v in vars_]]

        def compiled() -> None:
            weights, state = jitted(held[0], tensors, held[1])
            held[:] = [state, weights]
            jax.block_until_ready(weights)

        return compiled
    import torch

    def torch_step() -> None:
        opt.apply_gradients(zip(tensors, vars_))
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    return torch_step


def accelerator() -> str | None:
    """The first GPU this backend sees (as `keras.device` names it), or None."""
    gpus = [d for d in devices() if "gpu" in d.lower() or "cuda" in d.lower()]
    if not gpus:
        return None
    return "gpu:0"


def on_device(name: str) -> Any:
    """A scope placing new variables and computations on `name` ("cpu:0", "gpu:0")."""
    return keras.device(name)
