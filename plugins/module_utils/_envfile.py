# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render systemd ``EnvironmentFile=`` files whose values round-trip exactly.

This is a private module_utils file: its interface may change without notice.

systemd's env-file parser (src/basic/env-file.c) is not a shell.  Inside double quotes it
unescapes only ``\\"``, ``\\\\``, ``\\$`` and ``\\```; every other backslash is kept as it is,
newlines are kept, and ``$VAR``/``%`` are never expanded.  So writing ``KEY="..."`` with ``\\``
escaped first and ``"`` second carries any string that systemd can carry at all: not NUL, and
only valid UTF-8.  Keys that are not valid environment names are dropped by systemd with a
warning, so they are rejected here instead.
"""

import re

ENV_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class EnvFileError(ValueError):
    """A key or value that systemd cannot carry."""


def _is_text(value):
    try:
        return isinstance(value, (str, unicode))  # noqa: F821 pylint: disable=undefined-variable
    except NameError:
        return isinstance(value, str)


def _type_name(value):
    for t in (bool, int, float, list, dict):  # ansible-core 2.19 tags values with subclasses of these
        if isinstance(value, t):
            return t.__name__
    return "NoneType" if value is None else type(value).__name__


def env_errors(env, var_name="zipapp_env"):
    """Return a list of messages, one per key or value of ``env`` that systemd cannot carry."""
    if not isinstance(env, dict):
        return ["%s must be a mapping of NAME: value, got %s" % (var_name, _type_name(env))]
    errors = []
    for key in sorted(env, key=str):
        value = env[key]
        where = "%s.%s" % (var_name, key)
        if not _is_text(key) or not ENV_KEY_RE.fullmatch(key):
            errors.append(
                "%s: %r is not a valid environment variable name "
                "(letters, digits and _, not starting with a digit)" % (var_name, key)
            )
            continue
        if not _is_text(value):
            errors.append(
                "%s must be a string, got %s %r: quote it in YAML so the value is exactly what you "
                "mean (e.g. \"8000\", \"true\")" % (where, _type_name(value), value)
            )
            continue
        if "\x00" in value:
            errors.append("%s contains a NUL character, which systemd cannot carry" % where)
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            errors.append("%s is not valid UTF-8 (lone surrogate), which systemd cannot carry" % where)
    return errors


def quote_value(value):
    """Quote one value for an EnvironmentFile: ``"`` + value with ``\\`` then ``"`` escaped + ``"``."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_env_file(env, header=None, var_name="zipapp_env"):
    """Return the text of an EnvironmentFile for ``env`` (keys sorted), or raise EnvFileError."""
    errors = env_errors(env, var_name)
    if errors:
        raise EnvFileError("; ".join(errors))
    lines = []
    if header:
        lines.extend("# " + line if line else "#" for line in header.splitlines())
    for key in sorted(env):
        lines.append("%s=%s" % (key, quote_value(env[key])))
    return "\n".join(lines) + "\n" if lines else ""
