"""One release, many processes: web, two worker instances and a timer, all on the same release."""

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "integration"))
from zipapp_testlib import Probe, live, play, sh, wait_for, web_pid  # noqa: E402

HOST = "zipapp-processes-" + os.environ.get("ZIPAPP_SUITE", "bookworm")
PORT = 18141
WORKERS = ["demoapp-worker@1.service", "demoapp-worker@2.service"]
SERVICES = ["web"] + WORKERS  # "web": whichever instance of demoapp@.service serves
QUEUE = "/var/lib/demoapp/queue/default"


def pid(unit):
    if unit == "web":
        return str(web_pid(HOST))
    return sh(HOST, "systemctl show -P MainPID %s" % unit).strip()


def cmdline(unit):
    return sh(HOST, "tr '\\0' ' ' < /proc/%s/cmdline" % pid(unit))


def uid(unit):
    return sh(HOST, "awk '/^Uid:/ {print $2}' /proc/%s/status" % pid(unit)).strip()


def enqueue(ids, seconds):
    for i in ids:
        sh(HOST, "mkdir -p {q}/new && printf '%s' '{{\"id\": \"{i}\", \"seconds\": {s}}}' > {q}/new/{i}.tmp && "
                 "chmod 644 {q}/new/{i}.tmp && mv {q}/new/{i}.tmp {q}/new/{i}.job".format(q=QUEUE, i=i, s=seconds))


def done():
    out = sh(HOST, "for f in %s/done/*.json; do [ -e \"$f\" ] && cat \"$f\" && echo; done" % QUEUE)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_every_process_runs_as_the_same_dynamic_user():
    uids = set(uid(u) for u in SERVICES)
    assert len(uids) == 1
    the_uid = uids.pop()
    assert sh(HOST, "readlink /run/systemd/dynamic-uid/direct:%s" % the_uid).strip() == "demoapp"
    for unit in SERVICES:
        assert unit == "web" or sh(HOST, "systemctl is-active %s" % unit).strip() == "active"
        assert "/releases/1.0.0/demoapp.pyz" in cmdline(unit)
    assert sh(HOST, "systemctl is-active demoapp.target demoapp.socket demoapp-tick.timer").split() == ["active"] * 3


def test_the_timer_is_scheduled_and_runs_the_live_release():
    timers = sh(HOST, "systemctl list-timers --all --no-pager --no-legend demoapp-tick.timer")
    assert "demoapp-tick.timer" in timers and "demoapp-tick.service" in timers
    assert not timers.strip().startswith("n/a"), timers  # it has a next run
    sh(HOST, "systemctl start demoapp-tick.service")
    last = sh(HOST, "tail -n 1 /var/lib/demoapp/ticks.log").split()
    assert last[1] == "1.0.0"
    assert sh(HOST, "stat -c %u /var/lib/private/demoapp/ticks.log").strip() == uid("web")


def test_an_upgrade_loses_no_job_does_none_twice_and_drops_no_request():
    ids = ["job%02d" % i for i in range(24)]
    enqueue(ids, 1.5)
    time.sleep(1.0)  # the workers have jobs in hand
    with Probe(PORT) as probe:
        res = play({"app_version": "2.0.0"})
    assert res.returncode == 0, res.stdout[-3000:]
    deadline = time.time() + 60
    while len(done()) < len(ids) and time.time() < deadline:
        time.sleep(0.5)
    results = done()
    assert sorted(r["id"] for r in results) == ids  # every job once: lost 0, twice 0
    assert sh(HOST, "ls %s/new %s/processing" % (QUEUE, QUEUE)).split() == [QUEUE + "/new:", QUEUE + "/processing:"]
    assert {"1.0.0", "2.0.0"} >= set(r["version"] for r in results) and "1.0.0" in set(r["version"] for r in results)
    print("jobs: %d done, versions %s; web probe: %d of %d failed"
          % (len(results), sorted(set(r["version"] for r in results)), probe.failed, probe.sent))
    assert probe.failed == 0 and probe.sent > 20
    for unit in SERVICES:
        assert "/releases/2.0.0/demoapp.pyz" in cmdline(unit)
    sh(HOST, "systemctl start demoapp-tick.service")  # the timer picks up the new release by itself
    assert sh(HOST, "tail -n 1 /var/lib/demoapp/ticks.log").split()[1] == "2.0.0"


