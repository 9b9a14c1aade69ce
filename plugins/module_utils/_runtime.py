# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runtime units of one prepared release: its canary (one-off commands run through the config's exec script,
``_exec``).

This is a private module_utils file: its interface may change without notice.

A runtime unit is the release's own service unit, rendered by ``_units`` from the spec stored with the
release's config (same sandbox, env file, credentials and ``User=<name>`` with ``DynamicUser=yes``, so it
shares the app's UID and never re-chowns its state directory) with the release's config dir in its paths
instead of ``current``.  It lives in /run/systemd/system (gone at reboot), and is started, checked,
stopped and removed again.
"""

import os
import time

from ansible_collections.containerless.zipapp.plugins.module_utils import _config, _plan, _units
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _systemd as sd

RUNTIME_DIR = "/run/systemd/system"


class RuntimeUnits:
    """``<name>-<suffix>.service`` (and for the canary ``.socket``) of the release at ``config``."""

    def __init__(self, run, layout, version, config, suffix):
        self.run = run
        self.layout = layout
        self.version = version
        self.config = config
        self.suffix = suffix
        self.service = "%s-%s.service" % (layout.name, suffix)
        self.socket = "%s-%s.socket" % (layout.name, suffix)
        self.socket_path = _units.canary_socket_path(layout.name)
        self.started_at = None

    def texts(self, variant, exec_args=None, timeout=None):
        manifest = _config.read_manifest(self.layout, self.version, self.config, self.layout.name)
        spec = _plan.web_spec(manifest)
        if spec is None or not manifest.get("app"):
            raise RuntimeError("the config %s of %s %s has no unit specs: prepare the release again "
                               "(zipapp_release)" % (self.config, self.layout.name, self.version))
        app = _plan.App.from_dict(manifest["app"])
        config_dir = self.layout.config_dir(self.version, self.config)
        units = {self.service: _units.service(app, spec, variant, config_dir, exec_args, timeout)}
        if variant == _units.CANARY:
            units[self.socket] = _units.canary_socket(app)
        return units

    def installed(self, units):
        """Whether exactly these units are installed already (a canary an earlier step started)."""
        return all(rel.read_bytes(os.path.join(RUNTIME_DIR, u)) == t.encode("utf-8") for u, t in units.items())

    def install(self, variant, exec_args=None, timeout=None):
        """Write the units (replacing leftovers of a run that was killed) and have systemd load them; units
        that are installed as they are stay, with what runs from them."""
        units = self.texts(variant, exec_args, timeout)
        if variant == _units.CANARY and self.installed(units):
            return False
        self.remove()
        if variant == _units.CANARY and not os.path.isdir(_units.SOCKET_DIR):
            os.mkdir(_units.SOCKET_DIR, 0o700)
        for unit, text in sorted(units.items()):
            rel.write_file(os.path.join(RUNTIME_DIR, unit), text, 0o644)
        sd.load_new(self.run, sorted(units))
        self.started_at = time.time()
        return True

    def start(self, *units):
        rc, out, err = self.run(["systemctl", "start"] + list(units or [self.service]))
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

    def present(self):
        return [u for u in (self.service, self.socket) if os.path.exists(os.path.join(RUNTIME_DIR, u))]

    def remove(self, reload=True):
        """Stop and remove the units; without ``reload`` the stop does not wait and systemd forgets the
        units at its next reload (the caller reloads anyway)."""
        present = self.present()
        if not present:
            return False
        self.run(["systemctl", "stop"] + ([] if reload else ["--no-block"]) + present)
        for unit in present:
            os.unlink(os.path.join(RUNTIME_DIR, unit))
        if reload:
            sd.daemon_reload(self.run)
        self.run(["systemctl", "reset-failed"] + present)
        return True
