# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one renderer of the app's systemd units: live units, and the runtime units of one release.

This is a private module_utils file: its interface may change without notice.

Every unit text comes from here, from a unit spec made by ``_plan.plan()`` (stored with the release's
config as ``manifest.json``) and the app's common settings (``_plan.App``):

* the **live** units in ``/etc/systemd/system``: they reach everything that can differ between releases
  (artifact, args, env, credentials) through ``<app>/current/config/``, so one rename of ``current``
  switches code and config together, and after a reboot they run what ``current`` names;
* the **runtime** units of one prepared release in ``/run/systemd/system``, with the release's config
  dir in their paths instead of ``current``: the canary (its own unix socket, no restarts, no
  ``[Install]``) and the release commands (one-shot, ``run`` with the command's arguments).

The web process of a handover layout is the template ``<name>@.service`` with two instances, ``blue``
(the one the socket activates and boot starts) and ``green``: both take the fds of ``<name>.socket``
(``Sockets=``), and each also has a private check socket ``<name>-check@<instance>.socket``.
"""

import re

MARKER = "# containerless.zipapp unit of "
RUNTIME_MARKER = "# containerless.zipapp runtime unit of "
SOCKET_DIR = "/run/zipapp"
SLOTS = ("blue", "green")  # the two instances of a handover template; the first is the boot instance
LIVE, CANARY, COMMAND = "live", "canary", "command"
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def systemd_quote(word):
    """Quote one argument (not the executable) of an ``ExecStart=`` line; specifiers and variables off."""
    word = word.replace("%", "%%").replace("$", "$$")
    if _PLAIN.fullmatch(word):
        return word
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return '"%s"' % escaped


def check_socket_path(name, instance):
    """The private check socket of a web instance (``instance`` may be the specifier ``%i``)."""
    return "%s/%s.%s.sock" % (SOCKET_DIR, name, instance)


def canary_socket_path(name):
    return "%s/%s-canary.sock" % (SOCKET_DIR, name)


def _value(item):
    return "yes" if item is True else "no" if item is False else str(item)


def _header(app, what):
    lines = (app.managed or "").splitlines()
    return lines + ["%s%s: %s" % (MARKER, app.name, what)]


def service(app, spec, variant=LIVE, config_dir=None, exec_args=None, timeout=None):
    """The text of a service unit for ``spec``: live, or a runtime unit of the release at ``config_dir``."""
    kind, process = spec["kind"], spec["process"]
    live = variant == LIVE
    base = "%s/current/config" % app.app_dir if live else config_dir
    if live:
        lines = _header(app, "%s process \"%s\". Everything" % (kind, process))
        lines.append("# that can differ between releases (artifact, args, env, credentials) is reached through current/.")
    else:
        lines = ["%s%s: %s of %s (%s); removed after use" % (RUNTIME_MARKER, app.name, variant, process, config_dir)]
    handover = live and spec.get("handover")
    description = app.description + ("" if kind == "web" else " (%s)" % process)
    if handover:
        description += " (%i)"
    if not live:
        description += " (%s)" % variant
    lines += ["[Unit]", "Description=" + description,
              "After=network-online.target", "Wants=network-online.target"]
    if live and kind != "timer":
        lines.append("PartOf=%s.target" % app.name)
    sockets = []
    if live and spec.get("listen"):
        sockets.append(app.name + ".socket")
        if handover:
            sockets.append("%s-check@%%i.socket" % app.name)
    elif variant == CANARY:
        sockets.append("%s-canary.socket" % app.name)
    if sockets:
        lines += ["Requires=" + " ".join(sockets), "After=" + " ".join(sockets)]
    lines += ["", "[Service]"]
    oneshot = kind == "timer" or variant == COMMAND
    lines.append("Type=" + ("oneshot" if oneshot else "exec"))
    if sockets and (handover or variant == CANARY):
        lines.append("Sockets=" + " ".join(sockets))
    if variant == COMMAND:
        lines.append("ExecStart=/bin/sh %s/run %s" % (base, " ".join(systemd_quote(a) for a in exec_args or [])))
    else:
        lines.append("ExecStart=/bin/sh %s/%s" % (base, spec["script"]))
    lines.append("EnvironmentFile=%s/env" % base)
    if spec.get("env_file"):
        lines.append("EnvironmentFile=%s/env.%s" % (base, process))
    for credential in app.secrets:
        lines.append("LoadCredential=%s:%s/credentials/%s" % (credential, base, credential))
    lines += ["Environment=SHIV_ROOT=%s/shiv" % app.app_dir, "Environment=PYTHONUNBUFFERED=1",
              "Environment=ZIPAPP_PROCESS=%s%s" % (process, "-%i" if spec.get("instanced") else "")]
    lines += ["User=" + app.name, "DynamicUser=yes"]
    if app.state_directory:
        lines.append("StateDirectory=" + app.name)
    lines.append("KillMode=mixed")
    if spec.get("kill_signal"):
        lines.append("KillSignal=" + spec["kill_signal"])
    lines.append("TimeoutStopSec=%s" % spec["stop_timeout"])
    if oneshot:
        lines.append("TimeoutStartSec=%s" % (timeout or spec.get("timeout") or 600))
    elif live:
        lines += ["Restart=on-failure", "RestartSec=1"]
    else:
        lines.append("Restart=no")
    lines += ["", "# Sandbox (zipapp_sandbox overrides these; see the role README for what each one costs)"]
    sandbox = spec["sandbox"]
    for directive in sorted(sandbox):
        value = sandbox[directive]
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                lines.append("%s=%s" % (directive, _value(item)))
    if app.ip_address_allow and not sandbox.get("PrivateNetwork"):
        lines.append("IPAddressAllow=" + " ".join(app.ip_address_allow))
    lines += list(spec.get("service_extra") or [])
    if live and kind != "timer":
        # the web instance that boot starts comes with its socket, not with the target: `systemctl start
        # <name>.target` while the other instance serves never starts a second one
        lines += ["", "[Install]", "WantedBy=%s.%s" % (app.name, "socket" if handover and spec.get("listen") else "target")]
        if handover:
            lines.append("DefaultInstance=" + SLOTS[0])
    return "\n".join(lines) + "\n"


def socket(app, listen, service_name):
    """``<name>.socket``: holds the web process's listening socket across restarts and handovers."""
    lines = _header(app, "holds the listening socket of the web process across restarts and handovers.")
    lines += ["[Unit]", "Description=%s (socket)" % app.description, "", "[Socket]", "ListenStream=" + listen,
              "Service=" + service_name, "", "[Install]", "WantedBy=sockets.target"]
    return "\n".join(lines) + "\n"


def check_socket(app):
    """``<name>-check@.socket``: the private socket on which each web instance is checked before it serves
    alone; it lives and dies with its instance."""
    lines = _header(app, "the private check socket of one web instance (%i).")
    lines += ["[Unit]", "Description=%s (check socket of %%i)" % app.description,
              "PartOf=%s@%%i.service" % app.name, "", "[Socket]",
              "ListenStream=" + check_socket_path(app.name, "%i"), "SocketMode=0600", "RemoveOnStop=yes",
              "Service=%s@%%i.service" % app.name]
    return "\n".join(lines) + "\n"


def canary_socket(app):
    lines = ["%s%s: the canary's socket; removed after use" % (RUNTIME_MARKER, app.name), "[Unit]",
             "Description=%s (canary socket)" % app.description, "", "[Socket]",
             "ListenStream=" + canary_socket_path(app.name), "SocketMode=0600", "RemoveOnStop=yes"]
    return "\n".join(lines) + "\n"


def timer(app, spec):
    lines = _header(app, "schedule of \"%s\"; each run starts the live release." % spec["process"])
    lines += ["[Unit]", "Description=%s (%s schedule)" % (app.description, spec["process"]), "", "[Timer]",
              "OnCalendar=" + spec["on_calendar"]]
    if spec.get("randomized_delay"):
        lines.append("RandomizedDelaySec=" + spec["randomized_delay"])
    lines += ["Persistent=" + _value(bool(spec.get("persistent", True))), "", "[Install]", "WantedBy=timers.target"]
    return "\n".join(lines) + "\n"


def target(app, wants):
    lines = _header(app, "all its processes; `systemctl restart %s.target`" % app.name)
    lines += ["# restarts them (the socket stays).", "[Unit]", "Description=%s (all processes)" % app.description]
    if wants:
        lines.append("Wants=" + " ".join(wants))
    lines += ["", "[Install]", "WantedBy=multi-user.target"]
    return "\n".join(lines) + "\n"
