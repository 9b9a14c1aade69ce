# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy role's inputs: its entry points main (deploy), rollback and exec.

This is a private plugin_utils file (controller side): its interface may change without notice.
"""

import re

from ansible_collections.containerless.zipapp.plugins.module_utils import _s3
from ansible_collections.containerless.zipapp.plugins.module_utils._envfile import ENV_KEY_RE, env_errors
from ansible_collections.containerless.zipapp.plugins.module_utils._names import (
    CREDENTIAL_ID_RE,
    _describe,
    _text,
    check_name,
    check_secrets,
    check_version,
    must_be_string,
)
from ansible_collections.containerless.zipapp.plugins.plugin_utils._checks import (
    URL_SCHEMES,
    EntryPoint,
    _optional,
    check_abs_path,
    check_checksum,
    check_int,
    check_number,
    check_s3_settings,
    check_signature_namespace,
    check_signature_together,
    check_signing_keys,
    check_str_list,
    check_url,
    s3_checks,
)


DIRECTIVE_RE = re.compile(r"[A-Z][A-Za-z0-9]+")


DEPLOY_URL_SCHEMES = URL_SCHEMES + ("s3",)  # s3:// is always fetched on the controller


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


def check_health_path(value, var="zipapp_health_path"):
    errors = must_be_string(var, value)
    if not errors and value and (not value.startswith("/") or any(c.isspace() for c in value)):
        errors.append("%s=%r must be an absolute URL path such as /health" % (var, value))
    return errors


def check_warmup_paths(value, var="zipapp_warmup_paths"):
    errors = check_str_list(value, var)
    if errors:
        return errors
    for i, path in enumerate(value):
        errors += check_health_path(path, "%s[%d]" % (var, i))
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
    """``{ENV_NAME: credential id}`` (zipapp_secrets_env, zipapp_secrets_file_env)."""
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
    file_env = values.get("zipapp_secrets_file_env")
    for var, mapping in (("zipapp_secrets_env", secrets_env), ("zipapp_secrets_file_env", file_env)):
        if isinstance(mapping, dict) and isinstance(secrets, dict):
            for key, cred in sorted(mapping.items(), key=lambda kv: str(kv[0])):
                if cred not in secrets:
                    errors.append("%s.%s=%r is not a key of zipapp_secrets" % (var, key, cred))
    if isinstance(secrets_env, dict) and isinstance(file_env, dict):
        for key in sorted(set(secrets_env) & set(file_env), key=str):
            errors.append("zipapp_secrets_file_env.%s: %s is also in zipapp_secrets_env (the value or its path: "
                          "choose one)" % (key, key))
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
    "zipapp_secrets_file_env": lambda v: check_secrets_env(v, "zipapp_secrets_file_env"),
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
    "zipapp_signature": _optional(lambda v: check_url(v, "zipapp_signature", DEPLOY_URL_SCHEMES)),
    "zipapp_signature_namespace": check_signature_namespace,
    "zipapp_description": lambda v: must_be_string("zipapp_description", v),
    "zipapp_health_path": check_health_path,
    "zipapp_health_address": lambda v: check_listen(v, "zipapp_health_address"),
    "zipapp_health_host": lambda v: must_be_string("zipapp_health_host", v),
    "zipapp_health_timeout": lambda v: check_number(v, "zipapp_health_timeout", 0.1),
    "zipapp_health_retries": lambda v: check_int(v, "zipapp_health_retries", minimum=0),
    "zipapp_health_delay": lambda v: check_number(v, "zipapp_health_delay", 0.0),
    "zipapp_health_settle": lambda v: check_number(v, "zipapp_health_settle", 0.0),
    "zipapp_warmup_paths": check_warmup_paths,
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


def check_exec_env(value, var="zipapp_exec_env"):
    """Like zipapp_env, but its values may be secrets: no message shows one."""
    if not isinstance(value, dict):
        return ["%s must be a mapping of NAME: value" % var]
    errors = []
    for key in sorted(value, key=str):
        if not _text(key) or not ENV_KEY_RE.fullmatch(key):
            errors.append("%s: %r is not a valid environment variable name" % (var, key))
        elif not _text(value[key]):
            errors.append("%s.%s must be a string (quote it in YAML); its value is not shown" % (var, key))
        elif "\x00" in value[key]:
            errors.append("%s.%s contains a NUL character, which systemd cannot carry" % (var, key))
    return errors


# `tasks_from: exec` (and the exec playbook): a one-off command with the live release
EXEC_CHECKS = dict((k, DEPLOY_CHECKS[k]) for k in ("zipapp_name", "zipapp_root"))
EXEC_CHECKS.update({
    "zipapp_exec": check_exec,
    "zipapp_exec_timeout": lambda v: check_int(v, "zipapp_exec_timeout", minimum=1),
    "zipapp_exec_env": check_exec_env,
    "zipapp_exec_stdin": lambda v: [] if _text(v) else ["zipapp_exec_stdin must be a string; its value is not shown"],
})

# read by check_deploy_together
TOGETHER_VARIABLES = frozenset(["zipapp_private_network", "zipapp_listen", "zipapp_secrets", "zipapp_secrets_env",
                                "zipapp_secrets_file_env",
                                "zipapp_health_path", "zipapp_health_address", "zipapp_processes", "zipapp_timers",
                                "zipapp_args", "zipapp_checksum", "zipapp_signing_keys", "zipapp_require_signature"]
                               + ["zipapp_s3_" + n for n in _s3.SETTINGS])
ENTRY_POINTS = {
    "deploy": EntryPoint(DEPLOY_CHECKS, check_deploy_together, TOGETHER_VARIABLES),
    # a rollback reads nothing of the deploy's settings (its secrets may sit in a vault the rollback does not open):
    # the release it goes back to brings its config, and its health check is the one recorded when it went live
    "rollback": EntryPoint(ROLLBACK_CHECKS),
    "exec": EntryPoint(EXEC_CHECKS),
}
