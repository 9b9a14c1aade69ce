# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throwaway instances of a prepared release: the canary and the release commands.

This is a private module_utils file: its interface may change without notice.

A throwaway instance is the release's own service unit -- same sandbox, env file, credentials and
``User=<name>`` with ``DynamicUser=yes``, so it shares the app's UID and never re-chowns its state
directory -- with its paths pointing at the prepared release instead of ``current``, no restarts and
no ``[Install]``.  It is installed as a runtime unit in /run/systemd/system, started, checked, stopped
and removed again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _systemd as sd

RUNTIME_DIR = "/run/systemd/system"
SOCKET_DIR = "/run/zipapp"
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def systemd_quote(word):
    """Quote one argument (not the executable) of an ``ExecStart=`` line; specifiers and variables off."""
    word = word.replace("%", "%%").replace("$", "$$")
    if _PLAIN.fullmatch(word):
        return word
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return '"%s"' % escaped


def derive_service(text, layout, version, config, suffix, socket_unit=None, exec_args=None, timeout=None):
    """The unit text of a throwaway instance ``<name>-<suffix>.service`` of the prepared release."""
    live_paths = layout.app + "/current/config/"
    release_paths = layout.config_dir(version, config) + "/"
    own_socket = layout.name + ".socket"
    out = ["# containerless.zipapp: throwaway %s instance of %s %s (%s); removed after use"
           % (suffix, layout.name, version, config)]
    section = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped
            if section == "[Install]":
                continue
            out.append(line)
            if section == "[Unit]" and socket_unit:
                out += ["Requires=" + socket_unit, "After=" + socket_unit]
            if section == "[Service]":
                out += ["Restart=no"]
                if exec_args is not None:
                    out += ["Type=oneshot", "TimeoutStartSec=%d" % (timeout or 600)]
            continue
        if section == "[Install]" or stripped.startswith("#"):
            continue
        key = stripped.split("=", 1)[0]
        if section == "[Unit]":
            value = stripped.split("=", 1)[1].split() if "=" in stripped else []
            if key in ("Requires", "After", "Wants", "BindsTo") and own_socket in value:
                continue
            if key == "PartOf":  # a throwaway instance never restarts with the app's target
                continue
            if key == "Description":
                line = "%s (%s)" % (line, suffix)
        if section == "[Service]":
            if key in ("Restart", "RestartSec"):
                continue
            if exec_args is not None and key in ("Type", "ExecStart", "TimeoutStartSec"):
                if key == "ExecStart":
                    out.append("ExecStart=/bin/sh %srun %s" % (release_paths, " ".join(systemd_quote(a) for a in exec_args)))
                continue
        out.append(line.replace(live_paths, release_paths))
    return "\n".join(out) + "\n"


def socket_unit_text(name, suffix, path):
    return "\n".join([
        "# containerless.zipapp: throwaway %s socket of %s; removed after use" % (suffix, name),
        "[Unit]",
        "Description=%s %s socket (containerless.zipapp)" % (name, suffix),
        "",
        "[Socket]",
        "ListenStream=" + path,
        "SocketMode=0600",
        "RemoveOnStop=yes",
        "",
    ])


class Throwaway(object):
    """Runtime units ``<name>-<suffix>.service`` (and ``.socket``) of a prepared release."""

    def __init__(self, run, layout, version, config, suffix):
        self.run = run
        self.layout = layout
        self.version = version
        self.config = config
        self.service = "%s-%s.service" % (layout.name, suffix)
        self.socket = "%s-%s.socket" % (layout.name, suffix)
        self.socket_path = os.path.join(SOCKET_DIR, "%s-%s.sock" % (layout.name, suffix))
        self.suffix = suffix
        self.installed = []
        self.started_at = None

    def staged_service(self):
        """The release's web service unit (or, without one, its first process's)."""
        manifest = rel.read_manifest(self.layout, self.version, self.config, self.layout.name)
        unit = manifest["web"] or (manifest["restart"] or [self.layout.name + ".service"])[0]
        if "@" in unit:
            unit = unit.split("@")[0] + "@.service"
        path = os.path.join(self.layout.config_dir(self.version, self.config), "units", unit)
        data = rel.read_bytes(path)
        if data is None:
            raise RuntimeError("%s is missing: prepare the release first (zipapp_release)" % path)
        return data.decode("utf-8")

    def install(self, with_socket=False, exec_args=None, timeout=None):
        self.remove()  # leftovers of a run that was killed
        units = {self.service: derive_service(self.staged_service(), self.layout, self.version, self.config,
                                              self.suffix, self.socket if with_socket else None, exec_args, timeout)}
        if with_socket:
            if not os.path.isdir(SOCKET_DIR):
                os.mkdir(SOCKET_DIR, 0o700)
            units[self.socket] = socket_unit_text(self.layout.name, self.suffix, self.socket_path)
        for unit, text in sorted(units.items()):
            rel.write_file(os.path.join(RUNTIME_DIR, unit), text, 0o644)
            self.installed.append(unit)
        sd.daemon_reload(self.run)
        self.started_at = time.time()

    def start(self, unit):
        rc, out, err = self.run(["systemctl", "start", unit])
        return rc, (err or out).strip()

    def state(self):
        return sd.show(self.run, self.service, "ActiveState", "SubState", "Result", "ExecMainStatus", "NRestarts")

    def dead(self):
        """A message when the instance has stopped or failed, else None."""
        s = self.state()
        if s.get("ActiveState") in ("failed", "inactive") and s.get("Result") not in (None, "", "success"):
            return "the %s instance exited (%s, status %s)" % (self.suffix, s.get("Result"), s.get("ExecMainStatus"))
        return None

    def journal(self, lines=25):
        since = "@%d" % int(self.started_at or time.time() - 60)
        rc, out, err = self.run(["journalctl", "--no-pager", "-o", "cat", "-n", str(lines), "--since", since,
                                 "-u", self.service])
        return [line for line in out.splitlines() if line.strip()]

    def remove(self):
        present = [u for u in (self.service, self.socket) if os.path.exists(os.path.join(RUNTIME_DIR, u))]
        if not present:
            return
        self.run(["systemctl", "stop"] + present)
        for unit in present:
            os.unlink(os.path.join(RUNTIME_DIR, unit))
        sd.daemon_reload(self.run)
        self.run(["systemctl", "reset-failed"] + present)
        self.installed = []
