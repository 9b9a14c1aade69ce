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
        """What has to change, and whether the service must restart afterwards."""
        lay = self.layout
        wanted = self.wanted_units()
        changes = {}
        for unit, data in wanted.items():
            if rel.read_bytes(os.path.join(sd.UNIT_DIR, unit)) != data:
                changes[unit] = data
        # units of this app that the release no longer has (the socket after zipapp_listen: "")
        for unit in (self.service, self.socket):
            path = os.path.join(sd.UNIT_DIR, unit)
            if unit not in wanted and os.path.isfile(path) and (MARKER + self.name).encode() in (rel.read_bytes(path) or b""):
                changes[unit] = None
        live = rel.link_version(lay, lay.current)
        p = dict(
            wanted=wanted,
            unit_changes=changes,
            config_switch=rel.linked_config(lay, self.version) != self.config,
            release_switch=live != self.version,
            live_before=live,
            previous_before=rel.link_version(lay, lay.previous),
            has_socket=self.socket in wanted,
        )
        p["to_enable"] = [u for u in sorted(wanted) if u.endswith((".service", ".socket"))
                          and not (u in changes or sd.is_enabled(self.run, u))]
        p["to_enable"] += [u for u in sorted(changes) if changes[u] is not None and u.endswith((".service", ".socket"))
                           and u not in p["to_enable"]]
        p["socket_active"] = p["has_socket"] and sd.is_active(self.run, self.socket)
        switched = bool(changes or p["config_switch"] or p["release_switch"])
        state, started = sd.service_state(self.run, self.service)
        p["service_state"] = state
        if switched or state == "failed":
            restart = True
        elif state == "active" and started is not None:
            # A play that stopped between the switch and its handler leaves the service on the old
            # release: anything switched after its main process started means it must restart.
            paths = [lay.current, lay.config_link(self.version)] + [os.path.join(sd.UNIT_DIR, u) for u in wanted]
            newest = max([os.lstat(x).st_mtime for x in paths if os.path.lexists(x)] or [0])
            restart = started < newest
        else:
            restart = not p["has_socket"] and state != "active"
        p["restart"] = [self.service] if restart else []
        p["in_sync"] = not (switched or p["to_enable"] or (p["has_socket"] and not p["socket_active"]) or restart)
        return p

    def apply(self, p):
        """Carry out a plan (raises OSError, RuntimeError or ReleaseError)."""
        lay, run = self.layout, self.run
        for unit, data in sorted(p["unit_changes"].items()):
            path = os.path.join(sd.UNIT_DIR, unit)
            if data is None:
                run(["systemctl", "disable", "--now", unit])
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
        if p["service_state"] == "failed":
            run(["systemctl", "reset-failed", self.service])
        if p["has_socket"] and self.socket in p["unit_changes"] and p["socket_active"]:
            # a new ListenStream= needs the socket restarted, which systemd refuses while the service runs
            sd.systemctl(run, "stop", self.service)
            sd.systemctl(run, "restart", self.socket)
        elif p["has_socket"] and not p["socket_active"]:
            sd.systemctl(run, "start", self.socket)


def deactivate(run, layout, check_mode=False):
    """Back to nothing live (a first deploy that failed after its switch): stop and remove the app's
    units and the ``current``/``previous`` links; the releases stay.  Returns the units removed."""
    removed = []
    for unit in (layout.name + ".socket", layout.name + ".service"):
        path = os.path.join(sd.UNIT_DIR, unit)
        if os.path.isfile(path) and (MARKER + layout.name).encode() in (rel.read_bytes(path) or b""):
            removed.append(unit)
            if not check_mode:
                run(["systemctl", "disable", "--now", unit])
                os.unlink(path)
    if not check_mode:
        if removed:
            sd.daemon_reload(run)
            run(["systemctl", "reset-failed"] + removed)
        for link in (layout.current, layout.previous):
            if os.path.lexists(link):
                os.unlink(link)
    return removed
