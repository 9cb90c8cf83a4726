"""Property tests: random configs survive dump/load in every format; merge_from_dict matches a reference."""

import copy
import keyword

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vk_core.config import Config, ConfigDict, ConfigError, parse_value
from vk_core.config.config_dict import to_plain

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and s not in ("filename", "text", "pretty_text", "env_variables")
)
texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | texts
dict_keys = texts.filter(lambda k: k not in ("_delete_",))


def nested(leaves):
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.lists(children, max_size=4).map(tuple)
            | st.dictionaries(dict_keys, children, max_size=4)
        ),
        max_leaves=12,
    )


configs = st.dictionaries(identifiers, nested(scalars), max_size=6)


def lists_for_tuples(value):
    if isinstance(value, dict):
        return {k: lists_for_tuples(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [lists_for_tuples(v) for v in value]
    return value


@SETTINGS
@given(configs)
def test_python_text_round_trip_is_exact(data):
    cfg = Config(data)
    back = Config.fromstring(cfg.pretty_text, ".py")
    assert to_plain(back.to_dict()) == data
    assert back.pretty_text == cfg.pretty_text


@SETTINGS
@given(configs)
def test_yaml_round_trip_keeps_tuples(data):
    back = Config.fromstring(_text(data, ".yaml"), ".yaml")
    assert back.to_dict() == data


@SETTINGS
@given(configs)
def test_json_round_trip_turns_tuples_into_lists(data):
    back = Config.fromstring(_text(data, ".json"), ".json")
    assert back.to_dict() == lists_for_tuples(data)


def _text(data, ext):
    from vk_core.config.render import to_json_text, to_yaml_text

    return {".json": to_json_text, ".yaml": to_yaml_text}[ext](data)


def test_tricky_strings_round_trip_in_every_format():
    data = dict(
        a="${not.a.reference}",
        b="{{ fileDirname }}",
        c="$${x}",
        d="{{$HOME}}",
        e={"{{k}}": "v\\{{", "Ĳ": 1},
        f=("{{", "}}", "${"),
    )
    assert Config.fromstring(Config(data).pretty_text, ".py").to_dict() == data
    assert Config.fromstring(_text(data, ".yaml"), ".yaml").to_dict() == data
    assert Config.fromstring(_text(data, ".json"), ".json").to_dict() == lists_for_tuples(data)


# --------------------------------------------------------------------------- merge_from_dict
plain_trees = st.recursive(
    st.integers(0, 9) | st.lists(st.integers(0, 9), max_size=2),
    lambda children: st.dictionaries(st.sampled_from("abcd"), children, min_size=1, max_size=3),
    max_leaves=10,
).filter(lambda t: isinstance(t, dict))
paths = st.lists(st.sampled_from("abcde"), min_size=1, max_size=4).map(".".join)
options_st = st.dictionaries(paths, st.integers(10, 99) | st.lists(st.integers(10, 99), max_size=2), max_size=4).filter(
    lambda opts: not any(a != b and b.startswith(a + ".") for a in opts for b in opts)
)


def reference_merge(tree, options):
    """Set each dotted path, creating dicts; None when a path goes through a non-dict value."""
    out = copy.deepcopy(tree)
    for path, value in options.items():
        node = out
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                return None
        node[last] = value
    return out


@SETTINGS
@given(plain_trees, options_st)
def test_merge_from_dict_equals_reference(tree, options):
    cfg = Config(copy.deepcopy(tree))
    expected = reference_merge(tree, options)
    if expected is None:
        with pytest.raises(ConfigError, match="is a dict here but a|is a list of"):
            cfg.merge_from_dict(options)
        assert cfg.to_dict() == tree  # unchanged after a failed merge
    else:
        cfg.merge_from_dict(options)
        assert cfg.to_dict() == expected


# --------------------------------------------------------------------------- DictAction values
option_leaves = (
    st.integers(-1000, 1000)
    | st.booleans()
    | st.none()
    | st.from_regex(r"[A-Za-z_][A-Za-z0-9_ ./-]{0,8}", fullmatch=True)
)
option_values = st.recursive(
    option_leaves, lambda c: st.lists(c, max_size=3) | st.lists(c, max_size=3).map(tuple), max_leaves=8
)


def render_option(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "None"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return f"'{value}'"
    body = ",".join(render_option(v) for v in value)
    if isinstance(value, tuple):
        return f"({body},)" if len(value) == 1 else f"({body})"
    return f"[{body}]"


@SETTINGS
@given(option_values)
def test_dict_action_parses_what_it_renders(value):
    assert parse_value(render_option(value)) == value


@SETTINGS
@given(nested(scalars))
def test_config_dict_conversion_round_trip(value):
    data = {"k": value}
    assert ConfigDict(data).to_dict() == data
