# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Making a prepared release live: plan what differs, commit it, then hand over or restart.

This is a private module_utils file: its interface may change without notice.

``Switch.plan()`` only reads (zipapp_release computes it once per deploy, returns it, and zipapp_swap
carries it out; it is also how a re-run finds it has nothing to do).  ``Switch.commit()`` installs the
units stored with the release's config, switches the release's ``config`` link and then ``current``
(``previous`` keeps the release that was live) and enables the units: from then on a reboot starts
the new release.  ``Rollout`` then brings the processes onto it:

* a process with a **handover** (the web process with a socket, or ``overlap: true``) starts a new
  instance of its template (``blue`` or ``green``, whichever does not run) beside the one that runs;
  the web instance takes the fds of ``<name>.socket`` and is checked through its private check socket;
  then the old instance stops gracefully (``SIGTERM``: requests in flight finish within its
  ``TimeoutStopSec``).  No request waits for a process to boot;
* any other process is restarted (stop, then start), as is the web process with ``zipapp_handover: false``
  (its socket holds the connections meanwhile).

``Switch.finish()`` stops and removes what the release no longer has.
"""

import os
import re
import time

from ansible_collections.containerless.zipapp.plugins.module_utils import _config, _health, _units
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _systemd as sd

MARKER = _units.MARKER
LIVE_BEFORE = object()  # Switch(previous=...): keep the release that was live as 'previous'
STATE = ("ActiveState", "SubState", "MainPID", "ExecMainStartTimestampMonotonic", "UnitFileState", "Result",
         "NRestarts")
RUNNING = ("active", "activating", "reloading")


class SwitchError(Exception):
    """A process of the new release did not come up; ``journal`` holds its last lines."""

    def __init__(self, msg, journal=None):
        super().__init__(msg)
        self.journal = journal or []


def slots(template):
    """The two instances of a handover template (``demoapp@.service``)."""
    base = template[:-len("@.service")]
    return ["%s@%s.service" % (base, slot) for slot in _units.SLOTS]


def process_units(manifest, process, name):
    """The units that run ``process`` under ``manifest`` (the two slots of a handover template)."""
    for h in manifest.get("handover") or []:
        if h["process"] == process:
            return slots(h["template"])
    if process == "web":
        return [manifest["web"]] if manifest.get("web") else []
    pattern = re.compile(r"^%s-%s(@[0-9]+)?\.service$" % (re.escape(name), re.escape(process)))
    return [u for u in manifest.get("restart") or [] if pattern.match(u)]


def processes_of(manifest, name):
    """The processes a manifest runs (timers excluded)."""
    found = set(h["process"] for h in manifest.get("handover") or [])
    if manifest.get("web"):
        found.add("web")
    prefix = name + "-"
    for unit in manifest.get("restart") or []:
        if unit == name + ".service":
            found.add("web")
        elif unit.startswith(prefix):
            found.add(unit[len(prefix):].split("@")[0].rsplit(".service", 1)[0])
    return sorted(found)


def running(state):
    return state.get("ActiveState") in RUNNING


def listen_lines(text):
    return sorted(line for line in (text or b"").decode("utf-8", "replace").splitlines()
                  if line.startswith("ListenStream="))


class Switch:
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

    def wanted_units(self):
        units_dir = os.path.join(self.layout.config_dir(self.version, self.config), "units")
        wanted = {}
        if os.path.isdir(units_dir):
            for unit in sorted(os.listdir(units_dir)):
                wanted[unit] = rel.read_bytes(os.path.join(units_dir, unit))
        return wanted

    def plan(self, force=False):
        """What has to change, as plain data (zipapp_swap gets it from zipapp_release).

        ``force`` (a restart the handler was asked for) hands over or restarts every process even when
        nothing changed.
        """
        lay, name = self.layout, self.name
        wanted = self.wanted_units()
        manifest = _config.read_manifest(lay, self.version, self.config, name)
        live = rel.link_version(lay, lay.current)
        live_config = rel.linked_config(lay, live) if live else None
        old = _config.read_manifest(lay, live, live_config, name) if live_config else None
        installed = dict((u, rel.read_bytes(os.path.join(sd.UNIT_DIR, u))) for u in installed_units(name))
        writes = sorted(u for u, data in wanted.items() if installed.get(u) != data)
        removals = sorted(u for u in installed if u not in wanted)
        switched = bool(writes or removals or rel.linked_config(lay, self.version) != self.config or live != self.version)

        processes = processes_of(manifest, name)
        old_processes = processes_of(old, name) if old else []
        units_of = dict((p, process_units(manifest, p, name)) for p in processes)
        old_units_of = dict((p, process_units(old, p, name)) for p in old_processes) if old else {}
        candidates = set(manifest["enable"]) | set(manifest.get("restart") or [])
        for units in list(units_of.values()) + list(old_units_of.values()):
            candidates.update(units)
        candidates.update(u for u in removals if "@." not in u)
        states = sd.show_many(self.run, sorted(candidates), *STATE)
        paths = [lay.current, lay.config_link(self.version)] + [os.path.join(sd.UNIT_DIR, u) for u in wanted]
        newest = max([os.lstat(x).st_mtime for x in paths if os.path.lexists(x)] or [0])

        def stale(unit):
            started = sd.start_time(states[unit])
            return started is not None and started < newest

        socket = manifest["socket"]
        handover_processes = dict((h["process"], h) for h in manifest["handover"])
        handovers, restart, stop = [], [], []
        for process in processes:
            units = units_of[process]
            now = sorted(set(u for u in units + old_units_of.get(process, []) if running(states.get(u, {}))))
            failed = [u for u in units if states.get(u, {}).get("ActiveState") == "failed"]
            if process in handover_processes:
                h = handover_processes[process]
                needed = switched or force or failed or len(now) > 1 or any(stale(u) for u in now) or \
                    any(u not in units for u in now) or (not now and not h["socket"])
                if needed:
                    handovers.append(dict(h, running=now, slots=units))
                continue
            # stop-then-start: the units of the old layout of this process that the new one lacks stop
            stop += [u for u in now if u not in units]
            for unit in units:
                state = states.get(unit, {})
                if switched or force or state.get("ActiveState") == "failed" or \
                        (running(state) and stale(unit)):
                    restart.append(unit)
                elif not running(state) and not (unit == manifest.get("web") and socket):
                    restart.append(unit)  # a process without a socket must run
        for process in old_processes:
            if process not in processes:  # a process the release no longer has
                stop += [u for u in old_units_of[process] if running(states.get(u, {}))]
        enable = manifest["enable"]
        # the boot instance of a process that overlaps without a socket is whichever slot ran last (its
        # link in the target's .wants moves with each handover): either slot enabled will do
        either = {}
        for h in manifest["handover"] + list((old or {}).get("handover") or []):
            if not h["socket"]:
                for unit in slots(h["template"]):
                    either[unit] = slots(h["template"])
        old_enable = set((old or {}).get("enable", []))
        old_enable |= set(u for o in list(old_enable) for u in either.get(o, []))
        to_disable = sorted(old_enable - set(u for e in enable for u in either.get(e, [e])))
        to_disable += [u for u in removals if "@." not in u and u not in to_disable]

        def enabled(unit):
            return any(states.get(u, {}).get("UnitFileState") in ("enabled", "enabled-runtime", "static", "indirect",
                                                                  "generated") for u in either.get(unit, [unit]))

        to_enable = [u for u in enable if u in writes or not enabled(u)]
        startable = ([socket] if socket else []) + manifest["timers"] + ([manifest["target"]] if manifest["target"] else [])
        to_start = [u for u in startable if u in writes or not running(states.get(u, {}))]
        socket_active = bool(socket) and running(states.get(socket, {}))
        listen_changed = bool(socket) and socket_active and socket in writes and \
            listen_lines(installed.get(socket)) != listen_lines(wanted.get(socket))
        p = dict(
            version=self.version,
            config=self.config,
            writes=writes,
            removals=removals,
            to_enable=to_enable,
            to_disable=to_disable,
            to_start=to_start,
            config_switch=rel.linked_config(lay, self.version) != self.config,
            target_config_before=rel.linked_config(lay, self.version),
            release_switch=live != self.version,
            live_before=live,
            live_config=live_config,
            previous_before=rel.link_version(lay, lay.previous),
            socket=socket,
            socket_active=socket_active,
            listen_changed=listen_changed,
            web=manifest.get("web") or "",
            # a config written by an earlier version of the collection has no unit specs to render a canary
            # from; that version ran the canary for it before it went live
            specs=bool(manifest.get("specs")),
            handovers=handovers,
            restart=restart,
            stop=sorted(set(stop)),
            failed=sorted(u for u, s in states.items() if s.get("ActiveState") == "failed"),
            pids=dict((u, s.get("MainPID")) for u, s in states.items() if running(s)),
        )
        p["in_sync"] = not (switched or to_enable or to_disable or to_start or handovers or restart or stop)
        return p

    def commit(self, p):
        """Install the new units, switch the links and enable: from here on a reboot runs the release
        (raises OSError, RuntimeError or ReleaseError)."""
        lay, run = self.layout, self.run
        units_dir = os.path.join(lay.config_dir(self.version, self.config), "units")
        for unit in p["writes"]:
            rel.write_file(os.path.join(sd.UNIT_DIR, unit), rel.read_bytes(os.path.join(units_dir, unit)), 0o644)
        if p["config_switch"]:
            rel.swap_link(lay.config_link(self.version), self.config)
        if p["release_switch"]:
            previous = p["live_before"] if self.previous is LIVE_BEFORE else self.previous
            if previous:
                rel.swap_link(lay.previous, lay.link_target(previous))
            elif os.path.lexists(lay.previous):
                os.unlink(lay.previous)
            rel.swap_link(lay.current, lay.link_target(self.version))
        if p["to_disable"]:
            run(["systemctl", "disable", "--no-reload"] + p["to_disable"])
        if p["to_enable"]:
            sd.systemctl(run, "enable", "--no-reload", *p["to_enable"])
        if p["writes"] or p["to_enable"] or p["to_disable"]:
            sd.daemon_reload(run)  # once, for the new unit files and the links of enable and disable
        if p["failed"]:
            run(["systemctl", "reset-failed"] + p["failed"])

    def finish(self, p):
        """Stop what the release no longer runs, remove the units it no longer has, start the rest."""
        run = self.run
        if p["stop"]:
            run(["systemctl", "stop"] + p["stop"])
        for unit in p["removals"]:
            if "@." in unit:  # instances of a removed template
                run(["systemctl", "stop", unit.replace("@.", "@*.")])
            else:
                run(["systemctl", "stop", unit])
            path = os.path.join(sd.UNIT_DIR, unit)
            if os.path.lexists(path):
                os.unlink(path)
        if p["removals"]:
            sd.daemon_reload(run)
            run(["systemctl", "reset-failed"] + [u for u in p["removals"] if "@." not in u])
        if p["to_start"]:
            sd.systemctl(run, "start", *p["to_start"])


class Rollout:
    """Bring the processes onto the committed release: handovers, then restarts (see the module docstring).

    ``check`` describes the web check: ``path`` (GET, 2xx = healthy; empty: the instance must stay up
    ``settle`` seconds), ``host``, ``timeout``, ``retries``, ``delay``, ``settle`` and ``address`` (where
    the web process answers when it is restarted rather than handed over).
    """

    def __init__(self, run, layout, check):
        self.run = run
        self.layout = layout
        self.check = check
        self.started = []  # instances this rollout started (stopped again when it fails)
        self.stopped = []  # instances it stopped
        self.reload = False  # a .wants link moved: systemd must read it

    def journal(self, unit, since, lines=25):
        rc, out, err = self.run(["journalctl", "--no-pager", "-o", "cat", "-n", str(lines), "--since",
                                 "@%d" % int(since), "-u", unit])
        return [line for line in out.splitlines() if line.strip()]

    def problem(self, unit):
        """A message when ``unit``'s main process exited (or it is restarting), else None."""
        s = sd.show(self.run, unit, "ActiveState", "SubState", "Result", "ExecMainStatus", "NRestarts")
        if s.get("ActiveState") in ("failed", "inactive") or s.get("SubState") == "auto-restart" or \
                int(s.get("NRestarts") or 0) > 0:
            return "%s exited (%s, status %s)" % (unit, s.get("Result"), s.get("ExecMainStatus"))
        return None

    def wait_healthy(self, unit, address, since):
        c = self.check
        if c.get("path") and address:
            result = _health.check(address, c["path"], c.get("host", "localhost"), c.get("timeout", 5),
                                   c.get("retries", 30), c.get("delay", 1), still_running=lambda: self.problem(unit))
            if not result["ok"]:
                raise SwitchError("%s failed its check (GET %s: %s)" % (unit, c["path"], _health.describe(result)),
                                  self.journal(unit, since))
            return result
        deadline = time.time() + float(c.get("settle", 3))
        while True:
            problem = self.problem(unit)
            if problem:
                raise SwitchError("%s did not stay up for %s s: %s" % (unit, c.get("settle", 3), problem),
                                  self.journal(unit, since))
            if time.time() >= deadline:
                return {"ok": True, "seconds": float(c.get("settle", 3))}
            time.sleep(0.2)

    def handover(self, h):
        """Start a new instance beside the running one, check it, then stop the old one."""
        states = sd.show_many(self.run, h["slots"] + [u for u in h["running"] if u not in h["slots"]], "ActiveState")
        now = [u for u, s in states.items() if running(s)]
        free = [u for u in h["slots"] if u not in now]
        new = free[0] if free else h["slots"][0]
        if new in now:  # both slots run (an extra start of the boot instance): restart one in place
            now.remove(new)
            self.run(["systemctl", "stop", new])
        since = time.time()
        self.run(["systemctl", "reset-failed", new])
        rc, out, err = self.run(["systemctl", "start", new])
        self.started.append(new)
        if rc != 0:
            raise SwitchError("starting %s failed: %s" % (new, (err or out).strip()), self.journal(new, since))
        slot = new.rsplit("@", 1)[1][:-len(".service")]
        address = _units.check_socket_path(self.layout.name, slot) if h.get("socket") else ""
        result = self.wait_healthy(new, address, since)
        ready = time.time()
        if now:
            # SIGTERM: it stops accepting at once, and the requests it has in flight finish within its
            # TimeoutStopSec while the rollout goes on (nothing after this step needs it gone)
            self.run(["systemctl", "stop", "--no-block"] + now)
            self.stopped += now
        if not h.get("socket"):
            self.move_boot_instance(h["slots"], new)
        return dict(unit=new, replaced=now, boot_seconds=round(ready - since, 2), check=result)

    def move_boot_instance(self, slots_, new):
        """Point the target's .wants link of a process without a socket at the instance that now runs (one
        rename: boot, and `systemctl start <name>.target`, start that one and never a second)."""
        wants = os.path.join(sd.UNIT_DIR, "%s.target.wants" % self.layout.name)
        for unit in slots_:
            link = os.path.join(wants, unit)
            if unit != new and os.path.islink(link):
                os.rename(link, os.path.join(wants, new))
                self.reload = True

    def restart(self, units, web=None):
        """Stop, then start ``units``; the web process (its socket holds its connections) is checked."""
        if not units:
            return None
        since = time.time()
        rc, out, err = self.run(["systemctl", "restart"] + list(units))
        if rc != 0:
            failed = [u for u in units if self.problem(u)] or list(units)
            raise SwitchError("restarting %s failed: %s" % (", ".join(units), (err or out).strip()),
                              self.journal(failed[0], since))
        self.started += list(units)
        if web and web in units:
            return self.wait_healthy(web, self.check.get("address"), since)
        return None

    def undo(self):
        """Stop the instances this rollout started (the ones it stopped are the caller's to start)."""
        for unit in reversed(self.started):
            self.run(["systemctl", "stop", unit])
            self.run(["systemctl", "reset-failed", unit])


