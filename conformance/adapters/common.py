"""What every adapter shares: the comparable shapes of state and configuration, and the Keras
APIs that are spelled the same in every generation (models, saving, configs), given the
generation's `keras` module."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from conformance.core import blame
from conformance.core.errors import OptimizerRaised, Unsupported, UserCodeRaised

# Shapes of the weights an optimizer is built on when its state layout is recorded.
LAYOUT_SHAPES = ((3, 4), (4,))

# Keywords of apply_gradients that ask it not to aggregate across replicas (Keras 2: legacy and new).
UNAGGREGATED = {"experimental_aggregate_gradients": False, "skip_gradients_aggregation": True}


@dataclass(frozen=True)
class StateVar:
    """One optimizer variable as the results file and comparisons see it."""

    path: str
    name: str  # generation-independent: "iteration", "v0_momentum", ... (Keras 3's naming)
    shape: tuple[int, ...]
    dtype: str
    value: np.ndarray

    def layout(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True)
class Dialect:
    """How a standalone reproducer spells things in one generation (format templates)."""

    header: str  # imports, ending with a `keras` module in scope
    variable: str  # {value} {dtype} {name}
    numpy: str  # {x}
    tensor: str  # {x} {dtype}
    scale: str  # the factor the gradients of `opt`'s loss carry
    name: str  # {v}: a variable's name
    variables: str = "opt.variables"  # the optimizer's variables
    build: str = "opt.build(variables)"  # create the state before the first step
    unscale: str = "{grads}"  # {grads}, the gradients of the scaled loss, as apply_gradients takes them
    backing: str = "{v}.value"  # {v}'s backend variable (the tf.Variable a tf.distribute strategy holds)


def np_dtype(dtype: str) -> Any:
    if dtype == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(dtype)


def in_dtype(value: Any, dtype: str) -> np.ndarray:
    """`value` as a numpy array of `dtype` (by way of float64)."""
    return np.asarray(value, dtype=np.float64).astype(np_dtype(dtype))


@contextmanager
def keras_call(what: str) -> Iterator[None]:
    """Turn an exception raised inside Keras into a claim failure that says what was called."""
    try:
        yield
    except Unsupported:
        raise
    except Exception as e:  # noqa: BLE001 - any exception from Keras is the finding
        frames = blame.user_frames(e.__traceback__)
        if frames:  # the user's optimizer crashed in its own code: theirs to fix, not Keras's
            raise UserCodeRaised(blame.describe(e, frames, what)) from e
        method = blame.unimplemented(e)
        if method:
            raise UserCodeRaised(f"{blame.PREFIX}NotImplementedError: the optimizer does not implement {method}() "
                                 f"(the base class's raises it) during {what}") from e
        raise OptimizerRaised(f"Keras raised {type(e).__name__} during {what}: {_plain_text(e)}") from e


def _plain_text(e: BaseException) -> str:
    """An exception's message without the terminal colour codes Keras puts in some."""
    return re.sub(r"\x1b\[[0-9;]*m", "", str(e))


def plain(obj: Any) -> Any:
    """A config with every Keras object replaced by its class name and (plain) config."""
    if isinstance(obj, dict):
        if {"class_name", "config"} <= obj.keys():
            return {"class_name": obj["class_name"], "config": plain(obj["config"])}
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return {"class_name": type(obj).__name__, "config": plain(obj.get_config())}
    return obj


def config(opt: Any) -> dict[str, Any]:
    """get_config() in a comparable form (schedules and inner optimizers as plain dicts)."""
    with keras_call("optimizer.get_config()"):
        return plain(opt.get_config())


def from_config(opt: Any) -> Any:
    """A new optimizer of the same class from the old one's get_config()."""
    with keras_call(f"{type(opt).__name__}.from_config(optimizer.get_config())"):
        return type(opt).from_config(opt.get_config())


def set_learning_rate(opt: Any, value: float) -> None:
    """`optimizer.learning_rate = value`, as a training script changes it between epochs."""
    with keras_call(f"optimizer.learning_rate = {value!r}"):
        opt.learning_rate = value


