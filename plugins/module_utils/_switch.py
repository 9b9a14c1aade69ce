# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Making a prepared release live: plan what differs, then apply it.

This is a private module_utils file: its interface may change without notice.

``plan()`` only reads (it is check mode, and it is how zipapp_release tells that a re-run has nothing
to switch); ``apply()`` installs the units stored with the release's config, switches the release's
``config`` link and then ``current`` (``previous`` keeps the release that was live), enables the
units and starts the socket.  The restart itself is left to the deploy role's handler.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _systemd as sd

MARKER = "# containerless.zipapp unit of "


LIVE_BEFORE = object()  # Switch(previous=...): keep the release that was live as 'previous'


class Switch(object):
    """Switch ``current`` to ``version`` with ``config``.

    ``previous`` is what the ``previous`` link points at afterwards: by default the release that was
    live (a deploy); a rollback passes the newest good release instead, or None to drop the link.
    """

    def __init__(self, run, layout, version, config, previous=LIVE_BEFORE):
        self.run = run
        self.layout = layout
        self.name = layout.name
        self.version = version
        self.config = config
        self.previous = previous
        self.service = self.name + ".service"
        self.socket = self.name + ".socket"

    def wanted_units(self):
        units_dir = os.path.join(self.layout.config_dir(self.version, self.config), "units")
        wanted = {}
        if os.path.isdir(units_dir):
            for unit in sorted(os.listdir(units_dir)):
                wanted[unit] = rel.read_bytes(os.path.join(units_dir, unit))
        return wanted

    def plan(self):
        """What has to change, and which services must restart afterwards."""
        lay = self.layout
        wanted = self.wanted_units()
        manifest = rel.read_manifest(lay, self.version, self.config, self.name)
        live = rel.link_version(lay, lay.current)
        live_config = rel.linked_config(lay, live) if live else None
        old_manifest = rel.read_manifest(lay, live, live_config, self.name) if live_config else None
        changes = {}
        for unit, data in wanted.items():
            if rel.read_bytes(os.path.join(sd.UNIT_DIR, unit)) != data:
                changes[unit] = data
        # units of this app that the release no longer has: a removed process or timer, the socket
        # after zipapp_listen: "" (only files that carry this app's marker)
        for unit in installed_units(self.name):
            if unit not in wanted:
                changes[unit] = None
        enable = manifest["enable"]
        to_disable = sorted(set((old_manifest or {}).get("enable", [])) - set(enable))
        to_disable += [u for u in sorted(changes) if changes[u] is None and "@." not in u and u not in to_disable]
        p = dict(
            wanted=wanted,
            manifest=manifest,
            unit_changes=changes,
            to_disable=to_disable,
            config_switch=rel.linked_config(lay, self.version) != self.config,
            release_switch=live != self.version,
            live_before=live,
            previous_before=rel.link_version(lay, lay.previous),
        )
        p["to_enable"] = [u for u in enable if u in changes or not sd.is_enabled(self.run, u)]
        startable = ([manifest["socket"]] if manifest["socket"] else []) + manifest["timers"] + \
            ([manifest["target"]] if manifest.get("target") else [])
        p["to_start"] = [u for u in startable if u in changes or not sd.is_active(self.run, u)]
        socket = manifest["socket"]
        p["socket_active"] = bool(socket) and sd.is_active(self.run, socket)
        switched = bool(changes or p["config_switch"] or p["release_switch"])
        paths = [lay.current, lay.config_link(self.version)] + [os.path.join(sd.UNIT_DIR, u) for u in wanted]
        newest = max([os.lstat(x).st_mtime for x in paths if os.path.lexists(x)] or [0])
        restart = []
        states = {}
        for unit in manifest["restart"]:
            state, started = sd.service_state(self.run, unit)
            states[unit] = state
            if switched or state == "failed":
                restart.append(unit)
            elif state == "active" and started is not None:
                # A play that stopped between the switch and its handler leaves the service on the old
                # release: anything switched after its main process started means it must restart.
                if started < newest:
                    restart.append(unit)
            elif not (unit == manifest["web"] and socket) and state != "active":
                restart.append(unit)  # a process without a socket must run
        p["restart"] = restart
        p["service_states"] = states
        p["in_sync"] = not (switched or p["to_enable"] or p["to_start"] or p["to_disable"] or restart)
        return p

    def apply(self, p):
        """Carry out a plan (raises OSError, RuntimeError or ReleaseError)."""
        lay, run = self.layout, self.run
        manifest = p["manifest"]
        socket, web = manifest["socket"], manifest["web"]
        for unit in p["to_disable"]:
            run(["systemctl", "disable", "--now", unit])
        for unit, data in sorted(p["unit_changes"].items()):
            path = os.path.join(sd.UNIT_DIR, unit)
            if data is None:
                if "@." in unit:  # instances of a removed template
                    run(["systemctl", "stop", unit.replace("@.", "@*.")])
                os.unlink(path)
            else:
                rel.write_file(path, data, 0o644)
        if p["unit_changes"]:
            sd.daemon_reload(run)
        if p["config_switch"]:
            rel.swap_link(lay.config_link(self.version), self.config)
        if p["release_switch"]:
            previous = p["live_before"] if self.previous is LIVE_BEFORE else self.previous
            if previous:
                rel.swap_link(lay.previous, lay.link_target(previous))
            elif os.path.lexists(lay.previous):
                os.unlink(lay.previous)
            rel.swap_link(lay.current, lay.link_target(self.version))
        if p["to_enable"]:
            sd.systemctl(run, "enable", *p["to_enable"])
        failed = [u for u, state in p["service_states"].items() if state == "failed"]
        if failed:
            run(["systemctl", "reset-failed"] + failed)
        if socket and socket in p["unit_changes"] and p["socket_active"]:
            # a new ListenStream= needs the socket restarted, which systemd refuses while the service runs
            if web:
                sd.systemctl(run, "stop", web)
            sd.systemctl(run, "restart", socket)
        elif p["to_start"]:
            sd.systemctl(run, "start", *p["to_start"])


def installed_units(name):
    """Unit files in /etc/systemd/system that this app installed (they carry its marker)."""
    marker = (MARKER + name + ":").encode()
    found = []
    try:
        files = sorted(os.listdir(sd.UNIT_DIR))
    except OSError:
        return found
    for unit in files:
        if not (unit.startswith(name + ".") or unit.startswith(name + "-")):
            continue
        path = os.path.join(sd.UNIT_DIR, unit)
        if os.path.isfile(path) and not os.path.islink(path) and marker in (rel.read_bytes(path) or b""):
            found.append(unit)
    return found


def deactivate(run, layout, check_mode=False):
    """Back to nothing live (a first deploy that failed after its switch): stop and remove the app's
    units and the ``current``/``previous`` links; the releases stay.  Returns the units removed."""
    removed = installed_units(layout.name)
    if not check_mode:
        for unit in removed:
            if "@." in unit:
                run(["systemctl", "stop", unit.replace("@.", "@*.")])
            else:
                run(["systemctl", "disable", "--now", unit])
        for unit in removed:
            os.unlink(os.path.join(sd.UNIT_DIR, unit))
        if removed:
            sd.daemon_reload(run)
            run(["systemctl", "reset-failed"] + [u for u in removed if "@." not in u])
        for link in (layout.current, layout.previous):
            if os.path.lexists(link):
                os.unlink(link)
    return removed
