"""Faults on the optimizer families other than SGD (tests/faulty.py holds SGD's): each a Keras
built-in with one seeded bug a real implementer might make, caught by one claim, next to the
unmodified built-in with the same configuration.

Hyperparameters are chosen so that the bug shows in the selftest draws (e.g. a centered RMSprop
for a bug in centering) and, where Keras departs from its documented formula (RMSprop's and
Adagrad's epsilon inside the square root, expectations.toml), so that the departure stays far
below the tolerance: a tiny epsilon. Nadam and ScheduleFreeAdamW depart from the reference for
every configuration, so their faults are caught by configuration and state claims instead.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import keras
from keras import ops

from conformance.inputs.catalogue import wrapper_spec
from conformance.inputs.options import Options
from conformance.inputs.user_specs import user_spec
from tests.faulty import Fault, LossyLoad, SkipsDecayOnZeroGradient, keras_base, loss_scaled, sgd, spec

# Keeps Keras's epsilon inside the square root invisible in float32: the smallest drawn nonzero
# gradient (6e-14) has a second moment near 1e-27, which 1e-36 moves by less than a rounding.
TINY_EPSILON = 1e-36
# Adafactor's factored second moment underflows to 0/0 in float32 with the default epsilon_1 1e-30
# (expectations.toml); 1e-10 keeps every entry a normal float for the drawn gradients.
ADAFACTOR_EPSILON_1 = 1e-10


@contextmanager
def _pretending(opt: Any, values: dict[str, Any]) -> Iterator[None]:
    """`opt` holds other attribute values for the duration (its update reads them when traced too)."""
    saved = {k: getattr(opt, k) for k in values}
    for k, v in values.items():
        setattr(opt, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(opt, k, v)


class Misreading:
    """Mixin: update_step reads some hyperparameters wrongly; `misread()` gives what it reads."""

    def misread(self) -> dict[str, Any]:
        raise NotImplementedError

    def update_step(self, gradient, variable, learning_rate):
        with _pretending(self, self.misread()):
            super().update_step(gradient, variable, learning_rate)


class Forgetting:
    """Mixin: get_config() leaves out `forgotten`, so from_config() falls back to its default."""

    forgotten = ""

    def get_config(self):
        config = super().get_config()
        config.pop(self.forgotten)
        return config


class Amnesiac:
    """Mixin: zeroes its first moment before every step, so that state does not persist (the
    state-persists question)."""

    def update_step(self, gradient, variable, learning_rate):
        m = self._momentums[self._get_variable_index(variable)]
        self.assign(m, ops.zeros_like(m))
        super().update_step(gradient, variable, learning_rate)


def _uncorrected(learning_rate, variable, iterations, beta_1: float, beta_2: float):
    """A learning rate that cancels Adam's bias corrections: Adam multiplies it by
    sqrt(1 - beta_2^t) / (1 - beta_1^t), so dividing by that leaves the uncorrected step."""
    t = ops.cast(iterations + 1, variable.dtype)
    p1, p2 = (ops.power(ops.cast(b, variable.dtype), t) for b in (beta_1, beta_2))
    return ops.cast(learning_rate, variable.dtype) * (1 - p1) / ops.sqrt(1 - p2)


# --- adam-like ---------------------------------------------------------------------------


class UncorrectedAdam(keras.optimizers.Adam):
    """Leaves out the bias corrections 1 - beta^t, so its first steps are far too short."""

    def update_step(self, gradient, variable, learning_rate):
        lr = _uncorrected(learning_rate, variable, self.iterations, self.beta_1, self.beta_2)
        super().update_step(gradient, variable, lr)


class SwappedBetasAdam(Misreading, keras.optimizers.Adam):
    """Uses beta_1 for the second moment and beta_2 for the first."""

    def misread(self):
        return {"beta_1": self.beta_2, "beta_2": self.beta_1}


class HalvedEpsilonAdam(Misreading, keras.optimizers.Adam):
    """Uses half its epsilon: invisible unless epsilon is large beside sqrt(v) (the anchors with
    epsilon at the top of its range, or one tiny gradient element, show it on every run)."""

    def misread(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon / 2}


class DrawnAdam(keras.optimizers.Adam):
    """Adam itself as a user class: its hyperparameters are drawn (and anchored) like a subclass's."""


class ForgetfulAdam(Amnesiac, keras.optimizers.Adam):
    """Resets its first moment m on every step: state does not persist (the state-persists question)."""


class LossyLoadAdam(LossyLoad, keras.optimizers.Adam):
    """load_own_variables() forgets its last variable (the last weight's velocity)."""


class ForgetfulConfigAdam(Forgetting, keras.optimizers.Adam):
    """Leaves beta_2 out of its config, so from_config() falls back to the default 0.999."""

    forgotten = "beta_2"