def learning_rate_saved(opt: Any) -> bool:
    """Whether the learning rate is one of `optimizer.variables`, so that save_own_variables and
    load_own_variables carry it (a wrapper's: its inner optimizer's), or stays outside them."""
    held = opt.variables() if callable(opt.variables) else opt.variables  # OptimizerV2: a method
    ids = {id(v) for v in held}
    owners = (opt, getattr(opt, "inner_optimizer", None))
    return any(id(getattr(o, "_learning_rate", None)) in ids for o in owners if o is not None)


def exclude_from_weight_decay(opt: Any, var_list: Sequence[Any] = (), var_names: Sequence[str] = ()) -> None:
    if not hasattr(opt, "exclude_from_weight_decay"):
        raise Unsupported(f"{type(opt).__name__} has no exclude_from_weight_decay()")
    with keras_call("optimizer.exclude_from_weight_decay(...)"):
        opt.exclude_from_weight_decay(var_list=list(var_list) or None, var_names=list(var_names) or None)


def unaggregated_flags(opt: Any, version: str) -> dict[str, bool]:
    """The apply_gradients keywords that switch cross-replica aggregation off, where the API has one."""
    params = inspect.signature(opt.apply_gradients).parameters
    flags = {k: v for k, v in UNAGGREGATED.items() if k in params}
    if not flags:
        raise Unsupported(
            f"{type(opt).__name__}.apply_gradients{inspect.signature(opt.apply_gradients)} in Keras "
            f"{version} has no {' / '.join(UNAGGREGATED)} keyword"
        )
    return flags


def assign_weights(vars_: Sequence[Any], values: Sequence[np.ndarray]) -> None:
    """Assign each variable its value (model weights, or an optimizer's variables in order)."""
    for v, value in zip(vars_, values):
        v.assign(value)


def assign_all(vars_: Sequence[Any], values: Sequence[np.ndarray]) -> None:
    with keras_call("assigning the optimizer's variables"):
        assign_weights(vars_, values)


def weights_or_unsupported(opt: Any, version: str) -> Any:
    if not hasattr(opt, "get_weights"):
        raise Unsupported(f"{type(opt).__name__} has no get_weights() in Keras {version}")
    return opt.get_weights()


