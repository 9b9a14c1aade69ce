import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils._envfile import (
    EnvFileError,
    env_errors,
    quote_value,
    render_env_file,
)


@pytest.mark.parametrize("value, quoted", [
    ("plain", '"plain"'),
    ("", '""'),
    ('it\'s "quoted"', '"it\'s \\"quoted\\""'),
    ("back\\slash", '"back\\\\slash"'),
    ('\\"', '"\\\\\\""'),
    ("$HOME ${X} `cmd` %h", '"$HOME ${X} `cmd` %h"'),
    ("#x ;y", '"#x ;y"'),
    ("two\nlines\r\n", '"two\nlines\r\n"'),
    ("é😀", '"é😀"'),
])
def test_quote_value_escapes_backslash_then_quote_only(value, quoted):
    assert quote_value(value) == quoted


def test_render_sorts_keys_and_adds_a_commented_header():
    text = render_env_file({"B": "2", "A": "1"}, header="Managed\n\nby us")
    assert text == '# Managed\n#\n# by us\nA="1"\nB="2"\n'


def test_render_of_nothing_is_empty():
    assert render_env_file({}) == ""


@pytest.mark.parametrize("key", ["1X", "X-Y", "X.Y", "", "A B", "É"])
def test_invalid_keys_are_named(key):
    errors = env_errors({key: "v"})
    assert len(errors) == 1 and "zipapp_env" in errors[0] and repr(key) in errors[0]


@pytest.mark.parametrize("value, word", [
    (8000, "int"), (True, "bool"), (None, "NoneType"), (["a"], "list"), (1.5, "float"),
])
def test_non_string_values_are_refused_with_the_key(value, word):
    errors = env_errors({"PORT": value})
    assert errors == [errors[0]] and "zipapp_env.PORT must be a string" in errors[0] and word in errors[0]


def test_nul_and_lone_surrogates_cannot_be_carried():
    errors = env_errors({"A": "x\x00y", "B": "\udcff"})
    assert "zipapp_env.A contains a NUL" in errors[0]
    assert "zipapp_env.B is not valid UTF-8" in errors[1]


def test_render_raises_with_every_problem():
    with pytest.raises(EnvFileError) as e:
        render_env_file({"1X": "a", "OK": 3}, var_name="env")
    assert "env: '1X'" in str(e.value) and "env.OK must be a string" in str(e.value)


def test_not_a_mapping():
    assert env_errors(["A=1"]) == ["zipapp_env must be a mapping of NAME: value, got list"]
