"""Standalone reproducers of distributed failures (keras + numpy + the backend), one per mechanism."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.adapters import current as adapter
from conformance.checks.reproducer import array_code

_TF_DEVICES = [
    "import tensorflow as tf",
    "",
    "# Logical devices must be configured before TensorFlow initialises.",
    "cpu = tf.config.list_physical_devices('CPU')[0]",
    "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * {n})",
]
_STRATEGY = {
    "mirrored": "strategy = tf.distribute.MirroredStrategy([f'/CPU:{{i}}' for i in range({n})])",
    # Run twice, `python repro.py 0` and `python repro.py 1`, at the same time.
    "multi_worker": (
        "import json, os, sys\n"
        "os.environ['TF_CONFIG'] = json.dumps({{'cluster': {{'worker': ['127.0.0.1:12345', '127.0.0.1:12346']}}, "
        "'task': {{'type': 'worker', 'index': int(sys.argv[1])}}}})\n"
        "strategy = tf.distribute.MultiWorkerMirroredStrategy()"
    ),
}


def _grads(replica_grads: list) -> list[str]:
    lines = ["replica_gradients = [  # one entry per step: one gradient list per replica"]
    for by_replica in replica_grads:
        lines.append(
            "    [" + ", ".join("[" + ", ".join(array_code(g) for g in grads) + "]" for grads in by_replica) + "],"
        )
    return lines + ["]"]


# The scripts speak the installed generation's dialect (the adapter's REPRO): Keras 3, or tf.keras 2,
# whose header also makes `tf.keras` Keras 2 where tf-keras is installed.


def _header(job: dict[str, Any]) -> list[str]:
    return [*adapter().REPRO.header.splitlines(), *([job["imports"]] if job["imports"] else [])]


def _variables(job: dict[str, Any], indent: str = "    ") -> list[str]:
    d, dt = adapter().REPRO, job["dtype"]
    return [
        f"{indent}variables = [",
        *[
            f"{indent}    {d.variable.format(value=array_code(w), dtype=dt, name=f'v{i}')},"
            for i, w in enumerate(job["weights"])
        ],
        f"{indent}]",
    ]


def _one_device(job: dict[str, Any]) -> list[str]:
    d = adapter().REPRO
    return [
        "",
        "# The claim: the same as one device given the sum of the replica gradients.",
        "with jax.default_device(jax.devices('cpu')[0]):"
        if job.get("mechanism") == "data_parallel"
        else "with tf.device('/CPU:0'):",
        f"    opt = {job['code']}  # the same optimizer, on one device",
        *_variables(job, "    "),
        "    for by_replica in replica_gradients:",
        f"        scale = {d.scale}",
        "        total = [sum(r[i] for r in by_replica) * scale for i in range(len(variables))]",
        f"        grads = [{d.tensor.format(x='g', dtype='v.dtype')} for g, v in zip(total, variables)]",
        f"        opt.apply_gradients(zip({d.unscale.format(grads='grads')}, variables))",
        f"    for v in variables + {d.variables}:",
        f"        print('one device', {d.name.format(v='v')}, {d.numpy.format(x='v')})",
    ]


# Every optimizer variable read in each replica's context (the PerReplica strategy.run returns).
_RUN_READS = (
    "print('read inside strategy.run', [[x.numpy() for x in strategy.experimental_local_results(r)] "
    "for r in strategy.run(lambda: [tf.identity(tf.convert_to_tensor(v)) for v in opt.variables])])"
)


def tf_steps(
    job: dict[str, Any], mechanism: str, compiled: bool, steps: int, manual: dict[str, bool] | None = None
) -> str:
    """apply_gradients inside strategy.run, each replica given its own gradients (the job's
    `reads`: every optimizer variable also read inside strategy.run)."""
    n, d = job["n"], adapter().REPRO
    apply = f"opt.apply_gradients(zip({d.unscale.format(grads='grads')}, variables))"
    if manual:
        flags = ", ".join(f"{k}={v}" for k, v in manual.items())
        summed = d.unscale.format(grads="tf.distribute.get_replica_context().all_reduce('sum', grads)")
        apply = f"opt.apply_gradients(zip({summed}, variables), {flags})"
    lines = [
        *[line.format(n=n) for line in _TF_DEVICES],
        *_header(job),
        "",
        _STRATEGY[mechanism].format(n=n),
        "with strategy.scope():",
        f"    opt = {job['code']}",
        *_variables(job),
        *([f"    {d.build}"] if job["built"] else []),
        "",
        "def step(stacked):  # row r of each array is replica r's gradient",
        "    def replica(stacked):",
        "        r = tf.distribute.get_replica_context().replica_id_in_sync_group",
        "        grads = [tf.gather(x, r) for x in stacked]",
        f"        {apply}",
        "    strategy.run(replica, args=(stacked,))",
        "",
        *(["step = tf.function(step)", ""] if compiled else []),
        *_grads(job["replica_grads"][:steps]),
        "for by_replica in replica_gradients:",
        f"    scale = {d.scale}  # gradients of the optimizer's scaled loss",
        "    step([tf.constant(np.stack([r[i] for r in by_replica]) * scale, dtype=v.dtype) "
        "for i, v in enumerate(variables)])",
        f"for v in variables + {d.variables}:",
        f"    print({d.name.format(v='v')}, [x.numpy() for x in strategy.experimental_local_results("
        f"{d.backing.format(v='v')})])",
        *([_RUN_READS] if job.get("reads") else []),
    ]
    return "\n".join(lines + ([] if manual else _one_device({**job, "replica_grads": job["replica_grads"][:steps]})))


def jax_steps(job: dict[str, Any], compiled: bool, steps: int) -> str:
    """apply_gradients (or jax.jit(stateless_apply)) on gradients summed over a sharded batch."""
    n = job["n"]
    lines = [
        "import os",
        "os.environ['KERAS_BACKEND'] = 'jax'",
        f"os.environ['XLA_FLAGS'] = '--xla_force_host_platform_device_count={n}'",
        "import jax",
        "from jax.sharding import Mesh, NamedSharding, PartitionSpec",
        *_header(job),
        "",
        f"devices = jax.devices('cpu')[:{n}]",
        "distribution = keras.distribution.DataParallel(devices=devices)",
        "mesh = Mesh(np.array(devices), ('batch',))",
        "total = jax.jit(lambda xs: [x.sum(axis=0) for x in xs], out_shardings=NamedSharding(mesh, PartitionSpec()))",
        "with distribution.scope():",
        f"    opt = {job['code']}",
        *_variables(job),
        *(["    opt.build(variables)"] if job["built"] or compiled else []),
        *_grads(job["replica_grads"][:steps]),
        "for by_replica in replica_gradients:",
        "    scale = float(keras.ops.convert_to_numpy(opt.scale_loss(1.0)))",
        "    stacked = [jax.device_put(np.stack([r[i] for r in by_replica]).astype(v.dtype) * scale, "
        "NamedSharding(mesh, PartitionSpec('batch')))",
        "               for i, v in enumerate(variables)]",
        "    with distribution.scope():",
        *(
            [
                "        w, s = jax.jit(opt.stateless_apply)([v.value for v in opt.variables], total(stacked), "
                "[v.value for v in variables])",
                "        for v, x in zip(variables + opt.variables, list(w) + list(s)):",
                "            v.assign(x)",
            ]
            if compiled
            else ["        opt.apply_gradients(zip(total(stacked), variables))"]
        ),
        "for v in variables + opt.variables:",
        "    print(v.path, [np.asarray(s.data) for s in v.value.addressable_shards])",
    ]
    return "\n".join(
        lines + _one_device({**job, "mechanism": "data_parallel", "replica_grads": job["replica_grads"][:steps]})
    )


def fit(job: dict[str, Any], mechanism: str) -> str:
    """model.fit on one global batch, under the mechanism and on one device."""
    arr = lambda x: f"np.array({np.asarray(x, np.float64).tolist()!r}, dtype='float32')"  # noqa: E731
    d = adapter().REPRO
    n, (n_in, n_out) = job["n"], np.shape(job["kernel"])
    if mechanism == "data_parallel":
        head = [
            "import os",
            "os.environ['KERAS_BACKEND'] = 'jax'",
            f"os.environ['XLA_FLAGS'] = '--xla_force_host_platform_device_count={n}'",
            "import jax",
            *_header(job),
            "",
            f"scope = keras.distribution.DataParallel(devices=jax.devices('cpu')[:{n}]).scope",
        ]
    else:
        head = [
            *[line.format(n=n) for line in _TF_DEVICES],
            *_header(job),
            "",
            f"strategy = tf.distribute.MirroredStrategy([f'/CPU:{{i}}' for i in range({n})])",
            "scope = strategy.scope",
        ]
    return "\n".join(
        head
        + [
            "import contextlib",
            "",
            "for name, where in (('replicated', scope), ('one device', contextlib.nullcontext)):",
            "    with where():",
            f"        opt = {job['code']}",
            f"        m = keras.Sequential([keras.Input(({n_in},)), keras.layers.Dense({n_out})])",
            f"        m.layers[-1].kernel.assign({arr(job['kernel'])}); m.layers[-1].bias.assign({arr(job['bias'])})",
            f"        m.compile(optimizer=opt, loss='mse'{', jit_compile=True' if job.get('jit_compile') else ''})",
            f"        m.fit({arr(job['x'])}, {arr(job['y'])}, epochs={job['epochs']}, batch_size={len(job['x'])}, "
            "shuffle=False, verbose=0)",
            f"    print(name, [{d.numpy.format(x='v')} for v in m.trainable_variables])",
            f"    print(name, {{{d.name.format(v='v')}: {d.numpy.format(x='v')} for v in {d.variables}}})",
            *(
                [
                    "    if where is scope:",
                    "        print('copies', [[x.numpy() for x in strategy.experimental_local_results("
                    f"{d.backing.format(v='v')})] for v in {d.variables}])",
                    f"        {_RUN_READS}",
                ]
                if job.get("reads")
                else []
            ),
        ]
    )
