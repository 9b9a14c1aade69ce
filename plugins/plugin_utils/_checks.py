# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks every role's inputs share, for what argument_specs cannot express.

This is a private plugin_utils file (controller side): its interface may change without notice.

argument_specs checks presence, choices and nested keys, but it does not check patterns, and
``type: str`` silently coerces (``1.10`` becomes ``"1.1"``, a list becomes its repr).  Every
function here takes the raw value and returns a list of messages that name the variable; an
empty list means the value is good.  The ``zipapp_validate`` action runs them on the controller,
before anything touches a host: ``_validate_deploy``, ``_validate_publish`` and ``_validate_python``
hold each role's variables (an :class:`EntryPoint` per entry point).
"""

import difflib
import re

from ansible_collections.containerless.zipapp.plugins.module_utils import _s3, _sshsig
from ansible_collections.containerless.zipapp.plugins.module_utils._names import _describe, _text, _type_name, must_be_string


SHA256_HEX_RE = re.compile(r"[0-9a-fA-F]{64}")


URL_SCHEMES = ("http", "https", "file")


def _split_url(value):
    if "://" not in value:
        return None, None, None
    scheme, rest = value.split("://", 1)
    authority = rest.split("/", 1)[0]
    return scheme.lower(), authority, rest


def check_url(value, var="zipapp_url", schemes=URL_SCHEMES):
    errors = must_be_string(var, value)
    if errors:
        return errors
    if any(c in value for c in "\r\n\t ") or not value:
        return ["%s=%r must be a URL without whitespace" % (var, value)]
    scheme, authority, rest = _split_url(value)
    if scheme not in schemes:
        return ["%s=%r must start with one of %s" % (var, value, ", ".join(s + "://" for s in schemes))]
    if scheme == "s3":
        try:
            _s3.parse_s3_url(value)
        except _s3.S3Error as e:
            return ["%s: %s" % (var, e)]
        return []
    if "@" in authority:
        return [
            "%s must not carry credentials in the URL (they would be logged and recorded): "
            "use zipapp_download_headers, e.g. {Authorization: 'Bearer ...'}" % var
        ]
    if scheme == "file":
        if not rest.startswith("/") or authority:
            return ["%s=%r: a file URL must be file:///absolute/path" % (var, value)]
    elif not authority:
        return ["%s=%r has no host" % (var, value)]
    if rest.endswith("/"):
        return ["%s=%r must name a file, not a directory" % (var, value)]
    return []


def check_checksum(value, var="zipapp_checksum", schemes=URL_SCHEMES):
    """``sha256:<64 hex>`` or ``sha256:<url of a SHA256SUMS file>``."""
    errors = must_be_string(var, value)
    if errors:
        return errors
    algo, sep, rest = value.partition(":")
    if not sep or algo.lower() != "sha256":
        return ["%s=%r must be 'sha256:<64 hex digits>' or 'sha256:<url of a SHA256SUMS file>'" % (var, value)]
    if "://" in rest:
        return check_url(rest, var, schemes)
    if not SHA256_HEX_RE.fullmatch(rest):
        return [
            "%s: 'sha256:' must be followed by exactly 64 hex digits or a URL, got %d characters"
            % (var, len(rest))
        ]
    return []


def check_abs_path(value, var, allow_root=False):
    errors = must_be_string(var, value)
    if errors:
        return errors
    parts = value.split("/")
    if not value.startswith("/") or ".." in parts or any(c in value for c in "\x00\n\r"):
        return ["%s=%r must be an absolute path without '..'" % (var, value)]
    if not allow_root and value.rstrip("/") == "":
        return ["%s must not be '/'" % var]
    if any(c.isspace() for c in value) or "%" in value or "\\" in value:
        return ["%s=%r must not contain whitespace, '%%' or '\\' (it is written into systemd units)" % (var, value)]
    return []


def check_str_list(value, var, allow_empty_items=False):
    if not isinstance(value, list):
        return ["%s must be a list of strings, got %s" % (var, _describe(value))]
    errors = []
    for i, item in enumerate(value):
        if not _text(item):
            errors.append("%s[%d] must be a string, got %s" % (var, i, _describe(item)))
        elif "\x00" in item:
            errors.append("%s[%d] contains a NUL character" % (var, i))
        elif not allow_empty_items and not item:
            errors.append("%s[%d] must not be empty" % (var, i))
    return errors


def check_int(value, var, minimum=None):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)  # -e name=3 on the command line gives a string
    if isinstance(value, bool) or not isinstance(value, int):
        return ["%s must be an integer, got %s" % (var, _describe(value))]
    if minimum is not None and value < minimum:
        return ["%s must be at least %d, got %d" % (var, minimum, value)]
    return []


def check_number(value, var, minimum=0.0):
    if isinstance(value, str):
        try:
            value = float(value)  # -e name=0.5 on the command line gives a string
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ["%s must be a number, got %s" % (var, _describe(value))]
    if value < minimum:
        return ["%s must be at least %s, got %s" % (var, minimum, value)]
    return []


def check_signing_keys(value, var="zipapp_signing_keys"):
    errors = check_str_list(value, var)
    if errors:
        return errors
    for i, line in enumerate(value):
        try:
            _sshsig.public_key_blob(line)
        except _sshsig.SignatureError as e:
            errors.append("%s[%d]: %s (write the line of the .pub file, e.g. ssh-ed25519 AAAAC3Nza... ci@example)"
                          % (var, i, e))
    return errors


def check_signature_together(values, prefix="zipapp_", checksum="zipapp_checksum"):
    """zipapp_require_signature: trusted keys, and a checksum that names a SHA256SUMS."""
    if values.get(prefix + "require_signature") not in (True, "true", "yes", "True"):
        return []
    errors = []
    if not values.get(prefix + "signing_keys"):
        errors.append("%srequire_signature is true but %ssigning_keys is empty: list the trusted public keys"
                      % (prefix, prefix))
    value = values.get(checksum)
    if isinstance(value, str) and "://" not in value:
        errors.append("%s is an inline sha256 and %srequire_signature is true: an inline digest cannot be "
                      "authenticated; use sha256:<url of a signed SHA256SUMS>" % (checksum, prefix))
    return errors


def check_optional_string(value, var, secret=False):
    """A string (possibly empty) on one line; a secret's value is never echoed."""
    if not _text(value):
        got = "a %s (value hidden)" % _type_name(value) if secret else _describe(value)
        return ["%s must be a quoted string, got %s" % (var, got)]
    if any(c in value for c in "\x00\r\n"):
        return ["%s must be one line without NUL%s" % (var, " (value hidden)" if secret else "")]
    return []