def checkpoint_write(opt: Any) -> dict[str, bytes]:
    """tf.train.Checkpoint(optimizer=opt).write(): the files it wrote, read back into memory, so that
    no folder outlives the call (a run makes thousands of these)."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="conformance-ckpt-") as folder:
        tf.train.Checkpoint(optimizer=opt).write(os.path.join(folder, "ckpt"))
        return {name: open(os.path.join(folder, name), "rb").read() for name in os.listdir(folder)}


def checkpoint_read(opt: Any, files: dict[str, bytes]) -> None:
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="conformance-ckpt-") as folder:
        for name, data in files.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
        tf.train.Checkpoint(optimizer=opt).read(os.path.join(folder, "ckpt")).assert_existing_objects_matched()


def own_save(opt: Any) -> dict:
    if not hasattr(opt, "save_own_variables"):
        raise Unsupported(f"{type(opt).__name__} has no save_own_variables()")
    store: dict = {}
    opt.save_own_variables(store)
    return store


BASE_ARGUMENTS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema", "ema_momentum",
                  "ema_overwrite_frequency", "gradient_accumulation_steps", "loss_scale_factor")


def base_arguments(cls: type, packages: tuple[str, ...]) -> frozenset[str]:
    """The base-optimizer arguments in the constructor signature of the nearest class of `cls`
    defined in one of `packages` (a user subclass may take **kwargs only); a user class whose own
    constructor names its parameters without **kwargs takes only those."""
    for c in cls.__mro__:
        if "__init__" not in vars(c):
            continue
        params = inspect.signature(c.__init__).parameters
        named = frozenset(BASE_ARGUMENTS) & set(params)
        passes_on = any(p.kind is p.VAR_KEYWORD for p in params.values())
        # a Keras class names its own arguments (a backend's mixin takes only *args, **kwargs)
        own = [n for n, p in params.items() if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if c.__module__.startswith(packages) and (own or not passes_on):
            return named
        if not c.__module__.startswith(packages) and not passes_on:
            return named
    return frozenset(BASE_ARGUMENTS)


def weight_holder(keras: Any) -> type:
    """A layer class that only holds weights of given shapes, so that an optimizer can live in a model."""

    @keras.saving.register_keras_serializable(package="conformance")
    class WeightHolder(keras.layers.Layer):
        def __init__(self, shapes: Sequence[Sequence[int]], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.shapes = [list(s) for s in shapes]
            self.held = [
                self.add_weight(shape=tuple(s), initializer="zeros", name=f"v{i}") for i, s in enumerate(self.shapes)
            ]

        def call(self, x: Any) -> Any:
            return x

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "shapes": self.shapes}

    return WeightHolder


class Models:
    """The model-level APIs (build, compile, fit, save, serialize), the same in every generation."""

    def __init__(self, keras: Any) -> None:
        self.keras = keras
        self.holder = weight_holder(keras)

    def model_holding(self, arrays: Sequence[np.ndarray], dtype: str, opt: Any) -> tuple[Any, list[Any]]:
        """A compiled model whose trainable weights are `arrays` and whose optimizer is `opt`."""
        keras = self.keras
        with keras_call("building a model around the weights"):
            inputs = keras.Input(shape=(1,))
            layer = self.holder([np.shape(a) for a in arrays], dtype=dtype)
            model = keras.Model(inputs, layer(inputs))
            for v, a in zip(layer.held, arrays):
                v.assign(in_dtype(a, dtype))
            model.compile(optimizer=opt, loss="mse")
            return model, list(layer.held)

    def keras_file_roundtrip(self, model: Any, custom: Sequence[type]) -> tuple[Any, list[Any]]:
        """model.save() to a .keras file and keras.models.load_model(): the new optimizer and weights."""
        loaded = self.keras_file_reload(model, custom)
        return loaded.optimizer, list(loaded.layers[-1].held)

    def keras_file_reload(self, model: Any, custom: Sequence[type]) -> Any:
        """The model as keras.models.load_model() gives it back from model.save()'s .keras file."""
        folder = tempfile.mkdtemp(prefix="conformance-")
        try:
            with keras_call("model.save(...) / keras.models.load_model(...)"):
                model.save(folder + "/model.keras")
                return self.keras.models.load_model(
                    folder + "/model.keras", custom_objects={c.__name__: c for c in custom}
                )
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def dense_model(self, kernel: np.ndarray, bias: np.ndarray, dtype: str, opt: Any, jit_compile: bool = False) -> Any:
        """A one-layer model `x @ kernel + bias`, compiled with `opt` and the mean squared error;
        `jit_compile`: model.compile(..., jit_compile=True), else compile's own default."""
        keras = self.keras
        xla = {"jit_compile": True} if jit_compile else {}
        with keras_call(f"building and compiling a Dense model{' (jit_compile=True)' if jit_compile else ''}"):
            inputs = keras.Input(shape=(kernel.shape[0],), dtype=dtype)
            layer = keras.layers.Dense(kernel.shape[1], dtype=dtype, name="dense")
            model = keras.Model(inputs, layer(inputs))
            layer.kernel.assign(np.asarray(kernel).astype(np_dtype(dtype)))
            layer.bias.assign(np.asarray(bias).astype(np_dtype(dtype)))
            model.compile(optimizer=opt, loss="mse", **xla)
            return model

    def recompile(self, model: Any, opt: Any) -> None:
        with keras_call("model.compile(optimizer=new_optimizer, loss='mse')"):
            model.compile(optimizer=opt, loss="mse")

    def fit(self, model: Any, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int) -> None:
        with keras_call("model.fit(...)"):
            model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)

    def serialize(self, opt: Any) -> Any:
        with keras_call("keras.optimizers.serialize(optimizer)"):
            return self.keras.optimizers.serialize(opt)

    def deserialize(self, blob: Any, custom: Sequence[type]) -> Any:
        with keras_call("keras.optimizers.deserialize(config)"):
            return self.keras.optimizers.deserialize(blob, custom_objects={c.__name__: c for c in custom})

    def get(self, identifier: Any, custom: Sequence[type] = ()) -> Any:
        """`keras.optimizers.get(identifier)`, with user classes known by their names."""
        shown = repr(identifier) if isinstance(identifier, str) else "config"
        with keras_call(f"keras.optimizers.get({shown})"):
            with self.keras.utils.custom_object_scope({c.__name__: c for c in custom}):
                return self.keras.optimizers.get(identifier)


