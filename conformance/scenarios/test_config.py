"""Configuration round trips (the argument-structure question, the Keras docs): keras.optimizers.serialize/deserialize
and keras.optimizers.get, by configuration and by name, give an equivalent optimizer: the same
configuration (its name aside) and bit for bit the same trajectory."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive, equivalence
from conformance.checks.claims import SOURCES, claim
from conformance.core.compare import Comparison
from conformance.core.errors import Unsupported
from conformance.inputs.strategies import FLOAT32, cases

SOURCE = (
    f"{SOURCES['ARGUMENT_STRUCTURE']}; {SOURCES['OPTIMIZER_DOCS']} (pass the optimizer by its string identifier); "
    "keras.optimizers.serialize / deserialize / get"
)


def _custom(opt) -> list[type]:
    """The classes deserialization must be told about: a user optimizer's (the classes the installed
    Keras exports are expected to be known by name)."""
    return [] if type(opt) in adapter().exported_optimizers().values() else [type(opt)]


def _unnamed(config):
    """A configuration without the instance names (Keras makes each unique), at every level."""
    if isinstance(config, dict):
        return {k: _unnamed(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list):
        return [_unnamed(v) for v in config]
    return config


def _equivalent(case, made, original, how: str) -> None:
    a = adapter()
    if not a.is_optimizer(made):
        equivalence.fail(case, [], f"{how} returned {type(made).__name__} {made!r:.80}, not an optimizer", None)
    before, after = (_unnamed(a.config(o)) for o in (original, made))
    if type(made) is not type(original) or before != after:
        diff = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        equivalence.fail(
            case, [], f"{how} gives a {type(made).__name__} with another configuration: {diff} (original, made)", None
        )
    runs = [drive.run(o, a.variables(case.weights, case.dtype), case.grads) for o in (made, original)]
    cmp = Comparison(case.dtype, (how, "original"))
    drive.compare_runs(cmp, *runs)
    if cmp.failed:
        equivalence.fail(case, case.grads, f"the optimizer made by {how} steps differently", cmp)


# claim -> (what it calls, how the optimizer is re-made from a built one)
WAYS = {
    "serialize_roundtrip": (
        "keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))",
        lambda a, opt: a.deserialize(a.serialize(opt), _custom(opt)),
    ),
    "get_by_config": (
        "keras.optimizers.get(keras.optimizers.serialize(optimizer))",
        lambda a, opt: a.get(a.serialize(opt), _custom(opt)),
    ),
}


def _roundtrip_claim(name: str):
    how, remake = WAYS[name]

    @claim(
        f"config.{name}",
        f"{how} is an optimizer of the same class, with the same configuration, "
        "that steps bit for bit like the original.",
        SOURCE,
    )
    @given(data=st.data())
    def test(spec, data):
        case = data.draw(cases(spec, FLOAT32), label="case")
        a = adapter()
        _equivalent(case, remake(a, drive.fresh(case)[0]), case.setup.build(), how)

    test.__name__ = f"test_{name}"
    return test


test_serialize_roundtrip = _roundtrip_claim("serialize_roundtrip")
test_get_by_config = _roundtrip_claim("get_by_config")


@claim(
    "config.get_by_name",
    "keras.optimizers.get(name), with the class name or its lower-case form, is the optimizer with "
    "its default configuration: the same as calling the class with no arguments.",
    SOURCE,
)
@given(data=st.data())
def test_get_by_name(spec, data):
    case = data.draw(cases(spec, FLOAT32), label="case")
    if spec.cls is None:
        raise Unsupported(f"{spec.name} is a factory, not a class with a name")
    a = adapter()
    try:
        default = spec.cls()
    except Exception as e:  # noqa: BLE001 - a class with required arguments has no default to compare with
        raise Unsupported(
            f"{spec.cls.__name__}() cannot be called without arguments ({type(e).__name__}: {e})"
        ) from None
    custom = _custom(default)
    # Built-ins are also known by their lower-case names; a user class by the name it is given as.
    names = [spec.cls.__name__] + ([] if custom else [spec.cls.__name__.lower()])
    name = data.draw(st.sampled_from(names), label="name")
    _equivalent(case, a.get(name, custom), default, f"keras.optimizers.get({name!r})")
