# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names every module checks again on the host: app name, version, credential ids.

This is a private module_utils file: its interface may change without notice.  ``_validate`` checks all
of a role's variables on the controller and builds on these; the modules import only this small file.
"""

import re

NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,30}")
VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
CREDENTIAL_ID_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def _text(value):
    return isinstance(value, str)


def _type_name(value):
    for t in (bool, int, float, str, list, dict):  # ansible-core 2.19 tags values with subclasses of these
        if isinstance(value, t):
            return t.__name__
    return "null" if value is None else type(value).__name__


def _describe(value):
    return "%s %r" % (_type_name(value), str(value) if isinstance(value, str) else value)


def must_be_string(var, value):
    if not _text(value):
        return ["%s must be a quoted string, got %s" % (var, _describe(value))]
    return []


def check_name(value, var="zipapp_name"):
    errors = must_be_string(var, value)
    if not errors and not NAME_RE.fullmatch(value):
        errors.append(
            "%s=%r is not a valid app name: it must match ^[a-z][a-z0-9-]{0,30}$ "
            "(lower case letters, digits and '-', starting with a letter; it is also the systemd unit name)"
            % (var, value)
        )
    return errors


def check_version(value, var="zipapp_version"):
    errors = must_be_string(var, value)
    if not errors and (not VERSION_RE.fullmatch(value) or ".." in value):
        errors.append(
            "%s=%r is not a valid version: it must match ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ "
            "and contain no '..' (it names the release directory)" % (var, value)
        )
    return errors


def check_secrets(value, var="zipapp_secrets"):
    """Secret ids become credential file names; values are never echoed in messages."""
    if not isinstance(value, dict):
        return ["%s must be a mapping of credential id: value" % var]
    errors = []
    for key in sorted(value, key=str):
        if not _text(key) or not CREDENTIAL_ID_RE.fullmatch(key):
            errors.append(
                "%s: %r is not a valid credential id (letters, digits, '_', '.', '-', not starting with '.' or '-')"
                % (var, key)
            )
            continue
        secret = value[key]
        if not _text(secret):
            errors.append("%s.%s must be a string, got %s (value hidden)" % (var, key, type(secret).__name__))
        elif not secret:
            errors.append("%s.%s must not be empty" % (var, key))
        elif "\x00" in secret:
            errors.append("%s.%s contains a NUL character" % (var, key))
    return errors
