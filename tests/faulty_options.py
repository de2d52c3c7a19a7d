"""Faulty optimizers and conforming doubles for the base-option, loss-scale, argument,
configuration, seed-API and model-level reset claims (see tests/faulty.py for the pattern)."""

from __future__ import annotations

import math

import keras
from keras import ops

from conformance.inputs import arguments
from tests.faulty import (
    MOMENTUM,
    CarryOverSGD,
    ClassStateSGD,
    Fault,
    ForgetfulConfigSGD,
    UncheckedLossScaleOptimizer,
    WeightsSGD,
    loss_scaled,
    sgd,
)


def _clip_global(grads, norm):
    total = ops.sqrt(sum(ops.sum(ops.square(g)) for g in grads))
    return [g * norm / ops.maximum(total, norm) for g in grads]


class GlobalClipnormSGD(keras.optimizers.SGD):
    """Clips all gradients together when asked to clip each one (clipnorm)."""

    def _clip_gradients(self, grads):
        return _clip_global(grads, self.clipnorm) if self.clipnorm else super()._clip_gradients(grads)


class PerVariableGlobalClipnormSGD(keras.optimizers.SGD):
    """Clips each gradient on its own when asked to clip them together (global_clipnorm)."""

    def _clip_gradients(self, grads):
        if self.global_clipnorm:
            return [_clip_global([g], self.global_clipnorm)[0] for g in grads]
        return super()._clip_gradients(grads)


class LooseClipvalueSGD(keras.optimizers.SGD):
    """Clips elements to twice clipvalue."""

    def _clip_gradients(self, grads):
        if self.clipvalue:
            return [ops.clip(g, -2 * self.clipvalue, 2 * self.clipvalue) for g in grads]
        return super()._clip_gradients(grads)


class DecayAfterSGD(keras.optimizers.SGD):
    """Decays the weights after the update instead of before it."""

    def _apply_weight_decay(self, variables):
        pass

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        if self.weight_decay:
            lr = ops.cast(learning_rate, variable.dtype)
            variable.assign(variable - variable * ops.cast(self.weight_decay, variable.dtype) * lr)


class IgnoresVarListSGD(keras.optimizers.SGD):
    """exclude_from_weight_decay forgets the variables it is given."""

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        super().exclude_from_weight_decay(var_list=None, var_names=var_names)


class IgnoresVarNamesSGD(keras.optimizers.SGD):
    """exclude_from_weight_decay forgets the names it is given."""

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        super().exclude_from_weight_decay(var_list=var_list, var_names=None)


class SwappedEmaSGD(keras.optimizers.SGD):
    """Weighs the moving average with 1 - ema_momentum and the new weight with ema_momentum."""

    def _update_model_variables_moving_average(self, trainable_variables):
        if self.use_ema:
            for var, average in zip(trainable_variables, self._model_variables_moving_average):
                m = ops.cast(ops.not_equal(self.iterations, 0), var.dtype) * self.ema_momentum
                average.assign((1 - m) * average + m * var)


class NoOverwriteSGD(keras.optimizers.SGD):
    """Never overwrites the weights with their averages during training."""

    def _backend_apply_gradients(self, grads, trainable_variables):
        frequency, self.ema_overwrite_frequency = self.ema_overwrite_frequency, None
        try:
            super()._backend_apply_gradients(grads, trainable_variables)
        finally:
            self.ema_overwrite_frequency = frequency


class NoFinalizeSGD(keras.optimizers.SGD):
    """finalize_variable_values does nothing."""

    def finalize_variable_values(self, var_list):
        pass


class EmaFromWeightsSGD(keras.optimizers.SGD):
    """Conforming double for SwapEMAWeights: its moving averages start as the weights (Keras's are
    zeros until the first step), and before it is built it has none to swap (Keras's SwapEMAWeights
    raises for an unbuilt optimizer on TensorFlow)."""

    _model_variables_moving_average = ()  # build() replaces it: nothing to swap before

    def build(self, variables):
        super().build(variables)
        if self.use_ema:
            for average, v in zip(self._model_variables_moving_average, variables):
                average.assign(v)


class RawForAverageSGD(EmaFromWeightsSGD):
    """Shows SwapEMAWeights its weights in place of its moving averages (kept aside, updated as
    documented), so evaluation runs on the raw weights."""

    def build(self, variables):
        super().build(variables)
        if self.use_ema:
            # object.__setattr__: the optimizer's tracker would take the model's weights as its variables.
            object.__setattr__(self, "_kept_averages", self._model_variables_moving_average)
            object.__setattr__(self, "_model_variables_moving_average", list(self._trainable_variables))

    def _update_model_variables_moving_average(self, trainable_variables):
        if self.use_ema:
            for var, average in zip(trainable_variables, self._kept_averages):
                m = ops.cast(ops.not_equal(self.iterations, 0), var.dtype) * self.ema_momentum
                average.assign(m * average + (1 - m) * var)


