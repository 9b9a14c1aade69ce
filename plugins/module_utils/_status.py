# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is live where: the apps of one host (``zipapp_status``) and the table of a fleet (its filter).

This is a private module_utils file: its interface may change without notice.

One host: for each app under the root, the live version, since when and by whom (the audit line of the
switch that made it live), the previous version, the state of each of its units and the failed releases
it keeps. A fleet: one row per host and app, and a line for every app whose hosts disagree on the live
version.
"""

import json
import os
import time

from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _config, _units

AUDIT_TAIL = 256 * 1024  # the end of the audit log is enough to find the last switch
SWITCHES = ("deploy", "rollback")


def app_names(root):
    """The apps under ``root``: directories with a ``releases`` directory."""
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    return [n for n in names if not n.startswith(".") and os.path.isdir(os.path.join(root, n, "releases"))]


def audit_tail(layout, limit=AUDIT_TAIL):
    """The last entries of the app's audit log (oldest first); lines that do not parse are skipped."""
    path = os.path.join(layout.app, rel.AUDIT_LOG)
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            data = f.read()
    except (IOError, OSError):
        return []
    lines = data.decode("utf-8", "replace").splitlines()
    if size > limit:
        lines = lines[1:]  # the first line may be cut
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def last_switch(entries, live):
    """The audit entry of the switch that made ``live`` live (the last good deploy or rollback to it that
    no switch to another version followed), or None."""
    for entry in reversed(entries):
        if entry.get("result") != "ok" or entry.get("action") not in SWITCHES:
            continue
        return entry if entry.get("version") == live else None
    return None


def who(entry):
    if not entry:
        return None
    user, host = entry.get("user"), entry.get("controller")
    return "%s@%s" % (user, host) if user and host else user or host


def units_of(manifest):
    """The units of a live config's manifest whose state tells whether the app runs: the socket, each
    handover template's two instances, the other services and the timers."""
    units = []
    if manifest.get("socket"):
        units.append(manifest["socket"])
    for handover in manifest.get("handover") or []:
        base = handover["template"][:-len("@.service")]
        units += ["%s@%s.service" % (base, slot) for slot in _units.SLOTS]
    units += [u for u in manifest.get("restart") or [] if u not in units]
    units += [u for u in manifest.get("timers") or [] if u not in units]
    return units


def summarise_units(manifest, states):
    """{unit: state} for the units of ``manifest``: a handover pair shows the instances that run (or the
    first one, inactive, when none runs)."""
    out = {}
    pairs = {}
    for handover in manifest.get("handover") or []:
        base = handover["template"][:-len("@.service")]
        pairs[base] = ["%s@%s.service" % (base, slot) for slot in _units.SLOTS]
    paired = set(u for pair in pairs.values() for u in pair)
    for unit in units_of(manifest):
        if unit not in paired:
            out[unit] = states.get(unit, "unknown")
    for base, pair in sorted(pairs.items()):
        running = [u for u in pair if states.get(u) not in ("inactive", "unknown", None)]
        for unit in running or pair[:1]:
            out[unit] = states.get(unit, "unknown")
    return out


def app_status(layout, unit_states):
    """The status of one app; ``unit_states(units)`` gives {unit: ActiveState}."""
    releases = rel.list_releases(layout)
    live = rel.link_version(layout, layout.current)
    status = {"app": layout.name, "live": live, "previous": rel.link_version(layout, layout.previous),
              "since": None, "by": None, "units": {},
              "failed": [r["version"] for r in releases if r["state"] == rel.FAILED]}
    if not live:
        return status
    switch = last_switch(audit_tail(layout), live)
    if switch:
        status.update(since=switch.get("time"), by=who(switch))
    else:  # a switch the audit log does not hold (rotated away): when the link changed, who deployed it
        record = rel.read_record(layout, live) or {}
        status["since"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.lstat(layout.current).st_mtime))
        status["by"] = record.get("deployed_by")
    manifest = _config.read_manifest(layout, live, rel.linked_config(layout, live), layout.name)
    units = units_of(manifest)
    status["units"] = summarise_units(manifest, unit_states(units) if units else {})
    return status


# ---- the fleet (on the controller) --------------------------------------------------------------

COLUMNS = ("host", "app", "live", "since", "by", "previous", "units", "failed")


def rows(results):
    """One row per host and app from ``results`` ({host: the zipapp_status result, or None})."""
    out = []
    for host in sorted(results):
        result = results[host]
        if not result or result.get("failed") or "apps" not in result:
            msg = (result or {}).get("msg") or "no status (unreachable or failed)"
            out.append({"host": host, "app": None, "error": msg})
            continue
        if not result["apps"]:
            what = "no app %s" % result["name"] if result.get("name") else "no app"
            out.append({"host": host, "app": None, "error": "%s under %s" % (what, result.get("root"))})
        for app in result["apps"]:
            out.append(dict(app, host=host))
    return out


def disagreements(the_rows):
    """A line for every app whose hosts have different live versions."""
    by_app = {}
    for row in the_rows:
        if row.get("app"):
            by_app.setdefault(row["app"], {}).setdefault(row.get("live") or "nothing", []).append(row["host"])
    lines = []
    for app in sorted(by_app):
        versions = by_app[app]
        if len(versions) > 1:
            parts = ["%s on %s" % (v, ", ".join(sorted(h))) for v, h in sorted(versions.items())]
            lines.append("%s: the hosts disagree on the live version: %s" % (app, "; ".join(parts)))
    return lines


def _cell(row, column):
    if row.get("error"):
        return {"host": row["host"], "app": "-", "live": row["error"]}.get(column, "")
    value = row.get(column)
    if column == "units":
        return ", ".join("%s %s" % (u, s) for u, s in sorted(value.items())) if value else "-"
    if column == "failed":
        return ", ".join(value) if value else "-"
    return value or "-"


def table(the_rows):
    """The rows as aligned text lines, a header first, then the disagreement lines."""
    cells = [[c.upper() for c in COLUMNS]] + [[_cell(r, c) for c in COLUMNS] for r in the_rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in cells]
    return lines + disagreements(the_rows)


def report(results):
    """The JSON form: the rows and the disagreement lines."""
    the_rows = rows(results)
    return {"rows": the_rows, "disagreements": disagreements(the_rows)}
