# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The python role's inputs.  What needs the host's facts (does the distribution package that version?) is
checked by the role once it has them.

This is a private plugin_utils file (controller side): its interface may change without notice.
"""

import re

from ansible_collections.containerless.zipapp.plugins.module_utils._names import _describe, _text, must_be_string
from ansible_collections.containerless.zipapp.plugins.plugin_utils._checks import (
    EntryPoint,
    _optional,
    check_headers,
    check_int,
    check_signature_namespace,
    check_signature_together,
    check_signing_keys,
    check_url,
)

VERSION_RES = {
    "system": re.compile(r"([0-9]+[.][0-9]+)?"),
    "standalone": re.compile(r"[0-9]+[.][0-9]+[.][0-9]+((a|b|rc)[0-9]+)?"),
}
PATH_RE = re.compile(r"(/[A-Za-z0-9_+@-][A-Za-z0-9._+@-]*)+")
RELEASE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
TRIPLE_RE = re.compile(r"[a-z0-9_]+(-[a-z0-9_]+){2,3}")
URL_RE = re.compile(r"(https?://[^/@\s]+/|file:///)\S*[^/\s]")
CHECKSUM_RE = re.compile(r"sha256:([0-9a-fA-F]{64}|(https?://[^/@\s]+/|file:///)\S*[^/\s])")
PACKAGE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*")
MODULE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)*")


def _hide_credentials(value):
    return re.sub(r'//[^/"]*@', "//***@", _describe(value))


def _names_list(var, what, pattern):
    def check(value):
        if not isinstance(value, list) or not all(_text(v) and pattern.fullmatch(v) for v in value):
            return ["%s must be a list of %s, got %s" % (var, what, _hide_credentials(value))]
        return []
    return check


def _matching(var, what, pattern):
    def check(value):
        if not (_text(value) and pattern.fullmatch(value)):
            return ["%s must be %s, got %s" % (var, what, _hide_credentials(value))]
        return []
    return check


# Checked whatever the source.
PYTHON_CHECKS = {
    "zipapp_python_version": lambda v: [] if _text(v) else [
        "zipapp_python_version must be a quoted string such as \"3.11\" or \"3.13.5\", got %s" % _describe(v)],
    "zipapp_python_check_imports": _names_list("zipapp_python_check_imports", "module names such as ssl or xml.etree",
                                               MODULE_RE),
    "zipapp_python_system_packages": _names_list("zipapp_python_system_packages", "package names", PACKAGE_RE),
    "zipapp_python_controller_cache": lambda v: must_be_string("zipapp_python_controller_cache", v),
}
# Checked with zipapp_python_source=standalone only (they are not used otherwise).
STANDALONE_CHECKS = {
    "zipapp_python_prefix": _matching(
        "zipapp_python_prefix", "an absolute path such as /opt/python (no '.' or '..' parts, no trailing '/', no spaces)",
        PATH_RE),
    "zipapp_python_standalone_release": _matching(
        "zipapp_python_standalone_release", "a quoted python-build-standalone release tag such as \"20250723\"",
        RELEASE_RE),
    "zipapp_python_standalone_checksum": _matching(
        "zipapp_python_standalone_checksum",
        "set (it is required with zipapp_python_source=standalone) to 'sha256:<64 hex digits>' or "
        "'sha256:<url of a SHA256SUMS file>' without credentials in the URL", CHECKSUM_RE),
    "zipapp_python_standalone_triple": _matching(
        "zipapp_python_standalone_triple", "a target triple such as x86_64-unknown-linux-gnu", TRIPLE_RE),
    "zipapp_python_standalone_url": _matching(
        "zipapp_python_standalone_url",
        "an http://, https:// or file:/// URL of a file, without spaces or credentials "
        "(send credentials with zipapp_python_download_headers)", URL_RE),
    "zipapp_python_download_timeout": lambda v: check_int(v, "zipapp_python_download_timeout", minimum=1),
    "zipapp_python_download_headers": lambda v: check_headers(v, "zipapp_python_download_headers"),
    "zipapp_python_signing_keys": lambda v: check_signing_keys(v, "zipapp_python_signing_keys"),
    "zipapp_python_signature": _optional(lambda v: check_url(v, "zipapp_python_signature")),
    "zipapp_python_signature_namespace": lambda v: check_signature_namespace(v, "zipapp_python_signature_namespace"),
}


def check_python_together(values):
    """The version's form and the standalone variables, by zipapp_python_source."""
    source = values.get("zipapp_python_source", "system")
    version = values.get("zipapp_python_version", "")
    errors = []
    if source in VERSION_RES and not VERSION_RES[source].fullmatch(version):
        errors.append("zipapp_python_version must be %s with zipapp_python_source=%s, got %s" % (
            'the full version such as "3.13.5"' if source == "standalone"
            else 'MAJOR.MINOR such as "3.11" or empty (the python3 of the distribution)', source, _describe(version)))
    if source == "standalone":
        for var in sorted(STANDALONE_CHECKS):
            if var in values:
                errors += STANDALONE_CHECKS[var](values[var])
        if not errors:
            errors += check_signature_together(values, "zipapp_python_", "zipapp_python_standalone_checksum")
    return errors


ENTRY_POINTS = {
    "python": EntryPoint(PYTHON_CHECKS, check_python_together,
                         ["zipapp_python_source", "zipapp_python_require_signature"] + sorted(STANDALONE_CHECKS)),
}