class SummingAccumulationSGD(keras.optimizers.SGD):
    """Applies the sum of the accumulated gradients instead of their mean."""

    def update_step(self, gradient, variable, learning_rate):
        k = self.gradient_accumulation_steps or 1
        super().update_step(gradient * k, variable, learning_rate)


class LateScheduleSGD(keras.optimizers.SGD):
    """Reads its learning-rate schedule one step ahead."""

    def _get_current_learning_rate(self):
        if isinstance(self._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            return self._learning_rate(self._iterations + 1)
        return super()._get_current_learning_rate()


class NeverShrinkingLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """Skips a non-finite step but keeps its loss scale."""

    def _stateful_handle_non_finite_grads(self):
        self.step_counter.assign(0)


class PickyMomentumSGD(keras.optimizers.SGD):
    """Rejects any valid momentum but its default."""

    def __init__(self, *args, momentum=0.0, **kwargs):
        if momentum != 0.0:
            raise ValueError(f"momentum={momentum} is too large")
        super().__init__(*args, momentum=momentum, **kwargs)


class PickyClipvalueSGD(keras.optimizers.SGD):
    """Rejects any valid clipvalue."""

    def __init__(self, *args, clipvalue=None, **kwargs):
        if clipvalue is not None:
            raise ValueError(f"clipvalue={clipvalue} is too large")
        super().__init__(*args, clipvalue=clipvalue, **kwargs)


class AccumulateOnceSGD(keras.optimizers.SGD):
    """Conforming double: takes gradient_accumulation_steps=1 (the documented "Int or None"; Keras
    asks for >= 2) as no accumulation, and keeps it in its config."""

    def __init__(self, *args, gradient_accumulation_steps=None, **kwargs):
        once = gradient_accumulation_steps == 1
        super().__init__(*args, gradient_accumulation_steps=None if once else gradient_accumulation_steps, **kwargs)
        self.accumulate_once = once

    def get_config(self):
        config = super().get_config()
        if self.accumulate_once:
            config["gradient_accumulation_steps"] = 1
        return config


class EdgeShySGD(AccumulateOnceSGD):
    """Takes any momentum inside [0, 1] but not its edge 1.0 (heavy-ball momentum without decay)."""

    def __init__(self, *args, momentum=0.0, **kwargs):
        if momentum == 1.0:
            raise ValueError("momentum=1.0 never forgets a gradient")
        super().__init__(*args, momentum=momentum, **kwargs)


def argument_problems(kwargs: dict) -> list[Exception]:
    """Every way `kwargs` break SGD's documented argument domains (the suite's own table)."""
    table = {**arguments.table("SGD"), "learning_rate": arguments.LEARNING_RATE}
    out: list[Exception] = []
    for k, v in kwargs.items():
        d = table.get(k)
        if d is None:
            if k != "name":
                out.append(TypeError(f"unknown argument {k!r}"))
            continue
        if k == "learning_rate" and callable(v):
            continue
        if d.boolean:
            ok_type = isinstance(v, bool)
        elif d.integer:
            ok_type = isinstance(v, int) and not isinstance(v, bool)
        else:
            ok_type = isinstance(v, (int, float)) and not isinstance(v, bool)
        if v is None or (k in ("ema_momentum",) and not kwargs.get("use_ema")):
            continue
        if not ok_type:
            out.append(TypeError(f"{k} must be {'a bool' if d.boolean else 'a number'}, not {v!r}"))
        elif not d.boolean and (not math.isfinite(v) or v < d.lo or v > d.hi or (d.lo_open and v == d.lo)):
            out.append(ValueError(f"{k}={v!r} is outside its domain"))
    clips = [k for k in arguments.CLIPPING if kwargs.get(k) is not None]
    if len(clips) > 1:
        out.append(ValueError(f"only one of {clips} may be set"))
    return out


class ValidatingSGD(keras.optimizers.SGD):
    """Conforming double: validates every argument when constructed, naming it."""

    def __init__(self, **kwargs):
        problems = argument_problems(kwargs)
        if problems:
            raise problems[0]
        super().__init__(**kwargs)


class LateValidatingSGD(keras.optimizers.SGD):
    """Validates the same way, but only at its first step (with the defaults meanwhile)."""

    def __init__(self, **kwargs):
        problems = argument_problems(kwargs)
        bad = {k for k in kwargs if any(k in str(p) for p in problems)}
        super().__init__(**{k: v for k, v in kwargs.items() if k not in bad})
        self.problems = problems

    def apply(self, grads, trainable_variables=None):
        if self.problems:
            raise self.problems[0]
        return super().apply(grads, trainable_variables)


class MisdefaultedSGD(keras.optimizers.SGD):
    """from_config fills in a momentum the class's own default does not have."""

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**{"momentum": 0.5, **config})


