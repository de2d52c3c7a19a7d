"""Faults for the distributed claims: a replication bug every claim must catch, next to the
unmodified SGD or, where every Keras 3 optimizer fails a claim under tf.distribute, a conforming
double (tests/distributed_doubles.py)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import keras
from hypothesis import strategies as st

from conformance.checks.claims import CLAIMS
from conformance.scenarios import test_distributed
from tests.distributed_doubles import (
    BranchFreeAccumulatingSGD,
    IgnoringSkipSGD,
    InitScopeBuildSGD,
    LocalOverwriteSGD,
    ReducingFirstSGD,
    ReplicaScaledSGD,
    SkippingSGD,
    StrategySkewedSGD,
    SummedSlotSGD,
)
from tests.faulty import MOMENTUM, Fault, sgd

# What conforms where Keras 3's TensorFlow optimizer does not (see expectations.toml).
CONFORMING_TF = {
    "clipnorm": ReducingFirstSGD,
    "global_clipnorm": ReducingFirstSGD,
    "clipvalue": ReducingFirstSGD,
    "gradient_accumulation": BranchFreeAccumulatingSGD,
    "ema": LocalOverwriteSGD,
    "unbuilt": InitScopeBuildSGD,
}


@contextmanager
def one_replica() -> Iterator[None]:
    """MirroredStrategy over one device. XLA cannot compile Keras 3's replicated train step over two
    or more (every optimizer fails distributed.mirrored.jit_compile, expectations.toml), so the jit
    claim is shown to catch its fault, and to pass SGD, where the step compiles."""
    saved = test_distributed.REPLICAS["mirrored"]
    test_distributed.REPLICAS["mirrored"] = st.just(1)
    try:
        yield
    finally:
        test_distributed.REPLICAS["mirrored"] = saved


# Claims whose fault is not a replication bug every claim catches (ReplicaScaledSGD): (faulty, passing, within).
OWN = {
    "manual_aggregation": (sgd(IgnoringSkipSGD), sgd(SkippingSGD), None),
    # Momentum, so that there are slots to read.
    "state_replicated": (sgd(SummedSlotSGD, MOMENTUM), sgd(keras.optimizers.SGD, MOMENTUM), None),
    # A scaled learning rate shows nothing on one replica; a strategy-dependent step does.
    "jit_compile": (sgd(StrategySkewedSGD), sgd(keras.optimizers.SGD), one_replica),
}


def distributed_faults() -> list[Fault]:
    out = []
    for claim in sorted(c for c in CLAIMS if c.startswith("distributed.")):
        kind, what = claim.split(".")[1:3]
        if what in OWN:
            faulty, passing, within = OWN[what]
            out.append(Fault(claim, faulty, passing, within=within))
            continue
        passing = CONFORMING_TF.get(what, keras.optimizers.SGD) if kind != "data_parallel" else keras.optimizers.SGD
        out.append(Fault(claim, sgd(ReplicaScaledSGD), sgd(passing)))
    return out
