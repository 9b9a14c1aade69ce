# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers around systemctl and systemd-analyze.

This is a private module_utils file: its interface may change without notice.

``run`` is a callable like ``AnsibleModule.run_command``: ``run(argv) -> (rc, stdout, stderr)``.
"""

import os
import time

UNIT_DIR = "/etc/systemd/system"


def booted():
    """True when systemd is PID 1 (the same test as sd_booted(3))."""
    return os.path.isdir("/run/systemd/system")


def verify(run, paths):
    """``systemd-analyze verify`` the unit files at ``paths`` (named as their real units).

    Returns the problems found as a list of lines; empty means clean.  systemd-analyze exits 0 on
    an unknown key and only warns, so every line of output that names one of our units counts.
    """
    rc, out, err = run(["systemd-analyze", "verify", "--man=no"] + list(paths))
    names = [os.path.basename(p) for p in paths]
    lines = [line.strip() for line in (out + "\n" + err).splitlines() if line.strip()]
    ours = [line for line in lines if any(p in line for p in paths) or any(n in line for n in names)]
    if rc != 0 and not ours:
        ours = lines or ["systemd-analyze verify exited with %d" % rc]
    return ours


def daemon_reload(run):
    rc, out, err = run(["systemctl", "daemon-reload"])
    if rc != 0:
        raise RuntimeError("systemctl daemon-reload failed: %s" % (err or out).strip())


def load_new(run, units):
    """Have systemd load ``units``, whose files were just written, reloading only when it must.

    systemd (>= 246) loads a unit it does not know yet from its file on first use, so new runtime units
    need no ``daemon-reload`` (~0.1 s).  It reloads when a unit is known with other text
    (``NeedDaemonReload``) or could not be loaded (an older systemd that caches the unit dirs).
    """
    states = show_many(run, units, "LoadState", "NeedDaemonReload")
    if any(s.get("LoadState") != "loaded" or s.get("NeedDaemonReload") == "yes" for s in states.values()):
        daemon_reload(run)
        return True
    return False


def show(run, unit, *props):
    """``systemctl show`` properties of ``unit`` as a dict of strings."""
    rc, out, err = run(["systemctl", "show", "--property=" + ",".join(props), unit])
    values = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key] = value
    return values


def show_many(run, units, *props):
    """``systemctl show`` of several units in one call: {unit: {property: value}}."""
    units = list(units)
    if not units:
        return {}
    rc, out, err = run(["systemctl", "show", "--property=" + ",".join(props)] + units)
    blocks, current = [], {}
    for line in out.splitlines() + [""]:
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key] = value
    if len(blocks) != len(units):  # systemctl prints one block per unit, in the order asked
        raise RuntimeError("systemctl show returned %d blocks for %d units: %s"
                           % (len(blocks), len(units), (err or out).strip()[-300:]))
    return dict(zip(units, blocks))


def start_time(values):
    """When the main process of a unit (``show`` values with ExecMainStartTimestampMonotonic) started,
    as a ``time.time()`` value, or None."""
    try:
        mono_us = int(values.get("ExecMainStartTimestampMonotonic") or 0)
    except ValueError:
        mono_us = 0
    if not mono_us:
        return None
    # systemd's CLOCK_MONOTONIC is Python's time.monotonic(); move it onto the wall clock
    return time.time() - time.monotonic() + mono_us / 1e6


def service_state(run, unit):
    """``(ActiveState, start)`` of a service; ``start`` is when its main process started, as a
    ``time.time()`` value, or None when it has none."""
    values = show(run, unit, "ActiveState", "ExecMainStartTimestampMonotonic")
    return values.get("ActiveState", "unknown"), start_time(values)


def is_active(run, unit):
    rc, out, err = run(["systemctl", "is-active", "--quiet", unit])
    return rc == 0


def is_enabled(run, unit):
    rc, out, err = run(["systemctl", "is-enabled", "--quiet", unit])
    return rc == 0


def systemctl(run, *args):
    rc, out, err = run(["systemctl"] + list(args))
    if rc != 0:
        raise RuntimeError("systemctl %s failed: %s" % (" ".join(args), (err or out).strip()))
    return out