class StateIO:
    """The state and gradient functions every generation spells alike, given its pieces: the Keras
    version, its state round trips (name -> (save, restore)), `to_numpy(x)`, `tensors(opt, grads,
    vars_)` (the gradients as its apply_gradients takes them) and `get_weights(opt)`."""

    def __init__(
        self, version: str, round_trips: dict, to_numpy: Callable, tensors: Callable, get_weights: Callable
    ) -> None:
        self.version, self.round_trips = version, round_trips
        self.to_numpy, self.tensors, self._get_weights = to_numpy, tensors, get_weights

    def save_state(self, opt: Any, mechanism: str) -> Any:
        with keras_call(f"saving optimizer state ({mechanism})"):
            return self.round_trips[mechanism][0](opt)

    def load_state(self, opt: Any, mechanism: str, blob: Any) -> None:
        with keras_call(f"restoring optimizer state ({mechanism})"):
            self.round_trips[mechanism][1](opt, blob)

    def model_weights(self, model: Any) -> list[np.ndarray]:
        return [self.to_numpy(v) for v in model.trainable_variables]

    def unaggregated_flags(self, opt: Any) -> dict[str, bool]:
        """The apply_gradients keywords that switch cross-replica aggregation off, where the API has one."""
        return unaggregated_flags(opt, self.version)

    def apply_unaggregated(self, opt: Any, grads: Sequence[np.ndarray], vars_: Sequence[Any]) -> None:
        """apply_gradients with cross-replica aggregation switched off, where the API can say so."""
        flags = self.unaggregated_flags(opt)
        with keras_call(f"optimizer.apply_gradients(..., {', '.join(f'{k}={v}' for k, v in flags.items())})"):
            opt.apply_gradients(zip(self.tensors(opt, grads, vars_), vars_), **flags)

    def get_weights(self, opt: Any) -> list[np.ndarray]:
        with keras_call("optimizer.get_weights()"):
            return [np.asarray(w) for w in self._get_weights(opt)]


def layout_of(build: Callable, state: Callable, variables: Callable, opt: Any) -> list[dict[str, Any]]:
    """Order, names, shapes and dtypes of the optimizer's variables once built on LAYOUT_SHAPES."""
    vars_ = variables([np.zeros(s) for s in LAYOUT_SHAPES], "float32")
    build(opt, vars_)
    return [sv.layout() for sv in state(opt)]


def tf_compiled_step(describe: str, xla: bool, tensors: Callable) -> Callable[[Any, list, list], None]:
    """apply_gradients traced by tf.function (with XLA where `xla`), given `tensors(opt, grads, vars_)`
    as its arguments, as a training step receives them. One function per optimizer and variables:
    an optimizer kept across steps (`Expected.reuse`) is traced and compiled once, not once per step
    (TensorFlow keeps every XLA compilation for the process's life)."""
    import tensorflow as tf

    traced: dict[tuple[int, ...], tuple[Any, list, Any]] = {}  # kept beside them, so the ids stay theirs

    def apply(opt: Any, vars_: list, grads: list) -> None:
        given = tensors(opt, grads, vars_)
        key = (id(opt), *map(id, vars_))
        if key not in traced:

            # Returns nothing: the legacy family's apply_gradients returns an Operation.
            def step(given: list) -> None:
                opt.apply_gradients(zip(given, vars_))

            traced[key] = (opt, vars_, tf.function(step, jit_compile=xla))
        with keras_call(f"optimizer.apply_gradients inside {describe}"):
            traced[key][2](list(given))

    return apply


def tf_timed_step(opt: Any, vars_: list, tensors: list, mode: str) -> Callable[[], None]:
    """One TensorFlow step on prepared gradient tensors, eager or in a tf.function ("xla": with
    jit_compile), returning when it is done: reading `iterations` waits for the device's queue."""
    import tensorflow as tf

    def step() -> None:  # returns nothing: the legacy family's apply_gradients returns an Operation
        opt.apply_gradients(zip(tensors, vars_))

    run = step if mode == "eager" else tf.function(step, jit_compile=mode == "xla")

    def timed() -> None:
        run()
        opt.iterations.numpy()

    return timed
