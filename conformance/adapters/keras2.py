"""Keras 2 adapter: `tf.keras` of TensorFlow <= 2.15, or the tf-keras package where
TF_USE_LEGACY_KERAS=1 (set before TensorFlow is imported) makes `tf.keras` Keras 2.

Both optimizer families of Keras 2 run here side by side: the "new" optimizers
(`tf.keras.optimizers.Adam`, with `build`, `skip_gradients_aggregation`,
`finalize_variable_values`) under their own names, and the legacy `OptimizerV2` family
(`tf.keras.optimizers.legacy.Adam`, with `get_weights`/`set_weights` and
`experimental_aggregate_gradients`) as `legacy.<Name>`; `keras2_legacy` holds what only the
legacy family needs. Variable names are translated to Keras 3's (`v0_momentum`), so that the
references and comparisons pair state the same way in every generation.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Sequence

import numpy as np
import tensorflow as tf

from conformance.adapters import common
from conformance.adapters import keras2_legacy as legacy
from conformance.adapters.common import StateVar, keras_call
from conformance.core.errors import Unsupported

# Interface members every generation spells alike (common.py), part of this module's interface.
LAYOUT_SHAPES, assign_weights = common.LAYOUT_SHAPES, common.assign_weights
config, from_config = common.config, common.from_config
set_learning_rate, learning_rate_saved = common.set_learning_rate, common.learning_rate_saved
exclude_from_weight_decay = common.exclude_from_weight_decay

keras = tf.keras
GENERATION = "keras2"
MULTI_BACKEND = False  # tf.keras runs on TensorFlow only
# The workers import tf.keras as this process does (they inherit TF_USE_LEGACY_KERAS) and rebuild
# optimizers from Keras 2 reproducer code; DataParallel's worker needs MULTI_BACKEND (Keras 3 on JAX).
DISTRIBUTED_WORKERS = True
BASE_CLASS = (keras.optimizers.Optimizer, legacy.BASE)
# The abstract bases by the name a declared deviation may give them (a user class inherits their entries).
BASE_NAMES = {keras.optimizers.Optimizer: "Optimizer", legacy.BASE: "legacy.Optimizer"}
# tf.keras is the tf_keras package (TF_USE_LEGACY_KERAS) or, up to TensorFlow 2.15, the keras package.
VERSION = __import__(keras.__name__.split(".")[0]).__version__

# Keras 2 slot names -> Keras 3's (the names the references' pairing expects).
SLOT_NAMES = {
    "m": "momentum",
    "v": "velocity",
    "vhat": "velocity_hat",
    "u": "norm",
    "rms": "velocity",
    "mg": "average_gradient",
    "accum_grad": "accumulated_grad",
    "accum_var": "accumulated_delta_var",
    "r": "",
    "c": "",  # Adafactor's factored second moments carry the weight's own name in Keras 3
}
# Where the same Keras 2 slot name means another Keras 3 slot, by optimizer.
SLOT_NAMES_OF = {("Adamax", "v"): "norm"}
COUNTER_NAMES = {"iteration": "iteration", "iter": "iteration"}
# Keras 2's LossScaleOptimizer is tf.keras.mixed_precision's: constructing it gives LossScaleOptimizerV3
# around a new-family optimizer, or LossScaleOptimizer (an OptimizerV2) around a legacy one. Its own
# variables (current_loss_scale, good_steps) are not among optimizer.variables, so no state name is its.
LOSS_SCALE_OPTIMIZER: type | None = keras.mixed_precision.LossScaleOptimizer
LOSS_SCALE_CODE = "keras.mixed_precision.LossScaleOptimizer"
LOSS_SCALE_STATE: tuple[str, ...] = ()


def versions() -> dict[str, str]:
    return {
        "keras": VERSION,
        "backend": "tensorflow",
        "generation": GENERATION,
        "tensorflow": tf.__version__,
        "keras_module": keras.__name__,
    }


def devices() -> list[str]:
    return [d.name for d in tf.config.list_logical_devices()]


def exported_optimizers() -> dict[str, type]:
    """The "new" optimizers by name, the legacy family as `legacy.<Name>`, and
    `tf.keras.mixed_precision.LossScaleOptimizer` as `LossScaleOptimizer` (the adapter speaks its
    own API: get_scaled_loss, get_unscaled_gradients)."""
    out: dict[str, type] = {"LossScaleOptimizer": keras.mixed_precision.LossScaleOptimizer}
    for prefix, module, base in (
        ("", keras.optimizers, BASE_CLASS[0]),
        ("legacy.", keras.optimizers.legacy, legacy.BASE),
    ):
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, base) and obj is not base and not name.startswith("_"):
                out[prefix + name] = obj
    return dict(sorted(out.items()))


def rule_name(name: str) -> str:
    """`legacy.Adam` documents the same algorithm as `Adam`."""
    return name.removeprefix("legacy.")


def is_optimizer(obj: object) -> bool:
    return isinstance(obj, BASE_CLASS)


def np_dtype(dtype: Any) -> Any:
    """The numpy dtype of a dtype name or of a tf.DType (what a tf.Variable's `dtype` is)."""
    return common.np_dtype(getattr(dtype, "name", dtype))


def accepted_options(cls: type) -> frozenset[str]:
    """The base options the class's constructor takes (the new family lists them in its signature)."""
    if issubclass(cls, legacy.BASE):
        return legacy.OPTIONS
    return common.base_arguments(cls, ("keras", "tf_keras"))


def variables(arrays: Sequence[np.ndarray], dtype: str) -> list[Any]:
    """tf.Variables holding `arrays`, named v0, v1, ... so optimizer state names pair up."""
    return [tf.Variable(common.in_dtype(a, dtype), dtype=dtype, name=f"v{i}") for i, a in enumerate(arrays)]


def to_numpy(x: Any) -> np.ndarray:
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def values(vars_: Sequence[Any]) -> list[np.ndarray]:
    return [to_numpy(v) for v in vars_]


def build(opt: Any, vars_: Sequence[Any]) -> None:
    if legacy.is_legacy(opt):
        raise Unsupported(legacy.NO_BUILD)
    with keras_call("optimizer.build(variables)"):
        opt.build(list(vars_))


def create_state(opt: Any, vars_: Sequence[Any]) -> None:
    """Create the optimizer's state for `vars_`: build(), or for the legacy family the method its
    apply_gradients calls (the harness's need, not a claim about the API)."""
    if legacy.is_legacy(opt):
        with keras_call("optimizer._create_all_weights(variables)"):
            legacy.create_all_weights(opt, vars_)
        return
    build(opt, vars_)


def _tensors(grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> list[Any]:
    return [tf.convert_to_tensor(common.in_dtype(g, v.dtype.name), dtype=v.dtype) for g, v in zip(grads, vars_)]


def unscaled(opt: Any, grads: list) -> list:
    """Keras 2's documented GradientTape recipe: a LossScaleOptimizer's apply_gradients takes the
    gradients of get_scaled_loss(loss) after get_unscaled_gradients (it does not unscale them)."""
    if not is_loss_scale(opt):
        return list(grads)
    with keras_call("optimizer.get_unscaled_gradients(grads)"):
        return list(opt.get_unscaled_gradients(list(grads)))


def _gradients(opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> list[Any]:
    """What a training step hands apply_gradients: the gradients of get_scaled_loss(loss) (`grads`
    times the loss scale, in each variable's dtype, where they may overflow), through `unscaled`."""
    scale = loss_scale(opt)
    return unscaled(opt, _tensors([np.asarray(g, np.float64) * scale for g in grads], vars_))


def apply(opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> None:
    """One `apply_gradients` call; gradients are those of `get_scaled_loss(loss)`, unscaled as documented."""
    tensors = _gradients(opt, grads, vars_)
    with keras_call("optimizer.apply_gradients"):
        opt.apply_gradients(zip(tensors, vars_))


def apply_as_given(opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> None:
    """One `apply_gradients` call on exactly these gradients (not scaled, not unscaled)."""
    with keras_call("optimizer.apply_gradients"):
        opt.apply_gradients(zip(_tensors(grads, vars_), vars_))


def apply_without_variables(opt: Any, grads: Sequence[np.ndarray], dtype: str) -> None:
    raise Unsupported(
        f"Keras {VERSION} optimizers take gradients only as (gradient, variable) pairs (apply_gradients); "
        "apply(grads) without variables is Keras 3's"
    )


def mark_overwrite_with_gradient(vars_: Sequence[Any]) -> None:
    raise Unsupported(f"tf.Variable (Keras {VERSION}) has no overwrite_with_gradient: Keras 3 added it")


def optimizer_variables(opt: Any) -> list[Any]:
    """The optimizer's variables (the legacy family lists them through the method `variables()`)."""
    return legacy.variables(opt) if legacy.is_legacy(opt) else list(opt.variables)


def _name(opt: Any, raw: str) -> str:
    """Keras 3's name for a Keras 2 variable: `Adam/m/v0:0` (new) or `Adam/v0/m:0` (legacy) -> `v0_momentum`."""
    parts = raw.split(":")[0].split("/")
    if parts[-1] in COUNTER_NAMES:
        return COUNTER_NAMES[parts[-1]]
    is_slot = parts[-1] in legacy.slot_names(opt) if legacy.is_legacy(opt) else len(parts) >= 2
    if len(parts) < 2 or not is_slot:
        return re.sub(r"_\d+$", "", parts[-1])  # optimizer-wide (legacy Nadam's momentum_cache)
    weight, slot = (parts[-2], parts[-1]) if legacy.is_legacy(opt) else (parts[-1], parts[-2])
    # A LossScaleOptimizer's variables are its inner optimizer's, named as that optimizer names them.
    family = {c.__name__ for c in type(getattr(opt, "inner_optimizer", opt)).__mro__}
    slot = next((v for (cls, s), v in SLOT_NAMES_OF.items() if s == slot and cls in family), SLOT_NAMES.get(slot, slot))
    return f"{weight}_{slot}" if slot else weight


def state(opt: Any) -> list[StateVar]:
    """Every optimizer variable in creation order (iteration counter included), Keras 3 names."""
    return [
        StateVar(v.name, _name(opt, v.name), tuple(v.shape), v.dtype.name, to_numpy(v))
        for v in optimizer_variables(opt)
    ]


def iterations(opt: Any) -> int:
    """The step counter, read without creating it: reading OptimizerV2.iterations creates the
    `iter` variable, which for a slot-less legacy optimizer (SGD without momentum) is its whole
    state, so an observation would build it."""
    if legacy.is_legacy(opt):
        return legacy.iterations(opt)
    return int(to_numpy(opt.iterations))


def finalize(opt: Any, vars_: Sequence[Any]) -> None:
    if not hasattr(opt, "finalize_variable_values"):
        raise Unsupported(f"{type(opt).__name__} (Keras {VERSION}) has no finalize_variable_values()")
    with keras_call("optimizer.finalize_variable_values"):
        opt.finalize_variable_values(list(vars_))


def hyperparameter(opt: Any, name: str) -> Any:
    """The value an optimizer holds for a constructor argument (legacy: through `_get_hyper`)."""
    value = legacy.hyper(opt, name) if legacy.is_legacy(opt) else getattr(opt, name, None)
    return to_numpy(value).item() if hasattr(value, "numpy") else value


def assign_state(opt: Any, values: Sequence[np.ndarray]) -> None:
    common.assign_all(optimizer_variables(opt), values)


def _get_weights(opt: Any) -> Any:
    return common.weights_or_unsupported(opt, VERSION)


def _set_weights(opt: Any, blob: Any) -> None:
    if not hasattr(opt, "set_weights"):
        raise Unsupported(f"{type(opt).__name__} has no set_weights() in Keras {VERSION}")
    opt.set_weights(blob)


def _load_own(opt: Any, blob: Any) -> None:
    opt.load_own_variables(blob)


ROUND_TRIPS = {
    "get_weights": (_get_weights, _set_weights),
    "variables_set_weights": (lambda opt: [to_numpy(v) for v in optimizer_variables(opt)], _set_weights),
    "own_variables": (common.own_save, _load_own),
    "tf_checkpoint": (common.checkpoint_write, common.checkpoint_read),
}


# The functions spelled alike in every generation (common.py), made from this generation's pieces.
_models, _io = common.Models(keras), common.StateIO(VERSION, ROUND_TRIPS, to_numpy, _gradients, _get_weights)
model_holding, dense_model, recompile, fit = _models.model_holding, _models.dense_model, _models.recompile, _models.fit
keras_file_roundtrip, keras_file_reload = _models.keras_file_roundtrip, _models.keras_file_reload
serialize, deserialize, get = _models.serialize, _models.deserialize, _models.get
model_weights, save_state, load_state, get_weights = _io.model_weights, _io.save_state, _io.load_state, _io.get_weights
unaggregated_flags, apply_unaggregated = _io.unaggregated_flags, _io.apply_unaggregated


def evaluate_swapping_ema(model: Any, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    raise Unsupported(
        f"tf.keras {VERSION} has no keras.callbacks.SwapEMAWeights: the callback is Keras 3's "
        "(keras-team/keras#18978)"
    )


def is_loss_scale(opt: Any) -> bool:
    return isinstance(opt, keras.mixed_precision.LossScaleOptimizer)


def loss_scale(opt: Any) -> float:
    """What `opt.get_scaled_loss` multiplies a loss by (a LossScaleOptimizer's current scale, else 1)."""
    if not is_loss_scale(opt):
        return 1.0
    with keras_call("optimizer.get_scaled_loss(1.0)"):
        return float(to_numpy(opt.get_scaled_loss(tf.constant(1.0))))


def default_instance(name: str, cls: type) -> Any:
    """The optimizer with its defaults (a LossScaleOptimizer around a default SGD)."""
    if issubclass(cls, keras.mixed_precision.LossScaleOptimizer):
        return cls(keras.optimizers.SGD())
    return cls()


def state_layout(opt: Any) -> list[dict[str, Any]]:
    """The layout once built; a legacy optimizer is built by a zero-gradient step (it has no build())."""
    vars_ = variables([np.zeros(s) for s in LAYOUT_SHAPES], "float32")
    if legacy.is_legacy(opt):
        apply(opt, [np.zeros(s) for s in LAYOUT_SHAPES], vars_)
    else:
        build(opt, vars_)
    return [sv.layout() for sv in state(opt)]


def load_values(opt: Any, mechanism: str, values: Sequence[np.ndarray]) -> None:
    """Restore a list of state values through `set_weights` or `load_own_variables`."""
    with keras_call(f"restoring optimizer state ({mechanism})"):
        if mechanism == "set_weights":
            _set_weights(opt, list(values))
        else:
            if not hasattr(opt, "load_own_variables"):
                raise Unsupported(f"{type(opt).__name__} has no load_own_variables()")
            opt.load_own_variables({str(i): v for i, v in enumerate(values)})


keras_module = keras

REPRO = common.Dialect(
    header=(
        "import importlib.util\nimport os\n"
        "if importlib.util.find_spec('tf_keras'):  # Keras 2 as tf.keras where Keras 3 is installed too (TF >= 2.16)\n"
        "    os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')\n"
        "import numpy as np\nimport tensorflow as tf\nkeras = tf.keras"
    ),
    variable="tf.Variable(np.asarray({value}, dtype={dtype!r}), name={name!r})",
    numpy="np.asarray({x})",
    tensor="tf.convert_to_tensor(np.asarray({x}, dtype={dtype}.name))",
    scale="(float(opt.get_scaled_loss(tf.constant(1.0))) if hasattr(opt, 'get_scaled_loss') else 1.0)",
    name="{v}.name",
    variables="(opt.variables() if callable(opt.variables) else opt.variables)",
    build="opt.build(variables) if hasattr(opt, 'build') else opt._create_all_weights(variables)  # legacy: no build()",
    unscale="(opt.get_unscaled_gradients({grads}) if hasattr(opt, 'get_unscaled_gradients') else {grads})",
    backing="{v}",
)
REPRO_HEADER = REPRO.header + "\n"


def compiled_modes() -> dict[str, str]:
    return {"function": "tf.function", "xla": "tf.function(jit_compile=True)"}


def compiled_apply(mode: str) -> Any:
    """One compiled step, (optimizer, variables, float64 gradients) -> None."""
    return common.tf_compiled_step(compiled_modes()[mode], mode == "xla", _gradients)


def timed_step(opt: Any, vars_: list, grads: list, mode: str) -> Any:
    """A zero-argument step on these gradients (converted once), eager or compiled (benchmarks)."""
    if mode != "eager" and mode not in compiled_modes():
        raise Unsupported(f"tf.keras has no {mode!r} compilation of an optimizer step")
    return common.tf_timed_step(opt, vars_, _gradients(opt, grads, vars_), mode)


def accelerator() -> str | None:
    gpus = tf.config.list_logical_devices("GPU")
    return "/GPU:0" if gpus else None


def on_device(name: str) -> Any:
    return tf.device(name)
