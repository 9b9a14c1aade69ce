"""The switch: what it plans for each state of a host, and the order in which it hands over.

systemd is a fake that keeps unit states and records every systemctl call; the release tree is real
(in tmp_path), written by the same code as on a host.
"""

import os
import time

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _config, _plan
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _switch as sw
from ansible_collections.containerless.zipapp.plugins.module_utils import _systemd as sd

DEFAULTS = {"ActiveState": "inactive", "SubState": "dead", "MainPID": "0", "ExecMainStartTimestampMonotonic": "0",
            "UnitFileState": "", "Result": "success", "NRestarts": "0", "ExecMainStatus": "0"}


class FakeSystemd:
    def __init__(self):
        self.states = {}
        self.calls = []
        self.next_pid = 100
        self.fail_start = set()

    def running(self, unit):
        self.next_pid += 1
        self.states[unit] = dict(self.states.get(unit, {}), ActiveState="active", SubState="running", MainPID=str(self.next_pid),
                                 ExecMainStartTimestampMonotonic=str(int(time.monotonic() * 1e6)))

    def __call__(self, argv, **kw):
        self.calls.append(argv)
        if argv[0] != "systemctl":
            return 0, "", ""
        verb, units = argv[1], [a for a in argv[2:] if not a.startswith("-")]
        if verb == "show":
            props = argv[2].split("=", 1)[1].split(",")
            blocks = ["\n".join("%s=%s" % (p, dict(DEFAULTS, **self.states.get(u, {})).get(p, "")) for p in props)
                      for u in units]
            return 0, "\n\n".join(blocks) + "\n", ""
        if verb in ("start", "restart"):
            for unit in units:
                if unit in self.fail_start:
                    self.states[unit] = dict(DEFAULTS, ActiveState="failed", Result="exit-code", ExecMainStatus="1")
                    return 1, "", "Job for %s failed" % unit
                self.running(unit)
        elif verb == "stop":
            for unit in units:
                self.states[unit] = dict(self.states.get(unit, {}), ActiveState="inactive", MainPID="0")
        elif verb == "enable":
            for unit in units:
                self.states.setdefault(unit, {})["UnitFileState"] = "enabled"
        return 0, "", ""

    def verbs(self, *verbs):
        return [c[1:] for c in self.calls if c[0] == "systemctl" and c[1] in verbs]


@pytest.fixture
def host(tmp_path, monkeypatch):
    unit_dir = tmp_path / "etc-systemd"
    unit_dir.mkdir()
    monkeypatch.setattr(sd, "UNIT_DIR", str(unit_dir))
    layout = rel.Layout(str(tmp_path / "opt"), "demoapp")
    os.makedirs(layout.releases)
    return layout, FakeSystemd()


def prepare(layout, version, processes=None, handover=True, listen="127.0.0.1:8000", env=""):
    """A release with its config dir, as zipapp_release writes it; returns the config id."""
    app = _plan.App("demoapp", layout.app, "demoapp", managed="# managed")
    procs = _plan.processes_of(processes or {}, ["serve"], listen)
    plan = _plan.plan(app, procs, {}, {"PrivateTmp": True}, handover=handover)
    os.makedirs(layout.release(version), exist_ok=True)
    with open(layout.pyz(version), "w") as f:
        f.write(version)
    if not rel.read_record(layout, version):
        rel.write_record(layout, version, {"version": version, "deployed_at": rel.now_utc(), "sha256": "x"})
    scripts = dict((s, "#!/bin/sh\nexec app %s\n" % " ".join(a)) for s, a in plan["scripts"].items())
    files = _config.desired_config(env, scripts, _plan.units(app, plan), {}, "#!/bin/sh\n", {}, plan["manifest"])
    return _config.write_config(layout, version, files)


def switch_to(layout, fake, version, config, **kw):
    s = sw.Switch(fake, layout, version, config, **kw)
    p = s.plan()
    s.commit(p)
    ro = sw.Rollout(fake, layout, {"path": "", "settle": 0})
    for h in p["handovers"]:
        ro.handover(h)
    ro.restart(p["restart"])
    s.finish(p)
    return p


def test_a_first_deploy_installs_everything_and_starts_the_boot_instance(host):
    layout, fake = host
    config = prepare(layout, "1.0.0")
    p = sw.Switch(fake, layout, "1.0.0", config).plan()
    assert p["writes"] == ["demoapp-check@.socket", "demoapp.socket", "demoapp.target", "demoapp@.service"]
    assert p["release_switch"] and p["config_switch"] and not p["in_sync"] and p["live_before"] is None
    assert [(h["process"], h["running"]) for h in p["handovers"]] == [("web", [])]
    assert p["restart"] == [] and p["to_start"] == ["demoapp.socket", "demoapp.target"]
    assert p["to_enable"] == ["demoapp.socket", "demoapp.target", "demoapp@blue.service"]
    switch_to(layout, fake, "1.0.0", config)
    assert rel.link_version(layout, layout.current) == "1.0.0"
    assert fake.states["demoapp@blue.service"]["ActiveState"] == "active"
    assert sorted(os.listdir(sd.UNIT_DIR)) == ["demoapp-check@.socket", "demoapp.socket", "demoapp.target",
                                               "demoapp@.service"]


