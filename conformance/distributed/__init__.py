"""Distributed claims: N replicas must update like one device given the sum of their gradients.

Devices have to be configured before TensorFlow or JAX initialises (logical CPUs, a forced host
device count, a multi-worker cluster), so these claims run in worker processes that the suite
starts, feeds jobs to and stops (`host`); what runs inside a worker is in `jobs`, and the
backend-specific replication in `tf_replicas` and `jax_replicas`. A worker that hangs or dies is
an `error` verdict carrying its output, never a stuck run.
"""

# Replicas a claim may draw; a worker configures this many devices once, at start.
MAX_REPLICAS = 4