def test_an_overlapping_process_started_its_new_instance_before_the_old_one_stopped():
    # converge put 1.0.0 on blue, the upgrade above 2.0.0 on green
    assert sh(HOST, "systemctl is-active demoapp-mailer@green.service").strip() == "active"
    assert sh(HOST, "systemctl is-active demoapp-mailer@blue.service").strip() != "active"
    assert "/releases/2.0.0/demoapp.pyz" in cmdline("demoapp-mailer@green.service")
    # systemd's own record, in order: green started before blue was asked to stop
    events = [line for line in sh(HOST, "journalctl --no-pager -o cat -u 'demoapp-mailer@*'").splitlines()
              if line.startswith(("Started demoapp-mailer@green", "Stopping demoapp-mailer@blue"))]
    assert [e.split()[1] for e in events[-2:]] == ["demoapp-mailer@green.service", "demoapp-mailer@blue.service"], \
        events
    # the instance that runs is the one boot (and `systemctl start demoapp.target`) starts
    assert sh(HOST, "systemctl is-enabled demoapp-mailer@green.service").strip() == "enabled"
    assert sh(HOST, "systemctl is-enabled demoapp-mailer@blue.service").strip() != "enabled"


def test_a_re_run_changes_nothing_and_restarts_nothing():
    pids = [pid(u) for u in SERVICES]
    res = play({"app_version": "2.0.0"})
    assert res.returncode == 0 and "changed=0" in res.stdout.split("PLAY RECAP")[-1]
    assert [pid(u) for u in SERVICES] == pids


def test_restarting_the_target_restarts_the_processes_not_the_socket():
    socket_since = sh(HOST, "systemctl show -P ActiveEnterTimestampMonotonic demoapp.socket")
    pids = [pid(u) for u in SERVICES]
    live_web = sh(HOST, "systemctl list-units --no-legend --plain --state=active 'demoapp@*.service'").split()[0]
    sh(HOST, "systemctl restart demoapp.target")
    deadline = time.time() + 30  # the restart of the web instance may end after the target's
    while pid("web") == pids[0] and time.time() < deadline:
        time.sleep(0.2)
    after = [pid(u) for u in SERVICES]
    assert all(a != b for a, b in zip(pids, after)), (pids, after)  # one web process, restarted in place
    # and no second instance of the process that overlaps: the target wants the one that runs
    mailers = sh(HOST, "systemctl list-units --no-legend --plain --state=active 'demoapp-mailer@*'").split()
    assert [m for m in mailers if m.endswith(".service")] == ["demoapp-mailer@green.service"], mailers
    assert sh(HOST, "systemctl list-units --no-legend --plain --state=active 'demoapp@*.service'").split()[0] == live_web
    assert sh(HOST, "systemctl show -P ActiveEnterTimestampMonotonic demoapp.socket") == socket_since
    assert wait_for(PORT, "2.0.0", seconds=30)


def test_a_task_that_notifies_the_restart_handler_gets_a_handover():
    before = pid("web")
    with Probe(PORT) as probe:
        res = play(playbook=os.path.join(HERE, "..", "restart.yml"))
    assert res.returncode == 0, res.stdout[-3000:]
    assert "Restart zipapp services" in res.stdout
    after = pid("web")
    assert after != before and "/releases/2.0.0/demoapp.pyz" in cmdline("web")
    assert probe.failed == 0 and probe.sent > 20
    assert max(probe.latencies) < 1.0  # nobody waited for the new process to boot


def test_a_removed_process_and_timer_leave_no_units():
    res = play({"app_version": "2.0.0", "app_processes": {"web": {"args": ["serve"], "listen": "127.0.0.1:18141"}},
                "app_timers": {}})
    assert res.returncode == 0, res.stdout[-3000:]
    units = sh(HOST, "ls /etc/systemd/system /etc/systemd/system/demoapp.target.wants").split()
    assert not [u for u in units if u.startswith(("demoapp-worker", "demoapp-tick"))], units
    listed = sh(HOST, "systemctl list-units 'demoapp*' --all --no-legend --plain").split()
    assert not [u for u in listed if u.startswith(("demoapp-worker", "demoapp-tick"))], listed
    res = play({"app_version": "2.0.0", "app_processes": {"web": {"args": ["serve"], "listen": "127.0.0.1:18141"}},
                "app_timers": {}})
    assert "changed=0" in res.stdout.split("PLAY RECAP")[-1]


def test_a_rollback_returns_every_process_to_the_previous_release():
    res = play({"zipapp_name": "demoapp", "zipapp_rollback_to": "1.0.0"}, playbook="containerless.zipapp.rollback")
    assert res.returncode == 0, res.stdout[-3000:]
    assert live(HOST) == "1.0.0"
    for unit in SERVICES:  # 1.0.0's config had the workers: they are back, on 1.0.0
        assert unit == "web" or sh(HOST, "systemctl is-active %s" % unit).strip() == "active"
        assert "/releases/1.0.0/demoapp.pyz" in cmdline(unit)
    assert sh(HOST, "systemctl is-active demoapp-tick.timer").strip() == "active"