def test_a_rerun_is_in_sync_and_a_stale_instance_is_not(host):
    layout, fake = host
    config = prepare(layout, "1.0.0")
    switch_to(layout, fake, "1.0.0", config)
    for unit in ("demoapp.socket", "demoapp.target"):
        fake.running(unit)
    p = sw.Switch(fake, layout, "1.0.0", config).plan()
    assert p["in_sync"], dict((k, v) for k, v in p.items() if v and k not in ("pids", "version", "config"))
    # a run that died between the switch and the handover left the instance on the release before
    fake.states["demoapp@blue.service"]["ExecMainStartTimestampMonotonic"] = "1"
    p = sw.Switch(fake, layout, "1.0.0", config).plan()
    assert not p["in_sync"] and [h["running"] for h in p["handovers"]] == [["demoapp@blue.service"]]


def test_an_upgrade_starts_the_other_instance_first_and_stops_the_old_one_after_it(host):
    layout, fake = host
    switch_to(layout, fake, "1.0.0", prepare(layout, "1.0.0"))
    fake.calls = []
    config = prepare(layout, "2.0.0")
    p = switch_to(layout, fake, "2.0.0", config)
    assert p["writes"] == [] and p["release_switch"]  # the same unit text: no daemon-reload
    assert ["daemon-reload"] not in fake.verbs("daemon-reload")
    verbs = [c for c in fake.verbs("start", "stop") if "demoapp@" in c[-1]]
    assert verbs == [["start", "demoapp@green.service"], ["stop", "--no-block", "demoapp@blue.service"]]
    assert rel.link_version(layout, layout.current) == "2.0.0" and rel.link_version(layout, layout.previous) == "1.0.0"
    # and the next one goes back to blue
    fake.calls = []
    switch_to(layout, fake, "1.0.0", rel.linked_config(layout, "1.0.0"))
    assert [c for c in fake.verbs("start", "stop") if "demoapp@" in c[-1]] == [
        ["start", "demoapp@blue.service"], ["stop", "--no-block", "demoapp@green.service"]]


def test_a_host_of_the_old_layout_hands_over_from_demoapp_service(host):
    layout, fake = host
    old = prepare(layout, "1.0.0", handover=False)
    switch_to(layout, fake, "1.0.0", old)
    assert fake.states["demoapp.service"]["ActiveState"] == "active"
    fake.calls = []
    new = prepare(layout, "2.0.0")
    p = sw.Switch(fake, layout, "2.0.0", new).plan()
    assert [h["running"] for h in p["handovers"]] == [["demoapp.service"]]
    assert p["removals"] == ["demoapp.service"] and "demoapp.service" in p["to_disable"]
    assert not p["listen_changed"]  # the socket gets another Service=, which a daemon-reload applies
    switch_to(layout, fake, "2.0.0", new)
    order = [c for c in fake.verbs("start", "stop", "disable") if c[-1].startswith("demoapp")]
    assert order.index(["start", "demoapp@blue.service"]) < order.index(["stop", "--no-block", "demoapp.service"])
    assert "demoapp.service" not in os.listdir(sd.UNIT_DIR)


def test_a_new_listen_address_restarts_the_socket(host):
    layout, fake = host
    switch_to(layout, fake, "1.0.0", prepare(layout, "1.0.0"))
    fake.running("demoapp.socket")
    p = sw.Switch(fake, layout, "1.0.0", prepare(layout, "1.0.0", listen="127.0.0.1:9000")).plan()
    assert p["listen_changed"] and p["writes"] == ["demoapp.socket"]


def test_workers_restart_and_a_removed_process_stops(host):
    layout, fake = host
    procs = {"web": {"args": ["serve"], "listen": "127.0.0.1:8000"}, "worker": {"args": ["w"], "instances": 2},
             "beat": {"args": ["b"]}}
    switch_to(layout, fake, "1.0.0", prepare(layout, "1.0.0", procs))
    assert fake.states["demoapp-worker@2.service"]["ActiveState"] == "active"
    del procs["beat"]
    procs["worker"]["instances"] = 1
    p = sw.Switch(fake, layout, "2.0.0", prepare(layout, "2.0.0", procs)).plan()
    assert p["restart"] == ["demoapp-worker.service"]
    assert p["stop"] == ["demoapp-beat.service", "demoapp-worker@1.service", "demoapp-worker@2.service"]
    assert "demoapp-beat.service" in p["removals"] and "demoapp-worker@.service" in p["removals"]


