"""What is live where: the last switch from the audit log, the units to show, the fleet's table."""

import json
import os

from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _status

HANDOVER = {"socket": "demoapp.socket", "restart": ["demoapp-worker.service"], "timers": ["demoapp-tick.timer"],
            "handover": [{"process": "web", "template": "demoapp@.service", "socket": True}]}


def entry(version, result="ok", action="deploy", **kw):
    return dict(kw, action=action, version=version, result=result, user="ci", controller="ctl", time="t-" + version)


def test_the_last_switch_is_the_good_one_that_made_the_live_release_live():
    entries = [entry("1.0.0"), entry("2.0.0"), entry("3.0.0", result="failed"), entry("2.0.0", action="restart")]
    assert _status.last_switch(entries, "2.0.0")["time"] == "t-2.0.0"
    # a rollback to 1.0.0 is the switch that counts, not its first deploy
    entries.append(entry("1.0.0", action="rollback", time="later"))
    assert _status.last_switch(entries, "1.0.0")["action"] == "rollback"
    # the log ends with a switch to another version: it does not say when the live one went live
    assert _status.last_switch([entry("1.0.0"), entry("2.0.0")], "1.0.0") is None
    assert _status.who(entry("1.0.0")) == "ci@ctl" and _status.who(None) is None


def test_units_show_the_running_handover_instance_and_every_other_unit():
    assert _status.units_of(HANDOVER) == ["demoapp.socket", "demoapp@blue.service", "demoapp@green.service",
                                          "demoapp-worker.service", "demoapp-tick.timer"]
    states = {"demoapp.socket": "active", "demoapp@blue.service": "inactive", "demoapp@green.service": "active",
              "demoapp-worker.service": "failed", "demoapp-tick.timer": "active"}
    assert _status.summarise_units(HANDOVER, states) == {
        "demoapp.socket": "active", "demoapp@green.service": "active", "demoapp-worker.service": "failed",
        "demoapp-tick.timer": "active"}
    # nothing runs: the boot instance shows as inactive
    states.update({"demoapp@green.service": "inactive"})
    assert _status.summarise_units(HANDOVER, states)["demoapp@blue.service"] == "inactive"


def test_an_app_on_disk_reports_live_previous_since_by_and_failed(tmp_path):
    layout = rel.Layout(str(tmp_path), "demoapp")
    for version, failed in (("1.0.0", None), ("2.0.0", None), ("3.0.0", {"reason": "check"})):
        os.makedirs(os.path.join(layout.release(version), "config.1"))
        os.symlink("config.1", layout.config_link(version))
        rel.write_record(layout, version, {"version": version, "deployed_by": "ops@ctl", "failed": failed,
                                           "deployed_at": "2026-01-0%sT00:00:00Z" % version[0]})
    os.symlink("releases/2.0.0", layout.current)
    os.symlink("releases/1.0.0", layout.previous)
    with open(os.path.join(layout.app, rel.AUDIT_LOG), "w") as f:
        for e in (entry("1.0.0"), entry("2.0.0"), entry("3.0.0", result="failed")):
            f.write(json.dumps(e) + "\n")
        f.write("not json\n")
    asked = []

    def states(units):
        asked.append(list(units))
        return dict((u, "active") for u in units)

    status = _status.app_status(layout, states)
    assert status == {"app": "demoapp", "live": "2.0.0", "previous": "1.0.0", "since": "t-2.0.0", "by": "ci@ctl",
                      "units": {"demoapp.service": "active"}, "failed": ["3.0.0"]}
    assert asked == [["demoapp.service"]]  # a config without a manifest: its service (no socket in units/)
    assert _status.app_names(str(tmp_path)) == ["demoapp"]
    os.unlink(os.path.join(layout.app, rel.AUDIT_LOG))
    assert _status.app_status(layout, states)["by"] == "ops@ctl"  # no audit line: who deployed the release


def test_the_fleet_table_and_the_disagreements():
    app = {"previous": None, "since": "2026-12-01T10:00:00Z", "by": "ci@ctl", "units": {"demoapp.socket": "active"},
           "failed": []}
    results = {
        "web1": {"root": "/opt/zipapp", "apps": [dict(app, app="demoapp", live="2.0.0"), dict(app, app="api", live="1.0")]},
        "web2": {"root": "/opt/zipapp", "apps": [dict(app, app="demoapp", live="2.0.0", failed=["2.1.0"])]},
        "web3": {"root": "/opt/zipapp", "apps": [dict(app, app="demoapp", live="1.9.0")]},
        "web4": {"unreachable": True, "msg": "ssh: connect to host web4 port 22: Connection refused"},
        "web5": {"root": "/opt/zipapp", "name": "api", "apps": []},
    }
    rows = _status.rows(results)
    assert [(r["host"], r["app"]) for r in rows] == [("web1", "demoapp"), ("web1", "api"), ("web2", "demoapp"),
                                                     ("web3", "demoapp"), ("web4", None), ("web5", None)]
    lines = _status.table(rows)
    assert lines[0].split() == ["HOST", "APP", "LIVE", "SINCE", "BY", "PREVIOUS", "UNITS", "FAILED"]
    assert lines[3].split()[:3] == ["web2", "demoapp", "2.0.0"] and lines[3].endswith("2.1.0")
    assert "Connection refused" in lines[5] and "no app api under /opt/zipapp" in lines[6]
    # aligned columns: every row's units start where the header's UNITS does
    assert set(line.index("demoapp.socket active") for line in lines[1:5]) == {lines[0].index("UNITS")}
    assert lines[-1] == "demoapp: the hosts disagree on the live version: 1.9.0 on web3; 2.0.0 on web1, web2"
    report = _status.report(results)
    assert report["disagreements"] == [lines[-1]] and len(report["rows"]) == 6
