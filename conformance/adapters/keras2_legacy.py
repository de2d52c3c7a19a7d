"""What only the Keras 2 legacy family (`tf.keras.optimizers.legacy`, OptimizerV2) needs.

OptimizerV2 keeps hyperparameters in `_hyper` (read through `_get_hyper`), lists its variables
through the method `variables()`, creates slots at the first `apply_gradients` (there is no
public `build`), and takes only the clipping options among the base options.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

BASE = tf.keras.optimizers.legacy.Optimizer
# The base options OptimizerV2's constructor accepts (its docstring: clipnorm, clipvalue,
# global_clipnorm; `decay` is its own learning-rate decay, not a Keras 3 option).
OPTIONS = frozenset({"clipnorm", "clipvalue", "global_clipnorm"})
NO_BUILD = (
    "legacy OptimizerV2 has no build(): its slots are created by the first apply_gradients "
    "(the private _create_all_weights is not part of the API)"
)


def is_legacy(opt: Any) -> bool:
    return isinstance(opt, BASE)


def variables(opt: Any) -> list[Any]:
    return list(opt.variables())


def create_all_weights(opt: Any, vars_: list) -> None:
    opt._create_all_weights(list(vars_))


def iterations(opt: Any) -> int:
    """`iterations` without its side effect: 0 while OptimizerV2 has not created `iter` yet (a
    LossScaleOptimizer's counter is its inner optimizer's)."""
    counter = getattr(getattr(opt, "inner_optimizer", opt), "_iterations", None)
    return 0 if counter is None else int(counter.numpy())


def slot_names(opt: Any) -> list[str]:
    return list(opt.get_slot_names())


def hyper(opt: Any, name: str) -> Any:
    if name in getattr(opt, "_hyper", {}):
        return opt._get_hyper(name)
    return getattr(opt, name, None)