def needs_canary(layout, plan, enabled):
    """Whether the release and config of ``plan`` must pass a canary before the switch: one that never
    passed a check on this host, of an app with a socket (the canary's check goes through its own)."""
    if not (enabled and plan["socket"] and plan["web"] and plan.get("specs", True)):
        return False
    if (plan["version"], plan["config"]) == (plan["live_before"], plan["live_config"]):
        return False  # it serves right now
    return not rel.is_healthy(layout, plan["version"], plan["config"])


def installed_units(name):
    """Unit files in /etc/systemd/system that this app installed (they carry its marker)."""
    marker = (MARKER + name + ":").encode()
    found = []
    try:
        files = sorted(os.listdir(sd.UNIT_DIR))
    except OSError:
        return found
    for unit in files:
        if not (unit.startswith(name + ".") or unit.startswith(name + "-") or unit.startswith(name + "@")):
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
        plain = [u for u in removed if "@." not in u]
        if plain:
            run(["systemctl", "disable", "--now"] + plain)
        for unit in removed:
            os.unlink(os.path.join(sd.UNIT_DIR, unit))
        if removed:
            sd.daemon_reload(run)
            if plain:
                run(["systemctl", "reset-failed"] + plain)
        for link in (layout.current, layout.previous):
            if os.path.lexists(link):
                os.unlink(link)
    return removed