class DoubleDecayAdamW(keras.optimizers.AdamW):
    """Applies its decoupled weight decay twice per step (w shrinks by lr * wd twice)."""

    def _apply_weight_decay(self, variables):
        super()._apply_weight_decay(variables)
        super()._apply_weight_decay(variables)


class SummingAdamax(keras.optimizers.Adamax):
    """Accumulates u = beta_2 * u + |g| instead of the infinity norm max(beta_2 * u, |g|)."""

    def update_step(self, gradient, variable, learning_rate):
        # Adamax then takes max(beta_2 * u', |g|) = beta_2 * u + |g| with u' = u + |g| / beta_2.
        u = self._u[self._get_variable_index(variable)]
        self.assign_add(u, ops.abs(ops.cast(gradient, variable.dtype)) / self.beta_2)
        super().update_step(gradient, variable, learning_rate)


class SwappedBetasLamb(Misreading, keras.optimizers.Lamb):
    """Uses beta_1 for the second moment and beta_2 for the first."""

    def misread(self):
        return {"beta_1": self.beta_2, "beta_2": self.beta_1}


class ForgetfulConfigNadam(Forgetting, keras.optimizers.Nadam):
    """Leaves beta_1 out of its config, so from_config() falls back to the default 0.9."""

    forgotten = "beta_1"


class ForgetfulConfigScheduleFreeAdamW(Forgetting, keras.optimizers.ScheduleFreeAdamW):
    """Leaves warmup_steps out of its config, so from_config() falls back to no warm-up."""

    forgotten = "warmup_steps"


# --- accumulator -------------------------------------------------------------------------


class ZeroStartAdagrad(keras.optimizers.Adagrad):
    """Starts its accumulators at 0 instead of initial_accumulator_value."""

    def build(self, var_list):
        super().build(var_list)
        for a in self._accumulators:
            self.assign(a, ops.zeros_like(a))


class RhoIgnoringAdadelta(Misreading, keras.optimizers.Adadelta):
    """Decays its accumulators with the default rho 0.95 whatever rho it is given."""

    def misread(self):
        return {"rho": 0.95}


class L1IgnoringFtrl(Misreading, keras.optimizers.Ftrl):
    """Ignores l1_regularization_strength: no weight is ever clamped to zero."""

    def misread(self):
        return {"l1_regularization_strength": 0.0}


class ZeroSafeRMSprop(SkipsDecayOnZeroGradient, keras.optimizers.RMSprop):
    """Conforming double: RMSprop without weight decay on a zero-gradient step."""


class EpsilonGradientRMSprop(ZeroSafeRMSprop):
    """Adds epsilon to the gradient, so an all-zero gradient still moves the weights."""

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(ops.add(gradient, self.epsilon), variable, learning_rate)


class UncenteredRMSprop(Misreading, keras.optimizers.RMSprop):
    """Ignores centered=True: divides by the raw second moment, never updates average_gradient."""

    def misread(self):
        return {"centered": False}


class SwappedRhoRMSprop(Misreading, keras.optimizers.RMSprop):
    """Weighs the new squared gradient by rho and the old average by 1 - rho."""

    def misread(self):
        return {"rho": 1 - self.rho}


class DefaultThresholdAdafactor(Misreading, keras.optimizers.Adafactor):
    """Clips its update at the default clip_threshold 1.0 whatever clip_threshold it is given."""

    def misread(self):
        return {"clip_threshold": 1.0}


# --- sign ---------------------------------------------------------------------------------


class SwappedBetasLion(Misreading, keras.optimizers.Lion):
    """Interpolates the sign with beta_2 and decays its momentum with beta_1."""

    def misread(self):
        return {"beta_1": self.beta_2, "beta_2": self.beta_1}


class ForgetfulLion(Amnesiac, keras.optimizers.Lion):
    """Resets its momentum on every step: state does not persist (the state-persists question)."""


class ForgetfulConfigLion(Forgetting, keras.optimizers.Lion):
    """Leaves beta_1 out of its config, so from_config() falls back to the default 0.9."""

    forgotten = "beta_1"


class LossyLoadLion(LossyLoad, keras.optimizers.Lion):
    """load_own_variables() forgets its last variable (the last weight's momentum)."""


# --- orthogonalised -----------------------------------------------------------------------


class UnorthogonalisedMuon(keras.optimizers.Muon):
    """Steps along its momentum itself: the Newton-Schulz orthogonalisation is skipped."""

    def zeropower_via_newtonschulz5(self, x, steps):
        return x


class FiveStepMuon(Misreading, keras.optimizers.Muon):
    """Runs the default 5 Newton-Schulz iterations whatever ns_steps it is given."""

    def misread(self):
        return {"ns_steps": 5}


