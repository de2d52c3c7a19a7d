"""Small synthetic results files for the tests of `conformance.records.merge` and `conformance.report`."""

from __future__ import annotations

import json
import random
from pathlib import Path

from conformance.records.results_format import WORST_FIRST


def info(keras: str, backend: str, **extra) -> dict:
    return {
        "run_info": {
            "format_version": 1,
            "keras": keras,
            "backend": backend,
            "generation": f"keras{keras[0]}",
            backend: "2.21.0",
            "devices": ["/device:CPU:0"],
            "hypothesis_profile": "ci",
            "hypothesis_seed": None,
            "started": "2026-11-23T00:00:00+00:00",
            "argv": [],
            **extra,
        }
    }


def rec(optimizer: str, claim: str, verdict: str, **extra) -> dict:
    return {
        "optimizer": optimizer,
        "claim": claim,
        "claim_text": f"text of {claim}",
        "verdict": verdict,
        "expected": "fail" if verdict == "deviation" else "pass",
        "message": "",
        "reproducer": "x = 1",
        **extra,
    }


def write(path: Path, lines: list[dict], cut: str = "") -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines) + cut)
    return path


# Format 2: a record per (optimizer, claim) with one verdict per condition (conformance/core/verdicts.py).
def cond(verdict: str, **extra) -> dict:
    """One condition's entry, with the fields format 2 keeps for its verdict."""
    out = {
        "verdict": verdict,
        "expected": "fail" if verdict == "deviation" else "pass",
        "message": "",
        "configuration": "keras.optimizers.Adam()",
        "dtype": "float32",
        "examples": 1,
        "duration_s": 0.1,
    }
    if verdict in ("fail", "deviation"):
        out.update(
            reproducer="x = 1",
            counterexample="condition: fixed case",
            hyperparameters={"learning_rate": 0.001},
            shapes=[[2]],
        )
    if verdict == "deviation":
        out.update(reason="declared", link="", kind="documented", upstream="")
    return {**out, **extra}


def conds(**conditions: str | dict) -> dict[str, dict]:
    """Conditions in the order given: each a verdict, or a dict of fields with its verdict."""
    return {name: cond(v) if isinstance(v, str) else cond(**v) for name, v in conditions.items()}


def rec2(optimizer: str, claim: str, conditions: dict[str, dict], **extra) -> dict:
    """A format-2 record: the worst condition's verdict and fields at the top, named in `condition`."""
    rank = {v: i for i, v in enumerate(WORST_FIRST)}  # a verdict from a newer suite ranks last
    name = min(conditions, key=lambda n: rank.get(conditions[n]["verdict"], len(rank)))
    top = {k: v for k, v in conditions[name].items() if k not in ("verdict", "examples", "duration_s")}
    return rec(
        optimizer, claim, conditions[name]["verdict"], **{**top, "condition": name, "conditions": conditions, **extra}
    )


OPTIMIZERS = (
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "LossScaleOptimizer",
    "Muon",
    "MultiOptimizer",
    "Nadam",
    "RMSprop",
    "SGD",
    "ScheduleFreeAdamW",
)
SCENARIOS = (
    "reference",
    "zero_grad",
    "build",
    "nonfinite",
    "reset",
    "lifecycle",
    "options",
    "loss_scale",
    "arguments",
    "config",
    "api",
    "distributed",
    "compiled",
    "independent",
    "devices",
    "backends",
    "bad_state",
    "serialization",
)
OPTION_CONDITIONS = (
    "weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema", "gradient_accumulation_steps",
    "learning_rate_schedule", "loss_scale", "float16", "bfloat16", "float64",
)
KIND_NAMES = ("bug", "documented", "design", "environment")


def synthetic(
    path: Path, claims: int = 99, optimizers: int = 16, environment: str = "keras3-tf", seed: int = 0
) -> Path:
    """A results file the size of a full run (99 claims x 16 optimizers), with conditions: mostly
    passes, deviations of every kind (often under one option only), failures at defaults or under
    one option, unsupported claims, errors, claims that only draw, and long messages and
    reproducers: for the report's size and time, and its screenshots."""
    rnd = random.Random(seed)
    names = [
        f"{SCENARIOS[i % len(SCENARIOS)]}.claim_{i:02d}" + ("_with_a_longer_name" if i % 7 == 0 else "")
        for i in range(claims)
    ]
    # (share of records, verdict at the condition it happens in, where: "defaults", "option" or "drawn")
    fates = (
        (0.75, "pass", ""),
        (0.09, "deviation", "option"),
        (0.04, "deviation", "defaults"),
        (0.04, "fail", "option"),
        (0.03, "fail", "defaults"),
        (0.03, "unsupported", "defaults"),
        (0.02, "error", "drawn"),
    )
    lines: list[dict] = [info("3.15.1", "tensorflow", environment=environment, format_version=2)]
    for o in OPTIMIZERS[:optimizers]:
        for n, claim in enumerate(names):
            drawn_only = n % 9 == 4
            options = () if drawn_only else tuple(rnd.sample(OPTION_CONDITIONS, rnd.randint(2, len(OPTION_CONDITIONS))))
            verdict, where = rnd.choices([(v, w) for _, v, w in fates], [p for p, _, _ in fates])[0]
            where = "drawn" if drawn_only and where else where
            hit = {
                "defaults": ["defaults", "drawn"],
                "option": [rnd.choice(options or ("drawn",))],
                "drawn": ["drawn"],
                "": [],
            }[where]
            if verdict == "unsupported":
                options, hit = (), ["defaults", "drawn"]
            chosen = {}
            for name in ("defaults", *options, "drawn")[1 if drawn_only else 0 :]:
                v = verdict if name in hit else "pass"
                fields: dict = {
                    "verdict": v,
                    "message": ""
                    if v == "pass"
                    else f"{o} {claim} under {name}: step 3 v0: {rnd.random():.6g} vs {rnd.random():.6g}\n\n"
                    + "Traceback line\n" * rnd.randint(1, 6),
                    "configuration": f"keras.optimizers.{o}()"
                    if name == "defaults"
                    else f"keras.optimizers.{o}({name}=0.1)",
                }
                if v in ("fail", "deviation"):
                    fields["reproducer"] = (
                        f"import keras\nimport numpy as np\nopt = {fields['configuration']}\n"
                        + "w = np.ones((3, 4))\n" * 20
                    )
                if v == "deviation":
                    kind = KIND_NAMES[(n + len(o)) % 4]  # one kind per (optimizer, claim), every kind present
                    fields.update(
                        kind=kind,
                        upstream="https://github.com/keras-team/keras/issues/1" if kind != "bug" else "none found",
                        reason=f"{o} is known to differ under {name}",
                    )
                chosen[name] = fields
            lines.append(
                rec2(
                    o,
                    claim,
                    conds(**chosen),
                    nodeid=f"conformance/scenarios/test_{claim.split('.')[0]}.py::test_{claim}[{o}]",
                    source="seed",
                    duration_s=round(rnd.random() * 5, 3),
                    examples=rnd.randint(2, 12),
                )
            )
    return write(path, lines)