def test_a_failing_new_instance_is_stopped_and_the_old_one_keeps_running(host):
    layout, fake = host
    switch_to(layout, fake, "1.0.0", prepare(layout, "1.0.0"))
    blue = fake.states["demoapp@blue.service"]["MainPID"]
    config = prepare(layout, "2.0.0")
    s = sw.Switch(fake, layout, "2.0.0", config)
    p = s.plan()
    s.commit(p)
    fake.fail_start.add("demoapp@green.service")
    ro = sw.Rollout(fake, layout, {"path": "", "settle": 0})
    with pytest.raises(sw.SwitchError, match="starting demoapp@green.service failed"):
        ro.handover(p["handovers"][0])
    ro.undo()
    assert fake.states["demoapp@blue.service"]["MainPID"] == blue  # never stopped
    assert ["stop", "demoapp@blue.service"] not in fake.verbs("stop")
    assert p["pids"]["demoapp@blue.service"] == blue  # what a rollback compares with


def test_both_instances_running_keeps_one_and_replaces_the_other(host):
    layout, fake = host
    switch_to(layout, fake, "1.0.0", prepare(layout, "1.0.0"))
    fake.running("demoapp@green.service")  # e.g. `systemctl start demoapp.target` while green served
    p = sw.Switch(fake, layout, "1.0.0", rel.linked_config(layout, "1.0.0")).plan()
    assert not p["in_sync"]
    fake.calls = []
    result = sw.Rollout(fake, layout, {"path": "", "settle": 0}).handover(p["handovers"][0])
    assert result["unit"] == "demoapp@blue.service" and result["replaced"] == ["demoapp@green.service"]


def test_deactivate_removes_units_and_links(host):
    layout, fake = host
    switch_to(layout, fake, "1.0.0", prepare(layout, "1.0.0"))
    removed = sw.deactivate(fake, layout)
    assert sorted(removed) == ["demoapp-check@.socket", "demoapp.socket", "demoapp.target", "demoapp@.service"]
    assert os.listdir(sd.UNIT_DIR) == [] and not os.path.lexists(layout.current)
    assert ["stop", "demoapp@*.service"] in fake.verbs("stop")


def test_process_units_of_an_older_manifest():
    old = _config.default_manifest("demoapp", ["demoapp.service", "demoapp.socket"])
    old.update(restart=["demoapp.service", "demoapp-worker@1.service", "demoapp-worker@2.service"])
    assert sw.processes_of(old, "demoapp") == ["web", "worker"]
    assert sw.process_units(old, "web", "demoapp") == ["demoapp.service"]
    assert sw.process_units(old, "worker", "demoapp") == ["demoapp-worker@1.service", "demoapp-worker@2.service"]


def test_a_process_that_overlaps_moves_its_boot_link_to_the_instance_that_runs(host):
    layout, fake = host
    procs = {"web": {"args": ["serve"], "listen": "127.0.0.1:8000"}, "mailer": {"args": ["m"], "overlap": True}}
    switch_to(layout, fake, "1.0.0", prepare(layout, "1.0.0", procs))
    wants = os.path.join(sd.UNIT_DIR, "demoapp.target.wants")
    os.makedirs(wants)  # what `systemctl enable demoapp-mailer@blue.service` makes
    os.symlink("../demoapp-mailer@.service", os.path.join(wants, "demoapp-mailer@blue.service"))
    fake.states["demoapp-mailer@blue.service"]["UnitFileState"] = "enabled"
    config = prepare(layout, "2.0.0", procs)
    s = sw.Switch(fake, layout, "2.0.0", config)
    p = s.plan()
    s.commit(p)
    ro = sw.Rollout(fake, layout, {"path": "", "settle": 0})
    for h in p["handovers"]:
        ro.handover(h)
    assert ro.reload and os.listdir(wants) == ["demoapp-mailer@green.service"]
    fake.states["demoapp-mailer@blue.service"]["UnitFileState"] = "disabled"
    fake.states["demoapp-mailer@green.service"]["UnitFileState"] = "enabled"
    p = sw.Switch(fake, layout, "2.0.0", config).plan()
    assert "demoapp-mailer@blue.service" not in p["to_enable"]  # green is the boot instance now
    del procs["mailer"]
    p = sw.Switch(fake, layout, "3.0.0", prepare(layout, "3.0.0", procs)).plan()
    assert {"demoapp-mailer@blue.service", "demoapp-mailer@green.service"} <= set(p["to_disable"])


def test_only_a_release_and_config_that_never_passed_a_check_gets_a_canary(host):
    layout, fake = host
    config = prepare(layout, "1.0.0")
    p = sw.Switch(fake, layout, "1.0.0", config).plan()
    assert sw.needs_canary(layout, p, True) and not sw.needs_canary(layout, p, False)
    switch_to(layout, fake, "1.0.0", config)
    rel.mark_healthy(layout, "1.0.0", config)
    new = prepare(layout, "2.0.0")
    p = sw.Switch(fake, layout, "2.0.0", new).plan()
    assert sw.needs_canary(layout, p, True)
    back = sw.Switch(fake, layout, "1.0.0", config).plan()
    assert not sw.needs_canary(layout, back, True)  # it passed on this host before
    # a config an earlier version wrote (no unit specs): that version canaried it
    old = prepare(layout, "0.9.0", handover=False)
    manifest = os.path.join(layout.config_dir("0.9.0", old), "manifest.json")
    os.unlink(manifest)
    assert not sw.needs_canary(layout, sw.Switch(fake, layout, "0.9.0", old).plan(), True)