class UnadjustedMuon(Misreading, keras.optimizers.Muon):
    """Ignores rms_rate: leaves out the Moonlight scaling sqrt(max(n, m)) * rms_rate of its step."""

    def misread(self):
        return {"rms_rate": None}


class UncorrectedMuon(keras.optimizers.Muon):
    """Its AdamW fallback (variables that are not 2-D) leaves out the bias corrections."""

    def _adamw_update_step(self, gradient, variable, learning_rate, m, v):
        lr = _uncorrected(learning_rate, variable, self.iterations, self.adam_beta_1, self.adam_beta_2)
        super()._adamw_update_step(gradient, variable, lr, m, v)


# --- wrapper ------------------------------------------------------------------------------


class UnscaledLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """Hands the scaled gradients to its inner optimizer without dividing by the loss scale."""

    def _stateful_handle_finite_grads(self, grads, trainable_variables):
        rescaled = [g if g is None else ops.multiply(g, self.dynamic_scale) for g in grads]
        super()._stateful_handle_finite_grads(rescaled, trainable_variables)


class DoubleCountingMultiOptimizer(keras.optimizers.MultiOptimizer):
    """Counts a step for every sub-optimizer it dispatches to, not one per apply()."""

    def apply(self, grads, trainable_variables=None):
        super().apply(grads, trainable_variables)
        used = {self._var_to_optimizer_idx[self._var_key(v)] for v in trainable_variables or self._trainable_variables}
        self._iterations.assign_add(len(used) - 1)


def _pair(claim: str, cls: type, hp: dict | None = None, opts: Options | None = None) -> Fault:
    """`cls` against the built-in it modifies, both with the same configuration."""
    return Fault(claim, spec(cls, hp, opts), spec(keras_base(cls), hp, opts))


def family_faults() -> list[Fault]:
    traj, own, hps = "reference.trajectory", "state.roundtrip.own_variables", "reset.keeps_hyperparameters"
    tiny = {"epsilon": TINY_EPSILON}
    decay = Options(weight_decay=0.25)
    muon = Options(weight_decay=0.004)  # Muon's documented default, spelled out for the reference
    return [
        _pair(traj, UncorrectedAdam),
        _pair(traj, SwappedBetasAdam),
        _pair(traj, ForgetfulAdam),
        Fault(traj, user_spec(f"{__name__}:HalvedEpsilonAdam"), user_spec(f"{__name__}:DrawnAdam")),
        _pair(own, LossyLoadAdam),
        _pair(hps, ForgetfulConfigAdam, {"beta_2": 0.75}),
        _pair(traj, DoubleDecayAdamW, opts=decay),
        _pair(traj, SummingAdamax),
        _pair(traj, SwappedBetasLamb),
        _pair(hps, ForgetfulConfigNadam, {"beta_1": 0.5}),
        _pair(hps, ForgetfulConfigScheduleFreeAdamW, {"warmup_steps": 2}),
        _pair(traj, ZeroStartAdagrad, {"initial_accumulator_value": 0.5, **tiny}),
        _pair(traj, RhoIgnoringAdadelta, {"rho": 0.5}),
        _pair(traj, L1IgnoringFtrl, {"l1_regularization_strength": 0.05}),
        Fault("zero_grad.weights_unchanged", spec(EpsilonGradientRMSprop), spec(ZeroSafeRMSprop)),
        _pair(traj, UncenteredRMSprop, {"centered": True, "rho": 0.5, **tiny}),
        _pair(traj, SwappedRhoRMSprop, {"rho": 0.75, **tiny}),
        _pair(traj, DefaultThresholdAdafactor, {"clip_threshold": 0.5, "epsilon_1": ADAFACTOR_EPSILON_1}),
        _pair(traj, SwappedBetasLion),
        _pair(traj, ForgetfulLion),
        _pair(hps, ForgetfulConfigLion, {"beta_1": 0.5}),
        _pair(own, LossyLoadLion),
        _pair(traj, UnorthogonalisedMuon, opts=muon),
        _pair(traj, FiveStepMuon, {"ns_steps": 2}, muon),
        _pair(traj, UnadjustedMuon, opts=muon),
        _pair(traj, UncorrectedMuon, opts=muon),
        Fault(traj, loss_scaled(UnscaledLossScaleOptimizer), loss_scaled(keras.optimizers.LossScaleOptimizer)),
        Fault(
            traj,
            wrapper_spec(DoubleCountingMultiOptimizer, [sgd(keras.optimizers.SGD)]),
            wrapper_spec(keras.optimizers.MultiOptimizer, [sgd(keras.optimizers.SGD)]),
        ),
    ]