class TransformingSGD(keras.optimizers.SGD):
    """Conforming double: accepts gradient_transformers and applies them before the update."""

    def __init__(self, *args, gradient_transformers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.gradient_transformers = list(gradient_transformers or [])

    def apply(self, grads, trainable_variables=None):
        pairs = list(zip(grads, trainable_variables or self._trainable_variables))
        for f in self.gradient_transformers:
            pairs = f(pairs)
        return super().apply([g for g, _ in pairs], trainable_variables)


class IgnoringTransformersSGD(TransformingSGD):
    """Accepts gradient_transformers and ignores them."""

    def apply(self, grads, trainable_variables=None):
        return keras.optimizers.SGD.apply(self, grads, trainable_variables)


class FlaggedSGD(keras.optimizers.SGD):
    """Conforming double: the Keras 2 apply_gradients keyword, a no-op outside a strategy."""

    def apply_gradients(self, grads_and_vars, experimental_aggregate_gradients=True):
        return super().apply_gradients(grads_and_vars)


class DoublingUnaggregatedSGD(keras.optimizers.SGD):
    """Doubles the gradients when told not to aggregate them."""

    def apply_gradients(self, grads_and_vars, experimental_aggregate_gradients=True):
        factor = 1.0 if experimental_aggregate_gradients else 2.0
        return super().apply_gradients([(g * factor, v) for g, v in grads_and_vars])


class ReversedWeightsSGD(keras.optimizers.SGD):
    """get_weights() lists its variables last to first (the iteration count last)."""

    def get_weights(self):
        return [ops.convert_to_numpy(v) for v in reversed(self.variables)]


def option_faults() -> list[Fault]:
    plain = sgd(keras.optimizers.SGD, MOMENTUM)
    scaled = loss_scaled(keras.optimizers.LossScaleOptimizer)
    validating, late = sgd(ValidatingSGD), sgd(LateValidatingSGD)
    return [
        Fault("options.clipnorm", sgd(GlobalClipnormSGD), plain),
        Fault("options.global_clipnorm", sgd(PerVariableGlobalClipnormSGD), plain),
        Fault("options.clipvalue", sgd(LooseClipvalueSGD), plain),
        Fault("options.weight_decay", sgd(DecayAfterSGD, MOMENTUM), plain),
        Fault("options.exclude_from_weight_decay.var_list", sgd(IgnoresVarListSGD), plain),
        Fault("options.exclude_from_weight_decay.var_names", sgd(IgnoresVarNamesSGD), plain),
        Fault("options.ema.average", sgd(SwappedEmaSGD), plain),
        Fault("options.ema.overwrite", sgd(NoOverwriteSGD), plain),
        Fault("options.ema.finalize", sgd(NoFinalizeSGD), plain),
        # On TensorFlow SwapEMAWeights swaps by adding and subtracting, which rounds (a deviation of
        # every optimizer): the swap claim is checked where it swaps exactly.
        Fault(
            "options.ema.swap_callback",
            sgd(RawForAverageSGD),
            sgd(EmaFromWeightsSGD),
            main_backend="jax" if keras.backend.backend() == "tensorflow" else None,
        ),
        Fault("options.gradient_accumulation", sgd(SummingAccumulationSGD), plain),
        Fault("options.learning_rate_schedule", sgd(LateScheduleSGD), plain),
        Fault("loss_scale.dynamic_scale", loss_scaled(NeverShrinkingLossScaleOptimizer), scaled),
        Fault("loss_scale.skips_nonfinite", loss_scaled(UncheckedLossScaleOptimizer), scaled),
        Fault("arguments.valid.own", sgd(PickyMomentumSGD), plain),
        Fault("arguments.valid.base_options", sgd(PickyClipvalueSGD), plain),
        Fault("arguments.valid.edges", sgd(EdgeShySGD), sgd(AccumulateOnceSGD)),
        *(
            Fault(f"arguments.rejects.{kind}", late, validating)
            for kind in (
                "learning_rate",
                "out_of_range",
                "base_option",
                "several_clipping_options",
                "unknown_keyword",
                "wrong_type",
            )
        ),
        Fault("config.serialize_roundtrip", sgd(ForgetfulConfigSGD, MOMENTUM), plain),
        Fault("config.get_by_config", sgd(ForgetfulConfigSGD, MOMENTUM), plain),
        Fault("config.get_by_name", sgd(MisdefaultedSGD), plain),
        Fault("api.gradient_transformers", sgd(IgnoringTransformersSGD), sgd(TransformingSGD)),
        Fault("api.unaggregated_apply_gradients", sgd(DoublingUnaggregatedSGD), sgd(FlaggedSGD)),
        Fault("api.get_weights_iterations_first", sgd(ReversedWeightsSGD, MOMENTUM), sgd(WeightsSGD, MOMENTUM)),
        Fault("reset.from_config_recompile_fit", sgd(CarryOverSGD, MOMENTUM), plain),
        Fault("reset.same_arguments_recompile_fit", sgd(ClassStateSGD, MOMENTUM), plain),
    ]