def check_s3_settings(values, prefix):
    """The ``<prefix>endpoint_url``, ``region``, ``access_key``, ``secret_key``, ``session_token`` and ``profile``
    variables together (strings are checked one by one before)."""
    names = dict((n, prefix + n) for n in _s3.SETTINGS)
    settings = _s3.settings_from(values, prefix)
    if any(not _text(v) for v in settings.values()):
        return []  # reported by the checks of the single variables
    return _s3.settings_errors(settings, names)


def _string_check(var, secret):
    return lambda v: check_optional_string(v, var, secret)


def s3_checks(prefix):
    """Checks of the S3 settings' variables ``<prefix><setting>``; the keys' values are never echoed."""
    return dict((prefix + n, _string_check(prefix + n, n in _s3.SECRET_SETTINGS or n == "access_key"))
                for n in _s3.SETTINGS)


def unknown_variables(names, known, prefix="zipapp_"):
    """Messages for variables that start with ``prefix`` but are not ``known``, with a suggestion."""
    errors = []
    for name in sorted(set(names)):
        if not name.startswith(prefix) or name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = " (did you mean %s?)" % close[0] if close else ""
        errors.append("%s is not a variable of containerless.zipapp%s" % (name, hint))
    return errors


def check_headers(value, var):
    """HTTP headers: names and values are strings on one line; values are never echoed."""
    if not isinstance(value, dict):
        return ["%s must be a mapping of header name: value" % var]
    errors = []
    for key in sorted(value, key=str):
        if not _text(key) or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", key):
            errors.append("%s: %r is not a valid HTTP header name" % (var, key))
        elif not _text(value[key]) or any(c in value[key] for c in "\r\n\x00"):
            errors.append("%s.%s must be a string on one line (value hidden)" % (var, key))
    return errors


def _optional(check):
    return lambda v: [] if v == "" else check(v)


def check_values(values, checks, together=None):
    """Run ``checks`` (variable -> function) on ``values`` (variable -> raw value), then ``together``."""
    errors = []
    for var in sorted(checks):
        if var in values:
            errors.extend(checks[var](values[var]))
    if together and not errors:
        errors.extend(together(values))
    return errors


def check_signature_namespace(value, var="zipapp_signature_namespace"):
    return must_be_string(var, value) or ([] if value else ["%s must not be empty (ssh-keygen's default is file)" % var])


class EntryPoint:
    """What ``zipapp_validate`` checks for one entry point of a role: ``checks`` (variable -> function of the raw
    value), then, when they all pass, ``together`` (a function of every value) over ``reads``."""

    def __init__(self, checks, together=None, reads=()):
        self.checks = checks
        self.together = together
        self.reads = frozenset(reads)

    def variables(self):
        return set(self.checks) | self.reads

    def errors(self, values):
        return check_values(values, self.checks, self.together)
