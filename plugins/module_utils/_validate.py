# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks on the deploy role's inputs that argument_specs cannot express.

This is a private module_utils file: its interface may change without notice.

argument_specs checks presence, choices and nested keys, but it does not check patterns, and
``type: str`` silently coerces (``1.10`` becomes ``"1.1"``, a list becomes its repr).  Every
function here takes the raw value and returns a list of messages that name the variable; an
empty list means the value is good.  The preflight action plugin runs them on the controller,
before anything touches a host, and the modules run the ones that guard paths again.
"""

import difflib
import re

from ansible_collections.containerless.zipapp.plugins.module_utils import _s3, _sshsig
from ansible_collections.containerless.zipapp.plugins.module_utils._names import (  # noqa: F401 (part of this API)
    CREDENTIAL_ID_RE,
    _describe,
    _text,
    _type_name,
    check_name,
    check_secrets,
    check_version,
    must_be_string,
)
from ansible_collections.containerless.zipapp.plugins.module_utils._envfile import ENV_KEY_RE, env_errors

SHA256_HEX_RE = re.compile(r"[0-9a-fA-F]{64}")
DIRECTIVE_RE = re.compile(r"[A-Z][A-Za-z0-9]+")
URL_SCHEMES = ("http", "https", "file")
DEPLOY_URL_SCHEMES = URL_SCHEMES + ("s3",)  # s3:// is always fetched on the controller


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


def check_env(value, var="zipapp_env"):
    return env_errors(value, var)


def check_listen(value, var="zipapp_listen"):
    errors = must_be_string(var, value)
    if errors or value == "":
        return errors
    if any(c.isspace() for c in value) or "%" in value:
        return ["%s=%r must be a systemd ListenStream= value without whitespace or '%%' (e.g. '127.0.0.1:8000')"
                % (var, value)]
    if value.startswith("/"):
        return check_abs_path(value, var)
    host, sep, port = value.rpartition(":")
    if not sep:
        port = value
    if not port.isdigit() or not 0 < int(port) < 65536:
        return ["%s=%r must be 'HOST:PORT', 'PORT' or an absolute unix socket path" % (var, value)]
    return []


def check_int(value, var, minimum=None):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)  # -e name=3 on the command line gives a string
    if isinstance(value, bool) or not isinstance(value, int):
        return ["%s must be an integer, got %s" % (var, _describe(value))]
    if minimum is not None and value < minimum:
        return ["%s must be at least %d, got %d" % (var, minimum, value)]
    return []


def check_sandbox(value, var="zipapp_sandbox"):
    if not isinstance(value, dict):
        return ["%s must be a mapping of systemd directive: value" % var]
    errors = []
    for key in sorted(value, key=str):
        item = value[key]
        if not _text(key) or not DIRECTIVE_RE.fullmatch(key):
            errors.append("%s: %r is not a systemd directive name" % (var, key))
            continue
        items = item if isinstance(item, list) else [item]
        for one in items:
            if one is None or isinstance(one, (bool, int)):
                continue
            if not _text(one) or any(c in one for c in "\n\r\x00"):
                errors.append("%s.%s must be a string, number, boolean, null or a list of those on one line each"
                              % (var, key))
                break
    return errors


def check_service_lines(value, var="zipapp_service_extra"):
    errors = check_str_list(value, var)
    if errors:
        return errors
    for i, line in enumerate(value):
        if "\n" in line or "\r" in line or not DIRECTIVE_RE.fullmatch(line.partition("=")[0]) or "=" not in line:
            errors.append("%s[%d]=%r must be one 'Directive=value' line" % (var, i, line))
    return errors


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


def check_health_path(value, var="zipapp_health_path"):
    errors = must_be_string(var, value)
    if not errors and value and (not value.startswith("/") or any(c.isspace() for c in value)):
        errors.append("%s=%r must be an absolute URL path such as /health" % (var, value))
    return errors


def check_commands(value, var="zipapp_release_commands"):
    if not isinstance(value, list):
        return ["%s must be a list of commands, each a list of arguments, got %s" % (var, _describe(value))]
    errors = []
    for i, cmd in enumerate(value):
        if not isinstance(cmd, list) or not cmd:
            errors.append("%s[%d] must be a non-empty list of arguments, e.g. [manage, migrate, --noinput]" % (var, i))
        else:
            errors.extend(check_str_list(cmd, "%s[%d]" % (var, i), allow_empty_items=True))
    return errors


def check_secrets_env(value, var="zipapp_secrets_env"):
    if not isinstance(value, dict):
        return ["%s must be a mapping of ENV_NAME: credential id" % var]
    errors = []
    for key in sorted(value, key=str):
        if not _text(key) or not ENV_KEY_RE.fullmatch(key):
            errors.append("%s: %r is not a valid environment variable name" % (var, key))
        elif not _text(value[key]) or not CREDENTIAL_ID_RE.fullmatch(value[key]):
            errors.append("%s.%s must name a credential id of zipapp_secrets, got %s" % (var, key, _describe(value[key])))
    return errors


PROCESS_NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,20}")
SIGNAL_RE = re.compile(r"SIG[A-Z0-9+]+")
PROCESS_KEYS = {"args", "listen", "instances", "overlap", "stop_timeout", "kill_signal", "env", "sandbox",
                "service_extra"}
TIMER_KEYS = {"args", "on_calendar", "randomized_delay", "persistent", "timeout", "env", "sandbox", "service_extra"}


def _check_unit_options(var, spec, keys):
    errors = []
    unknown = sorted(set(spec) - keys)
    if unknown:
        errors.append("%s has unknown keys %s (known: %s)" % (var, ", ".join(unknown), ", ".join(sorted(keys))))
    if "args" not in spec:
        errors.append("%s.args is required (the arguments after the zipapp)" % var)
    else:
        errors += check_str_list(spec["args"], var + ".args")
    for key, check in (("stop_timeout", lambda v, n: check_int(v, n, minimum=1)),
                       ("timeout", lambda v, n: check_int(v, n, minimum=1)),
                       ("instances", lambda v, n: check_int(v, n, minimum=1)),
                       ("env", env_errors), ("sandbox", check_sandbox), ("service_extra", check_service_lines)):
        if key in spec:
            errors += check(spec[key], "%s.%s" % (var, key))
    if "kill_signal" in spec and not (_text(spec["kill_signal"]) and SIGNAL_RE.fullmatch(spec["kill_signal"])):
        errors.append("%s.kill_signal=%r must be a signal name such as SIGTERM or SIGINT" % (var, spec["kill_signal"]))
    for key in ("on_calendar", "randomized_delay", "listen"):
        if key in spec and (not _text(spec[key]) or any(c in spec[key] for c in "\n\r\x00")):
            errors.append("%s.%s must be a string on one line" % (var, key))
    return errors


def check_processes(value, var="zipapp_processes"):
    if not isinstance(value, dict):
        return ["%s must be a mapping of process name: {args: [...], ...}" % var]
    errors = []
    for name in sorted(value, key=str):
        spec = value[name]
        where = "%s.%s" % (var, name)
        if not _text(name) or not PROCESS_NAME_RE.fullmatch(name):
            errors.append("%s: %r is not a valid process name (^[a-z][a-z0-9-]{0,20}$)" % (var, name))
            continue
        if not isinstance(spec, dict):
            errors.append("%s must be a mapping such as {args: [worker]}" % where)
            continue
        errors += _check_unit_options(where, spec, PROCESS_KEYS)
        if "listen" in spec:
            if name != "web":
                errors.append("%s.listen: only the web process has a socket" % where)
            else:
                errors += check_listen(spec["listen"], where + ".listen")
        instances = spec.get("instances", 1)
        if "overlap" in spec:
            if not isinstance(spec["overlap"], bool):
                errors.append("%s.overlap must be true or false, got %s" % (where, _describe(spec["overlap"])))
            elif name == "web":
                errors.append("%s.overlap: the web process hands over on its socket already (zipapp_handover)" % where)
            elif spec["overlap"] and instances not in (1, None):
                errors.append("%s.overlap needs a single instance (instances: 1): the new instance starts "
                              "beside the old one" % where)
        if name == "web" and spec.get("listen") and instances not in (1, None) and isinstance(instances, int):
            errors.append("%s.instances must be 1 with a socket: one web instance serves the socket (scale it "
                          "with its server's own workers)" % where)
    return errors


def check_timers(value, var="zipapp_timers"):
    if not isinstance(value, dict):
        return ["%s must be a mapping of timer name: {args: [...], on_calendar: ...}" % var]
    errors = []
    for name in sorted(value, key=str):
        spec = value[name]
        where = "%s.%s" % (var, name)
        if not _text(name) or not PROCESS_NAME_RE.fullmatch(name) or name == "web":
            errors.append("%s: %r is not a valid timer name (^[a-z][a-z0-9-]{0,20}$, not web)" % (var, name))
            continue
        if not isinstance(spec, dict):
            errors.append("%s must be a mapping such as {args: [tick], on_calendar: daily}" % where)
            continue
        errors += _check_unit_options(where, spec, TIMER_KEYS)
        if "on_calendar" not in spec:
            errors.append("%s.on_calendar is required (for example daily, or *:0/15)" % where)
    return errors


def check_deploy_together(values):
    """Checks that involve several variables."""
    errors = []
    secrets_env = values.get("zipapp_secrets_env")
    secrets = values.get("zipapp_secrets")
    if isinstance(secrets_env, dict) and isinstance(secrets, dict):
        for key, cred in sorted(secrets_env.items(), key=lambda kv: str(kv[0])):
            if cred not in secrets:
                errors.append("zipapp_secrets_env.%s=%r is not a key of zipapp_secrets" % (key, cred))
    processes = values.get("zipapp_processes") or {}
    timers = values.get("zipapp_timers") or {}
    if isinstance(processes, dict) and processes:
        for legacy in ("zipapp_args", "zipapp_listen"):
            if values.get(legacy):
                errors.append("%s is set together with zipapp_processes: put it into zipapp_processes.web "
                              "(%s) instead" % (legacy, "args" if legacy == "zipapp_args" else "listen"))
        if isinstance(timers, dict):
            for name in sorted(set(processes) & set(timers)):
                errors.append("zipapp_timers.%s has the name of a process: units would collide" % name)
    web = processes.get("web") if isinstance(processes, dict) else None
    listen = values.get("zipapp_listen") or (web.get("listen") if isinstance(web, dict) else None)
    if values.get("zipapp_private_network") in (True, "true", "yes", "True") and not listen:
        errors.append("zipapp_private_network needs zipapp_listen: without network the app is reachable only "
                      "through the socket systemd hands over")
    errors += check_s3_settings(values, "zipapp_s3_")
    errors += check_signature_together(values)
    path = values.get("zipapp_health_path")
    address = values.get("zipapp_health_address") or listen
    if isinstance(path, str) and path and not address:
        errors.append("zipapp_health_path=%r needs zipapp_health_address (it defaults to the web process's socket, "
                      "and there is none): the address where the app answers, e.g. 127.0.0.1:8000" % path)
    return errors


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


# The deploy role's variables and their checks.  Variables that are not listed here are
# checked by argument_specs alone (choices, booleans).
DEPLOY_CHECKS = {
    "zipapp_name": check_name,
    "zipapp_version": check_version,
    "zipapp_url": lambda v: check_url(v, "zipapp_url", DEPLOY_URL_SCHEMES),
    "zipapp_checksum": lambda v: check_checksum(v, "zipapp_checksum", DEPLOY_URL_SCHEMES),
    "zipapp_python": lambda v: check_abs_path(v, "zipapp_python"),
    "zipapp_args": lambda v: check_str_list(v, "zipapp_args"),
    "zipapp_env": check_env,
    "zipapp_secrets": check_secrets,
    "zipapp_secrets_env": check_secrets_env,
    "zipapp_processes": check_processes,
    "zipapp_timers": check_timers,
    "zipapp_listen": check_listen,
    "zipapp_keep_releases": lambda v: check_int(v, "zipapp_keep_releases", minimum=1),
    "zipapp_root": lambda v: check_abs_path(v, "zipapp_root"),
    "zipapp_ip_address_allow": lambda v: check_str_list(v, "zipapp_ip_address_allow"),
    "zipapp_sandbox": check_sandbox,
    "zipapp_service_extra": check_service_lines,
    "zipapp_download_timeout": lambda v: check_int(v, "zipapp_download_timeout", minimum=1),
    "zipapp_stop_timeout": lambda v: check_int(v, "zipapp_stop_timeout", minimum=1),
    "zipapp_controller_cache": lambda v: must_be_string("zipapp_controller_cache", v),
    "zipapp_signing_keys": check_signing_keys,
    "zipapp_signature": lambda v: [] if v == "" else check_url(v, "zipapp_signature", DEPLOY_URL_SCHEMES),
    "zipapp_signature_namespace": lambda v: must_be_string("zipapp_signature_namespace", v) or (
        [] if v else ["zipapp_signature_namespace must not be empty (ssh-keygen's default is file)"]),
    "zipapp_description": lambda v: must_be_string("zipapp_description", v),
    "zipapp_health_path": check_health_path,
    "zipapp_health_address": lambda v: check_listen(v, "zipapp_health_address"),
    "zipapp_health_host": lambda v: must_be_string("zipapp_health_host", v),
    "zipapp_health_timeout": lambda v: check_number(v, "zipapp_health_timeout", 0.1),
    "zipapp_health_retries": lambda v: check_int(v, "zipapp_health_retries", minimum=0),
    "zipapp_health_delay": lambda v: check_number(v, "zipapp_health_delay", 0.0),
    "zipapp_health_settle": lambda v: check_number(v, "zipapp_health_settle", 0.0),
    "zipapp_release_commands": check_commands,
    "zipapp_release_command_timeout": lambda v: check_int(v, "zipapp_release_command_timeout", minimum=1),
    "zipapp_before_swap_tasks": lambda v: must_be_string("zipapp_before_swap_tasks", v),
    "zipapp_after_swap_tasks": lambda v: must_be_string("zipapp_after_swap_tasks", v),
    "zipapp_lock_timeout": lambda v: check_int(v, "zipapp_lock_timeout", minimum=0),
    "zipapp_lock_lease": lambda v: check_int(v, "zipapp_lock_lease", minimum=60),
}
DEPLOY_CHECKS.update(s3_checks("zipapp_s3_"))

ROLLBACK_CHECKS = dict((k, DEPLOY_CHECKS[k]) for k in (
    "zipapp_name", "zipapp_root", "zipapp_health_path", "zipapp_health_address", "zipapp_health_host",
    "zipapp_health_timeout", "zipapp_health_retries", "zipapp_health_delay", "zipapp_health_settle",
    "zipapp_lock_timeout", "zipapp_lock_lease"))
ROLLBACK_CHECKS["zipapp_rollback_to"] = lambda v: [] if v == "" else check_version(v, "zipapp_rollback_to")


def check_exec(value, var="zipapp_exec"):
    if not isinstance(value, list) or not value:
        return ["%s must be a non-empty list of arguments after the zipapp, e.g. [manage, check], got %s"
                % (var, _describe(value))]
    return check_str_list(value, var, allow_empty_items=True)


# `tasks_from: exec` (and the exec playbook): a one-off command with the live release
EXEC_CHECKS = dict((k, DEPLOY_CHECKS[k]) for k in ("zipapp_name", "zipapp_root"))
EXEC_CHECKS.update({
    "zipapp_exec": check_exec,
    "zipapp_exec_timeout": lambda v: check_int(v, "zipapp_exec_timeout", minimum=1),
})

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
    "zipapp_signature_namespace": DEPLOY_CHECKS["zipapp_signature_namespace"],
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


ENTRY_POINT_CHECKS = {
    "deploy": DEPLOY_CHECKS,
    "rollback": ROLLBACK_CHECKS,
    "exec": EXEC_CHECKS,
    "publish": PUBLISH_CHECKS,
}
# read by the checks that involve several variables
TOGETHER_VARIABLES = frozenset(["zipapp_private_network", "zipapp_listen", "zipapp_secrets", "zipapp_secrets_env",
                                "zipapp_health_path", "zipapp_health_address", "zipapp_processes", "zipapp_timers",
                                "zipapp_args", "zipapp_checksum", "zipapp_signing_keys", "zipapp_require_signature",
                                "zipapp_python_standalone_checksum", "zipapp_python_signing_keys",
                                "zipapp_python_require_signature"] + ["zipapp_s3_" + n for n in _s3.SETTINGS])
TOGETHER_CHECKS = {
    "deploy": check_deploy_together,
    "rollback": check_deploy_together,
    "publish": check_publish_together,
}


def check_values(values, checks, together=None):
    """Run ``checks`` (variable -> function) on ``values`` (variable -> raw value), then ``together``."""
    errors = []
    for var in sorted(checks):
        if var in values:
            errors.extend(checks[var](values[var]))
    if together and not errors:
        errors.extend(together(values))
    return errors
