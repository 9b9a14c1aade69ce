# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The publish role's inputs (checked on the controller before the build).

This is a private plugin_utils file (controller side): its interface may change without notice.
"""

import re

from ansible_collections.containerless.zipapp.plugins.module_utils import _s3
from ansible_collections.containerless.zipapp.plugins.module_utils._names import _describe, _text, check_version, must_be_string
from ansible_collections.containerless.zipapp.plugins.plugin_utils._checks import (
    EntryPoint,
    _optional,
    _split_url,
    check_abs_path,
    check_headers,
    check_int,
    check_optional_string,
    check_s3_settings,
    check_signature_namespace,
    check_str_list,
    s3_checks,
)


# The publish role's variables (checked on the controller before the build).
PUBLISH_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


ENTRY_POINT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


MODE_RE = re.compile(r"0?[0-7]{3,4}")


def check_publish_target(value, var):
    """A directory (absolute path or file:///), an http(s):// URL or an s3:// URL, without credentials."""
    errors = must_be_string(var, value)
    if errors:
        return errors
    if not value or any(c.isspace() for c in value) or "\x00" in value:
        return ["%s=%r must be a directory, http(s):// or s3:// URL without whitespace" % (var, value)]
    scheme, authority, rest = _split_url(value)
    if scheme is None:
        if not value.startswith("/") or ".." in value.split("/"):
            return ["%s=%r must be an absolute directory path without '..' (or file:///, http(s)://, s3://)"
                    % (var, value)]
        return []
    if scheme == "s3":
        try:
            _s3.parse_s3_url(value, key_required=False)
        except _s3.S3Error as e:
            return ["%s: %s" % (var, e)]
        return []
    if scheme not in ("http", "https", "file"):
        return ["%s=%r must be a directory, file:///, http(s):// or s3:// URL" % (var, value)]
    if "@" in authority:
        return ["%s must not carry credentials in the URL (they would be logged): use zipapp_publish_headers, "
                "e.g. {Authorization: 'Bearer ...'}" % var]
    if scheme == "file" and (authority or not rest.startswith("/")):
        return ["%s=%r: a file URL must be file:///absolute/path" % (var, value)]
    if scheme != "file" and not authority:
        return ["%s=%r has no host" % (var, value)]
    if "?" in value or "#" in value:
        return ["%s=%r must not have a query or fragment" % (var, value)]
    return []


def check_publish_to(value, var="zipapp_publish_to"):
    if not isinstance(value, list) or not value:
        return ["%s must be a non-empty list of targets (directories, http(s):// or s3:// URLs), got %s"
                % (var, _describe(value))]
    errors = []
    for i, item in enumerate(value):
        errors += check_publish_target(item, "%s[%d]" % (var, i))
    return errors


def check_relative_py(value, var):
    errors = must_be_string(var, value)
    if not errors and value and (value.startswith("/") or ".." in value.split("/") or not value.endswith(".py")):
        errors.append("%s=%r must be a .py path relative to the project, without '..'" % (var, value))
    return errors


def check_epoch(value, var="zipapp_publish_source_date_epoch"):
    if value == "" or value is None:
        return []
    errors = check_int(value, var, minimum=315532800)
    return [e + " (seconds since 1970, not before 1980: a zip file cannot store earlier times)" for e in errors]


PUBLISH_CHECKS = {
    "zipapp_publish_version": lambda v: check_version(v, "zipapp_publish_version"),
    "zipapp_publish_to": check_publish_to,
    "zipapp_publish_project": lambda v: check_optional_string(v, "zipapp_publish_project"),
    "zipapp_publish_artifact": lambda v: check_optional_string(v, "zipapp_publish_artifact"),
    "zipapp_publish_name": lambda v: check_optional_string(v, "zipapp_publish_name") or (
        [] if v == "" or PUBLISH_NAME_RE.fullmatch(v) else
        ["zipapp_publish_name=%r must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" % v]),
    "zipapp_publish_version_file": lambda v: check_relative_py(v, "zipapp_publish_version_file"),
    "zipapp_publish_requirements": lambda v: check_optional_string(v, "zipapp_publish_requirements"),
    "zipapp_publish_entry_point": lambda v: check_optional_string(v, "zipapp_publish_entry_point") or (
        [] if v == "" or ENTRY_POINT_RE.fullmatch(v) else
        ["zipapp_publish_entry_point=%r must be module.path:function" % v]),
    "zipapp_publish_console_script": lambda v: check_optional_string(v, "zipapp_publish_console_script"),
    "zipapp_publish_interpreter": lambda v: check_optional_string(v, "zipapp_publish_interpreter"),
    "zipapp_publish_python": lambda v: check_optional_string(v, "zipapp_publish_python"),
    "zipapp_publish_pip_version": _optional(lambda v: check_version(v, "zipapp_publish_pip_version")),
    "zipapp_publish_shiv_version": lambda v: check_version(v, "zipapp_publish_shiv_version"),
    "zipapp_publish_pip_args": lambda v: check_str_list(v, "zipapp_publish_pip_args"),
    "zipapp_publish_shiv_args": lambda v: check_str_list(v, "zipapp_publish_shiv_args"),
    "zipapp_publish_source_date_epoch": check_epoch,
    "zipapp_publish_build_dir": lambda v: check_optional_string(v, "zipapp_publish_build_dir"),
    "zipapp_publish_dist_dir": lambda v: check_optional_string(v, "zipapp_publish_dist_dir"),
    "zipapp_publish_headers": lambda v: check_headers(v, "zipapp_publish_headers"),
    "zipapp_publish_timeout": lambda v: check_int(v, "zipapp_publish_timeout", minimum=1),
    "zipapp_publish_mode": lambda v: [] if _text(v) and MODE_RE.fullmatch(v) else
    ["zipapp_publish_mode must be a quoted octal mode such as \"0644\", got %s" % _describe(v)],
    "zipapp_publish_signing_key": lambda v: [] if v == "" else check_abs_path(v, "zipapp_publish_signing_key"),
    "zipapp_publish_signing_key_passphrase":
        lambda v: check_optional_string(v, "zipapp_publish_signing_key_passphrase", secret=True),
    "zipapp_signature_namespace": check_signature_namespace,
}
PUBLISH_CHECKS.update(s3_checks("zipapp_publish_s3_"))


def check_publish_together(values):
    errors = []
    project, artifact = values.get("zipapp_publish_project"), values.get("zipapp_publish_artifact")
    if bool(project) == bool(artifact):
        errors.append("set one of zipapp_publish_project (build it) and zipapp_publish_artifact (publish a file "
                      "built before)")
    if artifact and not values.get("zipapp_publish_name"):
        errors.append("zipapp_publish_artifact needs zipapp_publish_name: the file is published as "
                      "<name>-<version>.pyz")
    if project and bool(values.get("zipapp_publish_entry_point")) == bool(values.get("zipapp_publish_console_script")):
        errors.append("set one of zipapp_publish_entry_point (module:function) and zipapp_publish_console_script")
    errors += check_s3_settings(values, "zipapp_publish_s3_")
    return errors


ENTRY_POINTS = {
    "publish": EntryPoint(PUBLISH_CHECKS, check_publish_together),
}
