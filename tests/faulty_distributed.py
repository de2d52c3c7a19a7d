"""Faults for the distributed claims: a replication bug every claim must catch, next to the
unmodified SGD or, where every Keras 3 optimizer fails a claim under tf.distribute, a conforming
double (tests/distributed_doubles.py)."""

from __future__ import annotations

import keras

from conformance.checks.claims import CLAIMS
from tests.distributed_doubles import (
    BranchFreeAccumulatingSGD,
    IgnoringSkipSGD,
    InitScopeBuildSGD,
    LocalOverwriteSGD,
    ReducingFirstSGD,
    ReplicaScaledSGD,
    SkippingSGD,
)
from tests.faulty import Fault, sgd

# What conforms where Keras 3's TensorFlow optimizer does not (see expectations.toml).
CONFORMING_TF = {
    "clipnorm": ReducingFirstSGD,
    "global_clipnorm": ReducingFirstSGD,
    "clipvalue": ReducingFirstSGD,
    "gradient_accumulation": BranchFreeAccumulatingSGD,
    "ema": LocalOverwriteSGD,
    "unbuilt": InitScopeBuildSGD,
}


def distributed_faults() -> list[Fault]:
    out = []
    for claim in sorted(c for c in CLAIMS if c.startswith("distributed.")):
        kind, what = claim.split(".")[1:3]
        if what == "manual_aggregation":
            out.append(Fault(claim, sgd(IgnoringSkipSGD), sgd(SkippingSGD)))
            continue
        passing = CONFORMING_TF.get(what, keras.optimizers.SGD) if kind != "data_parallel" else keras.optimizers.SGD
        out.append(Fault(claim, sgd(ReplicaScaledSGD), sgd(passing)))
    return out
