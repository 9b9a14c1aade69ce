# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The publish role's inputs (checked on the controller before the build).

This is a private plugin_utils file (controller side): its interface may change without notice.
"""

import os
import re

from ansible_collections.containerless.zipapp.plugins.module_utils import _s3
from ansible_collections.containerless.zipapp.plugins.module_utils._build import (
    ENTRY_POINT_RE,
    LAYOUTS,
    MODULE_RE,
    SERVERS,
    TARGET_PYTHON_RE,
)
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


ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_choice(value, var, choices):
    if not _text(value) or value not in choices:
        return ["%s must be one of %s, got %s" % (var, ", ".join(choices), _describe(value))]
    return []


def check_bool(value, var):
    if not isinstance(value, bool):
        return ["%s must be true or false, got %s" % (var, _describe(value))]
    return []


def check_target_python(value, var="zipapp_publish_target_python"):
    """The hosts' CPython: "3.13", or a list of them (a mixed fleet); quoted, because YAML reads 3.10 as 3.1."""
    items = value if isinstance(value, list) else [value]
    if value == "" or value == []:
        return []
    errors = []
    for i, item in enumerate(items):
        where = "%s[%d]" % (var, i) if isinstance(value, list) else var
        if not _text(item) or not TARGET_PYTHON_RE.fullmatch(item):
            errors.append("%s must be a quoted CPython version such as \"3.13\" or \"3.11.2\" (YAML reads 3.10 as "
                          "3.1), got %s" % (where, _describe(item)))
    return errors


def check_build_commands(value, var="zipapp_publish_build_commands"):
    """Management commands at build time: each a non-empty list of strings (the arguments after ``manage``)."""
    if not isinstance(value, list):
        return ["%s must be a list of commands, each a list of arguments after manage, e.g. [[compress]], got %s"
                % (var, _describe(value))]
    errors = []
    for i, cmd in enumerate(value):
        if not isinstance(cmd, list) or not cmd:
            errors.append("%s[%d] must be a non-empty list of arguments after manage, e.g. [compress], got %s"
                          % (var, i, _describe(cmd)))
        else:
            errors.extend(check_str_list(cmd, "%s[%d]" % (var, i)))
    return errors


def check_build_env(value, var="zipapp_publish_build_env"):
    """Environment of the build-time Django commands; values are secrets (a DJANGO_SECRET_KEY), never echoed."""
    if not isinstance(value, dict):
        return ["%s must be a mapping of NAME: value, got %s" % (var, _describe(value))]
    errors = []
    for key in sorted(value, key=str):
        if not _text(key) or not ENV_NAME_RE.fullmatch(key):
            errors.append("%s: %r is not a valid environment variable name" % (var, key))
        elif not _text(value[key]) or "\x00" in value[key]:
            errors.append("%s.%s must be a quoted string (value hidden)" % (var, key))
    return errors


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
    "zipapp_publish_layout": lambda v: check_choice(v, "zipapp_publish_layout", LAYOUTS),
    "zipapp_publish_django_settings": lambda v: check_optional_string(v, "zipapp_publish_django_settings") or (
        [] if v == "" or MODULE_RE.fullmatch(v) else
        ["zipapp_publish_django_settings=%r must be a dotted module name such as mysite.settings" % v]),
    "zipapp_publish_wsgi_app": lambda v: check_optional_string(v, "zipapp_publish_wsgi_app") or (
        [] if v == "" or ENTRY_POINT_RE.fullmatch(v) else
        ["zipapp_publish_wsgi_app=%r must be module:attribute, e.g. app:app (Flask) or mysite.wsgi:application" % v]),
    "zipapp_publish_server": lambda v: check_choice(v, "zipapp_publish_server", SERVERS),
    "zipapp_publish_collectstatic": lambda v: check_bool(v, "zipapp_publish_collectstatic"),
    "zipapp_publish_build_env": check_build_env,
    "zipapp_publish_build_commands": check_build_commands,
    "zipapp_publish_exclude": lambda v: check_str_list(v, "zipapp_publish_exclude"),
    "zipapp_publish_target_python": check_target_python,
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
    if project:
        errors += check_project(values, project)
    errors += check_s3_settings(values, "zipapp_publish_s3_")
    return errors


def project_layout(values, path):
    """The layout the build will take (zipapp_publish_layout auto: a package when the project has pyproject.toml
    or setup.py, a Django project when it has manage.py, a WSGI app when zipapp_publish_wsgi_app is set); None
    when auto finds none. A project that is not there (yet) is taken for a package when it has an entry point."""
    layout = values.get("zipapp_publish_layout") or "auto"
    if layout != "auto":
        return layout
    if os.path.isdir(path):
        if any(os.path.isfile(os.path.join(path, f)) for f in ("pyproject.toml", "setup.py")):
            return "package"
        if os.path.isfile(os.path.join(path, "manage.py")):
            return "django"
    elif values.get("zipapp_publish_entry_point") or values.get("zipapp_publish_console_script"):
        return "package"
    return "wsgi" if values.get("zipapp_publish_wsgi_app") else None


def check_project(values, project):
    """What the project needs in its layout, and its requirements file where the build will look for it."""
    path = os.path.abspath(os.path.expanduser(project))
    layout = project_layout(values, path)
    entry = bool(values.get("zipapp_publish_entry_point")) or bool(values.get("zipapp_publish_console_script"))
    if layout is None:
        if not os.path.isdir(path):
            return ["set one of zipapp_publish_entry_point (module:function) and zipapp_publish_console_script"]
        return ["zipapp_publish_project=%s has no pyproject.toml or setup.py (a package with an entry point), no "
                "manage.py (a Django project) and zipapp_publish_wsgi_app is not set (a plain WSGI app such as "
                "Flask's app:app): set one, or zipapp_publish_layout" % project]
    errors = []
    if layout == "package":
        if bool(values.get("zipapp_publish_entry_point")) == bool(values.get("zipapp_publish_console_script")):
            errors.append("set one of zipapp_publish_entry_point (module:function) and zipapp_publish_console_script "
                          "(zipapp_publish_project %s is built as a package)" % project)
    else:
        if entry:
            errors.append("zipapp_publish_entry_point and zipapp_publish_console_script are for packages: the %s "
                          "layout of %s runs the collection's launcher (serve, manage, version)" % (layout, project))
        if layout == "wsgi" and not values.get("zipapp_publish_wsgi_app"):
            errors.append("zipapp_publish_layout wsgi needs zipapp_publish_wsgi_app (module:attribute, e.g. app:app)")
        if not values.get("zipapp_publish_requirements"):
            errors.append("zipapp_publish_requirements must name the pinned requirements of %s (the server, "
                          "zipapp_publish_server, must be pinned there)" % project)
    requirements = values.get("zipapp_publish_requirements")
    if requirements and os.path.isdir(path) and not os.path.isabs(requirements):
        if not os.path.isfile(os.path.join(path, requirements)):
            hint = ""
            if os.path.isfile(requirements):
                hint = (": %s exists relative to the current directory, so give it relative to the project, or "
                        "absolute (%s)" % (requirements, os.path.abspath(requirements)))
            errors.append("zipapp_publish_requirements=%s is relative to zipapp_publish_project (%s), and %s does "
                          "not exist%s" % (requirements, project, os.path.join(path, requirements), hint))
    return errors


ENTRY_POINTS = {
    "publish": EntryPoint(PUBLISH_CHECKS, check_publish_together),
}
