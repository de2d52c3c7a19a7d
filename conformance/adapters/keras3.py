"""Keras 3 adapter, for any backend (chosen by KERAS_BACKEND before keras is imported)."""

from __future__ import annotations

import inspect
import re
import itertools
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import keras
import numpy as np

from ..errors import OptimizerRaised, Unsupported

GENERATION = "keras3"
BASE_CLASS = keras.optimizers.Optimizer
_names = itertools.count()


@dataclass(frozen=True)
class StateVar:
    """One optimizer variable as the results file and comparisons see it."""

    path: str
    name: str  # last path component, independent of the optimizer instance's name
    shape: tuple[int, ...]
    dtype: str
    value: np.ndarray

    def layout(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


def versions() -> dict[str, str]:
    """Keras, backend and backend library versions."""
    backend = keras.backend.backend()
    out = {"keras": keras.__version__, "backend": backend, "generation": GENERATION}
    lib = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}[backend]
    out[lib] = __import__(lib).__version__
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


def np_dtype(dtype: str) -> Any:
    if dtype == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(dtype)


def to_numpy(x: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def values(vars_: Sequence[Any]) -> list[np.ndarray]:
    return [to_numpy(v) for v in vars_]


@contextmanager
def keras_call(what: str) -> Iterator[None]:
    """Turn an exception raised inside Keras into a claim failure that says what was called."""
    try:
        yield
    except Unsupported:
        raise
    except Exception as e:  # noqa: BLE001 - any exception from Keras is the finding
        raise OptimizerRaised(f"Keras raised {type(e).__name__} during {what}: {e}") from e


def build(opt: Any, vars_: Sequence[Any]) -> None:
    with keras_call("optimizer.build(variables)"):
        opt.build(list(vars_))


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


def state(opt: Any) -> list[StateVar]:
    """Every optimizer variable in `opt.variables` order (iteration counter included)."""
    out = []
    for v in opt.variables:
        path = getattr(v, "path", v.name)
        # Keras uniquifies auto-named variables per process ("variable", "variable_1", ...);
        # no slot name ends in digits, so the suffix is dropped for a stable name.
        name = re.sub(r"_\d+$", "", path.split("/")[-1])
        out.append(StateVar(path, name, tuple(v.shape), str(v.dtype), to_numpy(v)))
    return out


def iterations(opt: Any) -> int:
    return int(to_numpy(opt.iterations))


def finalize(opt: Any, vars_: Sequence[Any]) -> None:
    with keras_call("optimizer.finalize_variable_values"):
        opt.finalize_variable_values(list(vars_))


def _plain(obj: Any) -> Any:
    """A config with every Keras object replaced by its class name and (plain) config."""
    if isinstance(obj, dict):
        if {"class_name", "config"} <= obj.keys():
            return {"class_name": obj["class_name"], "config": _plain(obj["config"])}
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return {"class_name": type(obj).__name__, "config": _plain(obj.get_config())}
    return obj


def config(opt: Any) -> dict[str, Any]:
    """get_config() in a comparable form (schedules and inner optimizers as plain dicts)."""
    with keras_call("optimizer.get_config()"):
        return _plain(opt.get_config())


def hyperparameter(opt: Any, name: str) -> Any:
    """The value an optimizer holds for a constructor argument (Keras keeps them as attributes)."""
    value = getattr(opt, name, None)
    return to_numpy(value).item() if hasattr(value, "numpy") or hasattr(value, "value") else value


def from_config(opt: Any) -> Any:
    """A new optimizer of the same class from the old one's get_config()."""
    with keras_call(f"{type(opt).__name__}.from_config(optimizer.get_config())"):
        return type(opt).from_config(opt.get_config())


def assign_state(opt: Any, values: Sequence[np.ndarray]) -> None:
    """Assign a value to every optimizer variable, in `opt.variables` order."""
    with keras_call("assigning the optimizer's variables"):
        for v, value in zip(opt.variables, values):
            v.assign(value)


# State round trips: name -> (take a snapshot of a built optimizer, restore it into another).
def _get_weights(opt: Any) -> Any:
    if not hasattr(opt, "get_weights"):
        raise Unsupported(f"{type(opt).__name__} has no get_weights() in Keras {keras.__version__}")
    return opt.get_weights()


def _checkpoint_write(opt: Any) -> Any:
    if keras.backend.backend() != "tensorflow":
        raise Unsupported("tf.train.Checkpoint needs the TensorFlow backend")
    import tempfile

    import tensorflow as tf

    path = tempfile.mkdtemp(prefix="conformance-ckpt-") + "/ckpt"
    return tf.train.Checkpoint(optimizer=opt).write(path)


def _checkpoint_read(opt: Any, path: Any) -> None:
    import tensorflow as tf

    tf.train.Checkpoint(optimizer=opt).read(path).assert_existing_objects_matched()


def _own_save(opt: Any) -> dict:
    store: dict = {}
    opt.save_own_variables(store)
    return store


ROUND_TRIPS = {
    "get_weights": (_get_weights, lambda opt, blob: opt.set_weights(blob)),
    "variables_set_weights": (lambda opt: [to_numpy(v) for v in opt.variables], lambda opt, blob: opt.set_weights(blob)),
    "own_variables": (_own_save, lambda opt, blob: opt.load_own_variables(blob)),
    "tf_checkpoint": (_checkpoint_write, _checkpoint_read),
}


def save_state(opt: Any, mechanism: str) -> Any:
    with keras_call(f"saving optimizer state ({mechanism})"):
        return ROUND_TRIPS[mechanism][0](opt)


def load_state(opt: Any, mechanism: str, blob: Any) -> None:
    with keras_call(f"restoring optimizer state ({mechanism})"):
        ROUND_TRIPS[mechanism][1](opt, blob)


@keras.saving.register_keras_serializable(package="conformance")
class WeightHolder(keras.layers.Layer):
    """A layer that only holds weights of given shapes, so that an optimizer can live in a model."""

    def __init__(self, shapes: Sequence[Sequence[int]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shapes = [list(s) for s in shapes]
        self.held = [self.add_weight(shape=tuple(s), initializer="zeros", name=f"v{i}") for i, s in enumerate(self.shapes)]

    def call(self, x: Any) -> Any:
        return x

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "shapes": self.shapes}


def model_holding(arrays: Sequence[np.ndarray], dtype: str, opt: Any) -> tuple[Any, list[Any]]:
    """A compiled model whose trainable weights are `arrays` and whose optimizer is `opt`."""
    with keras_call("building a model around the weights"):
        inputs = keras.Input(shape=(1,))
        layer = WeightHolder([np.shape(a) for a in arrays], dtype=dtype)
        model = keras.Model(inputs, layer(inputs))
        for v, a in zip(layer.held, arrays):
            v.assign(np.asarray(a, np.float64).astype(np_dtype(dtype)))
        model.compile(optimizer=opt, loss="mse")
        return model, list(layer.held)


def keras_file_roundtrip(model: Any, custom: Sequence[type]) -> tuple[Any, list[Any]]:
    """model.save() to a .keras file and keras.models.load_model(): the new optimizer and weights."""
    import tempfile

    path = tempfile.mkdtemp(prefix="conformance-") + "/model.keras"
    with keras_call("model.save(...) / keras.models.load_model(...)"):
        model.save(path)
        loaded = keras.models.load_model(path, custom_objects={c.__name__: c for c in custom})
        return loaded.optimizer, list(loaded.layers[-1].held)


def dense_model(kernel: np.ndarray, bias: np.ndarray, dtype: str, opt: Any) -> Any:
    """A one-layer model `x @ kernel + bias`, compiled with `opt` and the mean squared error."""
    with keras_call("building and compiling a Dense model"):
        inputs = keras.Input(shape=(kernel.shape[0],), dtype=dtype)
        layer = keras.layers.Dense(kernel.shape[1], dtype=dtype, name="dense")
        model = keras.Model(inputs, layer(inputs))
        layer.kernel.assign(np.asarray(kernel).astype(np_dtype(dtype)))
        layer.bias.assign(np.asarray(bias).astype(np_dtype(dtype)))
        model.compile(optimizer=opt, loss="mse")
        return model


def recompile(model: Any, opt: Any) -> None:
    with keras_call("model.compile(optimizer=new_optimizer, loss='mse')"):
        model.compile(optimizer=opt, loss="mse")


def fit(model: Any, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int) -> None:
    with keras_call("model.fit(...)"):
        model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)


def model_weights(model: Any) -> list[np.ndarray]:
    return [to_numpy(v) for v in model.trainable_variables]


def serialize(opt: Any) -> Any:
    with keras_call("keras.optimizers.serialize(optimizer)"):
        return keras.optimizers.serialize(opt)


def deserialize(blob: Any, custom: Sequence[type]) -> Any:
    with keras_call("keras.optimizers.deserialize(config)"):
        return keras.optimizers.deserialize(blob, custom_objects={c.__name__: c for c in custom})


def get(identifier: Any, custom: Sequence[type] = ()) -> Any:
    """`keras.optimizers.get(identifier)`, with user classes known by their names."""
    shown = repr(identifier) if isinstance(identifier, str) else "config"
    with keras_call(f"keras.optimizers.get({shown})"):
        with keras.saving.custom_object_scope({c.__name__: c for c in custom}):
            return keras.optimizers.get(identifier)


# A LossScaleOptimizer's own variables: its loss scale and the finite steps counted towards growing it.
LOSS_SCALE_STATE = ("step_counter", "dynamic_scale")


def is_loss_scale(opt: Any) -> bool:
    return isinstance(opt, keras.optimizers.LossScaleOptimizer)


def loss_scale(opt: Any) -> float:
    """What `opt.scale_loss` multiplies a loss by (a LossScaleOptimizer's dynamic scale, else 1)."""
    return float(to_numpy(opt.scale_loss(1.0)))


def exclude_from_weight_decay(opt: Any, var_list: Sequence[Any] = (), var_names: Sequence[str] = ()) -> None:
    with keras_call("optimizer.exclude_from_weight_decay(...)"):
        opt.exclude_from_weight_decay(var_list=list(var_list) or None, var_names=list(var_names) or None)


# Keywords of apply_gradients that ask it not to aggregate across replicas (Keras 2: legacy and new).
UNAGGREGATED = {"experimental_aggregate_gradients": False, "skip_gradients_aggregation": True}


def unaggregated_flags(opt: Any) -> dict[str, bool]:
    """The apply_gradients keywords that switch cross-replica aggregation off, where the API has one."""
    params = inspect.signature(opt.apply_gradients).parameters
    flags = {k: v for k, v in UNAGGREGATED.items() if k in params}
    if not flags:
        raise Unsupported(
            f"{type(opt).__name__}.apply_gradients{inspect.signature(opt.apply_gradients)} in Keras "
            f"{keras.__version__} has no {' / '.join(UNAGGREGATED)} keyword"
        )
    return flags


def apply_unaggregated(opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> None:
    """apply_gradients with cross-replica aggregation switched off, where the API can say so."""
    flags = unaggregated_flags(opt)
    with keras_call(f"optimizer.apply_gradients(..., {', '.join(f'{k}={v}' for k, v in flags.items())})"):
        opt.apply_gradients(zip(_scaled_tensors(opt, grads, vars_), vars_), **flags)


def get_weights(opt: Any) -> list[np.ndarray]:
    with keras_call("optimizer.get_weights()"):
        return [np.asarray(w) for w in _get_weights(opt)]


LAYOUT_SHAPES = ((3, 4), (4,))


def default_instance(name: str, cls: type) -> Any:
    """The optimizer with its defaults (wrappers around a default SGD), for recording layouts."""
    if issubclass(cls, keras.optimizers.LossScaleOptimizer):
        return cls(keras.optimizers.SGD())
    if issubclass(cls, keras.optimizers.MultiOptimizer):
        return cls(keras.optimizers.OptimizerMap(default_optimizer=keras.optimizers.SGD()))
    return cls()


def state_layout(opt: Any) -> list[dict[str, Any]]:
    """Order, names, shapes and dtypes of the optimizer's variables once built on LAYOUT_SHAPES."""
    vars_ = variables([np.zeros(s) for s in LAYOUT_SHAPES], "float32")
    build(opt, vars_)
    return [sv.layout() for sv in state(opt)]


def load_values(opt: Any, mechanism: str, values: Sequence[np.ndarray]) -> None:
    """Restore a list of state values through `set_weights` or `load_own_variables`."""
    with keras_call(f"restoring optimizer state ({mechanism})"):
        if mechanism == "set_weights":
            opt.set_weights(list(values))
        else:
            opt.load_own_variables({str(i): v for i, v in enumerate(values)})


keras_module = keras

REPRO_HEADER = "import keras\nimport numpy as np\n"
