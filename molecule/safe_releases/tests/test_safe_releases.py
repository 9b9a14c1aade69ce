"""Safe releases, driven with real ansible-playbook runs against three real systemd hosts.

converge left 1.0.0 on every host. The tests run in file order and each one starts from what the one
before left; every deploy goes through the collection's playbook, exactly as users run it.
"""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "integration"))
from zipapp_testlib import (APP_ROOT, Probe, audit, collection_at, get, live, main_cmdline, play, record, sh,  # noqa: E402
                             tree, web_unit)

HOSTS = {"zipapp-safe-1": 18121, "zipapp-safe-2": 18122, "zipapp-safe-3": 18123}
APP = APP_ROOT + "/demoapp"
BROKEN = {"DEMOAPP_HEALTH_STATUS": "503"}


def health(host):
    return get(HOSTS[host])


def test_converge_left_1_0_0_everywhere():
    for host in HOSTS:
        assert live(host) == "1.0.0"
        assert health(host)["version"] == "1.0.0"


def test_a_rolling_deploy_stops_at_the_first_failed_host():
    before3 = tree("zipapp-safe-3")
    audit3 = audit("zipapp-safe-3")
    res = play({"app_version": "2.0.0", "app_env_by_host": {"zipapp-safe-2": BROKEN}})
    assert res.returncode != 0, res.stdout[-3000:]
    assert "failed its canary check" in res.stdout
    assert health("zipapp-safe-1")["version"] == "2.0.0"
    assert health("zipapp-safe-2")["version"] == "1.0.0" and live("zipapp-safe-2") == "1.0.0"
    assert record("zipapp-safe-2", "2.0.0")["failed"]["reason"].startswith("release 2.0.0 of demoapp failed its canary")
    assert audit("zipapp-safe-2")[-1]["result"] == "failed"
    # host 3 was never touched
    assert tree("zipapp-safe-3") == before3 and audit("zipapp-safe-3") == audit3
    assert "zipapp-safe-3" not in res.stdout.split("PLAY RECAP")[0]


def test_a_broken_release_is_caught_before_the_switch_without_a_failed_request():
    host = "zipapp-safe-3"
    with Probe(HOSTS[host]) as probe:
        res = play({"app_version": "2.0.0", "app_env": BROKEN}, limit=host)
    assert res.returncode != 0
    assert "it was not switched in" in res.stdout and "HTTP 503" in res.stdout
    assert probe.failed == 0 and probe.sent > 50, (probe.sent, probe.failed)
    assert probe.versions == {"1.0.0"}
    assert live(host) == "1.0.0" and record(host, "2.0.0")["failed"]
    # no canary left, and the one check socket is the live instance's
    assert sh(host, "ls /run/systemd/system/").split() == []
    assert sh(host, "ls /run/zipapp/").split() == ["demoapp.%s.sock" % web_unit(host)[8:-8], "demoapp.step"]


def test_a_failed_check_after_the_switch_rolls_back_code_and_config():
    host = "zipapp-safe-1"  # 2.0.0 live, 1.0.0 previous
    config_before = sh(host, "readlink %s/releases/2.0.0/config" % APP).strip()
    res = play({"app_version": "2.0.0", "app_env": BROKEN, "zipapp_canary": False}, limit=host)
    assert res.returncode != 0
    assert "rolled back, 2.0.0 is live" in res.stdout
    assert health(host)["status"] == "ok" and live(host) == "2.0.0"
    assert sh(host, "readlink %s/releases/2.0.0/config" % APP).strip() == config_before
    assert audit(host)[-1]["result"] == "rolled_back"
    assert not record(host, "2.0.0").get("failed")  # an existing good version is not condemned by a bad config


def test_the_rollback_playbook_goes_to_previous_and_to_a_named_release():
    host = "zipapp-safe-1"
    res = play({"zipapp_name": "demoapp"}, playbook="containerless.zipapp.rollback", limit=host)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "live: 1.0.0 since" in res.stdout and "(previous: 2.0.0)" in res.stdout
    assert health(host)["version"] == "1.0.0"
    res = play({"zipapp_name": "demoapp", "zipapp_rollback_to": "2.0.0"}, playbook="containerless.zipapp.rollback",
               limit=host)
    assert res.returncode == 0 and health(host)["version"] == "2.0.0"
    assert [e["action"] for e in audit(host)[-2:]] == ["rollback", "rollback"]


def test_the_rollback_playbook_refuses_a_failed_or_missing_release():
    host = "zipapp-safe-3"  # 1.0.0 live, 2.0.0 failed
    before = tree(host)
    res = play({"zipapp_name": "demoapp", "zipapp_rollback_to": "2.0.0"}, playbook="containerless.zipapp.rollback",
               limit=host)
    assert res.returncode != 0 and "2.0.0 was marked failed" in res.stdout
    res = play({"zipapp_name": "demoapp", "zipapp_rollback_to": "9.9.9"}, playbook="containerless.zipapp.rollback",
               limit=host)
    assert res.returncode != 0 and "zipapp_rollback_to=9.9.9 is not a release of demoapp" in res.stdout
    assert tree(host) == before and health(host)["version"] == "1.0.0"


def test_a_failing_release_command_changes_nothing():
    host = "zipapp-safe-1"
    before = tree(host)
    res = play({"app_version": "3.0.0", "app_artifact": "1.0.0",
                "zipapp_release_commands": [["manage", "check"], ["manage", "no-such-command"]]}, limit=host)
    assert res.returncode != 0
    assert "release command manage no-such-command of demoapp 3.0.0 failed" in res.stdout
    assert "nothing was switched" in res.stdout
    after = tree(host)
    changed = set(after.splitlines()) ^ set(before.splitlines())
    # only the failed release itself (kept for inspection) and its shared cache are new; nothing live moved
    assert all("/releases/3.0.0" in line or "/releases " in line for line in changed), changed
    assert live(host) == "2.0.0" and health(host)["version"] == "2.0.0"


def test_release_commands_run_in_the_app_sandbox_before_the_switch():
    host = "zipapp-safe-2"  # 1.0.0 live
    res = play({"app_version": "2.0.0", "zipapp_release_commands": [["manage", "check"]]}, limit=host)
    assert res.returncode == 0, res.stdout[-3000:]
    assert health(host)["version"] == "2.0.0"
    assert not record(host, "2.0.0").get("failed")  # the successful deploy cleared the earlier canary failure


def test_pruning_keeps_the_newest_and_never_live_or_previous():
    host = "zipapp-safe-2"  # 2.0.0 live, 1.0.0 previous; keep 3
    for version in ("3.0.0", "3.0.1", "3.0.2", "3.0.3"):
        res = play({"app_version": version, "app_artifact": "2.0.0"}, limit=host)
        assert res.returncode == 0, res.stdout[-3000:]
    releases = sorted(sh(host, "ls %s/releases" % APP).split())
    assert releases == ["3.0.1", "3.0.2", "3.0.3"], releases
    # back to an old release: live and previous stay whatever their age
    res = play({"zipapp_name": "demoapp", "zipapp_rollback_to": "3.0.1"}, playbook="containerless.zipapp.rollback",
               limit=host)
    assert res.returncode == 0
    res = play({"app_version": "3.0.4", "app_artifact": "2.0.0"}, limit=host)
    assert res.returncode == 0
    releases = sorted(sh(host, "ls %s/releases" % APP).split())
    assert "3.0.1" in releases and "3.0.4" in releases and len(releases) == 3, releases
    # every kept release still has its shiv cache (they share one build)
    caches = sh(host, "ls %s/shiv" % APP).split()
    assert len(caches) == 1 and health(host)["status"] == "ok"


def test_two_deploys_at_once_never_interleave():
    host = "zipapp-safe-3"  # 1.0.0 live
    first = play({"app_version": "4.0.0", "app_artifact": "2.0.0", "zipapp_lock_timeout": 180}, limit=host,
                 background=True)
    time.sleep(1.5)
    second = play({"app_version": "4.0.1", "app_artifact": "2.0.0", "zipapp_lock_timeout": 180}, limit=host,
                  background=True)
    out1, _ = first.communicate(timeout=400)
    out2, _ = second.communicate(timeout=400)
    assert first.returncode == 0 and second.returncode == 0, (out1[-2000:], out2[-2000:])
    deploys = [e for e in audit(host) if e["action"] == "deploy" and e["version"] in ("4.0.0", "4.0.1")]
    assert [e["version"] for e in deploys] == ["4.0.0", "4.0.1"]
    assert live(host) == "4.0.1"
    # without waiting, the second run is refused with the owner named, and changes nothing (the holder waits
    # before its switch, so that it still holds the lock when the second run asks for it)
    hold = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "hold_lock.yml")
    holder = play({"app_version": "4.0.2", "app_artifact": "2.0.0", "zipapp_before_swap_tasks": os.path.abspath(hold),
                   "hold_lock_seconds": 20}, limit=host, background=True)
    deadline = time.time() + 60
    while sh(host, "cat /run/zipapp/demoapp.lock/owner.json 2>/dev/null").strip() == "" and time.time() < deadline:
        time.sleep(0.2)
    refused = play({"app_version": "4.0.3", "app_artifact": "2.0.0"}, limit=host)
    holder.communicate(timeout=400)
    assert refused.returncode != 0 and "is locked by" in refused.stdout and "nothing was changed" in refused.stdout
    assert "4.0.3" not in sh(host, "ls %s/releases" % APP).split()


def test_a_killed_deploy_leaves_a_lock_that_the_next_run_breaks():
    host = "zipapp-safe-1"
    # the run waits before its switch (a switch that has begun finishes on the host and gives the lock back)
    hold = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "hold_lock.yml")
    proc = play({"app_version": "5.0.0", "app_artifact": "1.0.0", "zipapp_before_swap_tasks": os.path.abspath(hold)},
                limit=host, background=True)
    deadline = time.time() + 120
    while sh(host, "cat /run/zipapp/demoapp.lock/owner.json 2>/dev/null").strip() == "" and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(3)  # in its release step or already waiting: either way nothing of it gives the lock back
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sh(host, "cat /run/zipapp/demoapp.lock/owner.json").strip() != ""
    res = play({"app_version": "5.0.0", "app_artifact": "1.0.0"}, limit=host)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "is gone from this controller" in res.stdout
    assert live(host) == "5.0.0" and health(host)["version"] == "1.0.0"
    assert "/releases/5.0.0/" in main_cmdline(host)


# The last commit whose deploy role ran the web process as <name>.service, restarted through its socket.
OLD_LAYOUT = "7e88289"


def test_a_host_of_the_earlier_layout_upgrades_in_place_and_back_without_a_failed_request(tmp_path):
    host, port = "zipapp-safe-2", 18124
    app = {"zipapp_name": "legacy", "zipapp_listen": "127.0.0.1:%d" % port, "zipapp_keep_releases": 5,
           "app_env": {"DEMOAPP_WORKERS": "2"}}
    res = play(dict(app, app_version="1.0.0"), limit=host, collections=collection_at(OLD_LAYOUT, str(tmp_path)))
    assert res.returncode == 0, res.stdout[-3000:]
    assert sh(host, "systemctl is-active legacy.service").strip() == "active"
    socket_since = sh(host, "systemctl show -P ActiveEnterTimestampMonotonic legacy.socket").strip()
    with Probe(port) as probe:
        res = play(dict(app, app_version="2.0.0"), limit=host)
    assert res.returncode == 0, res.stdout[-3000:]
    assert probe.failed == 0 and probe.sent > 20, (probe.sent, probe.failed)
    assert max(probe.latencies) < 1.0 and probe.versions == {"1.0.0", "2.0.0"}
    assert web_unit(host, "legacy") == "legacy@blue.service"
    assert "/releases/2.0.0/" in main_cmdline(host, "legacy")
    assert sh(host, "test -e /etc/systemd/system/legacy.service || echo gone").strip() == "gone"
    assert sh(host, "systemctl show -P ActiveEnterTimestampMonotonic legacy.socket").strip() == socket_since
    assert "Service=legacy@blue.service" in sh(host, "cat /etc/systemd/system/legacy.socket")
    # back to 1.0.0, whose config (units included) the earlier version wrote: it runs as legacy.service again
    with Probe(port) as probe:
        res = play({"zipapp_name": "legacy", "zipapp_rollback_to": "1.0.0"}, playbook="containerless.zipapp.rollback",
                   limit=host)
    assert res.returncode == 0, res.stdout[-3000:]
    assert probe.failed == 0 and probe.sent > 20, (probe.sent, probe.failed)
    assert web_unit(host, "legacy") == "legacy.service" and "/releases/1.0.0/" in main_cmdline(host, "legacy")
    assert sh(host, "ls /etc/systemd/system | grep -c '^legacy@' || true").strip() == "0"
    assert sh(host, "systemctl show -P ActiveEnterTimestampMonotonic legacy.socket").strip() == socket_since


# The last commit whose release step moved the big directories of a cache into the app's store
# (shiv/.shared/<dir>-<digest>) and left a symlink in their place.
STORE_LAYOUT = "3f6cd17"


def cache_state(host, shiv):
    """Per cache: its symlinks (name -> target), the inode of Django's models/base.py, and the paths under it
    that resolve elsewhere (at most five)."""
    state = {}
    for cache in sh(host, "find %s -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%%f\\n'" % shiv).split():
        top = "%s/%s" % (shiv, cache)
        links = dict(line.split(" ", 1) for line in sh(host, "find %s -type l -printf '%%P %%l\\n'" % top).splitlines())
        inode = sh(host, "stat -L -c %%i %s/site-packages/django/db/models/base.py" % top).strip()
        escapes = sh(host, "find %s -exec realpath {} + | grep -v -x -e '%s' -e '%s/.*' | head -5"
                     % (top, top, top)).split()
        state[cache] = {"links": links, "inode": inode, "escapes": escapes}
    return state


def test_caches_of_the_store_layout_are_converted_by_the_next_deploy_and_rollbacks_work_before_and_after(tmp_path):
    host, port = "zipapp-safe-3", 18125
    app = {"zipapp_name": "stored", "zipapp_listen": "127.0.0.1:%d" % port}
    shiv = APP_ROOT + "/stored/shiv"
    rollback = {"zipapp_name": "stored", "zipapp_rollback_to": "1.0.0"}
    earlier = collection_at(STORE_LAYOUT, str(tmp_path))
    for version in ("1.0.0", "2.0.0"):
        res = play(dict(app, app_version=version), limit=host, collections=earlier)
        assert res.returncode == 0, res.stdout[-3000:]
    # the earlier layout: Django of both caches is one directory of the store, reached through a symlink
    before = cache_state(host, shiv)
    assert len(before) == 2, before
    for cache in before.values():
        assert cache["links"]["site-packages/django"].startswith("../../.shared/django-")
        assert cache["escapes"]  # what Path(__file__).resolve() found: the store, outside the cache
    assert len(set(c["inode"] for c in before.values())) == 1
    # back to 1.0.0 before any conversion: a rollback touches no cache, the symlinks still work
    with Probe(port) as probe:
        res = play(rollback, playbook="containerless.zipapp.rollback", limit=host)
    assert res.returncode == 0, res.stdout[-3000:]
    assert probe.failed == 0 and get(port)["version"] == "1.0.0"
    assert cache_state(host, shiv) == before
    # the next deploy converts both kept caches, the live one included, while 1.0.0 serves from it
    with Probe(port) as probe:
        res = play(dict(app, app_version="2.0.0"), limit=host)
    assert res.returncode == 0, res.stdout[-3000:]
    assert probe.failed == 0 and probe.versions == {"1.0.0", "2.0.0"}, (probe.sent, probe.failed, probe.versions)
    after = cache_state(host, shiv)
    assert sorted(after) == sorted(before)
    for cache in after.values():
        assert cache["links"] == {} and cache["escapes"] == []  # real directories, every path inside the cache
    assert set(c["inode"] for c in after.values()) == set(c["inode"] for c in before.values())  # hard links
    assert get(port)["version"] == "2.0.0"
    # and back to the converted 1.0.0
    with Probe(port) as probe:
        res = play(rollback, playbook="containerless.zipapp.rollback", limit=host)
    assert res.returncode == 0, res.stdout[-3000:]
    assert probe.failed == 0 and get(port)["version"] == "1.0.0"
    # the store goes with a deploy once no process that started before the conversion runs (all have now)
    res = play(dict(app, app_version="2.0.0"), limit=host)
    assert res.returncode == 0, res.stdout[-3000:]
    left = sh(host, "ls -A %s" % shiv).split()
    assert ".shared" not in left and [e for e in left if e.endswith("_convert")] == [], left
    assert cache_state(host, shiv) == after and get(port)["version"] == "2.0.0"


def test_the_status_playbook_shows_every_host_and_app_and_where_they_disagree(tmp_path):
    """Run last: safe-2 has a second app (legacy, on the earlier layout's units), and the hosts' demoapp
    releases differ after the tests before."""
    out = tmp_path / "status.json"
    # the inventory names demoapp for every host: an empty name asks for every app
    res = play({"zipapp_status_file": str(out), "zipapp_name": ""}, playbook="containerless.zipapp.status")
    assert res.returncode == 0, res.stdout[-3000:]
    report = json.loads(out.read_text())
    seen = dict(((r["host"], r["app"]), r) for r in report["rows"])
    expected = {}
    for host in HOSTS:
        for app in sh(host, "ls %s" % APP_ROOT).split():
            expected[(host, app)] = live(host, app)
    assert sorted(seen) == sorted(expected) and ("zipapp-safe-2", "legacy") in seen
    lives = {}
    for (host, app), version in expected.items():
        row = seen[(host, app)]
        assert row["live"] == version
        switch = [e for e in audit(host, app) if e["result"] == "ok" and e["action"] in ("deploy", "rollback")][-1]
        assert switch["version"] == version and row["since"] == switch["time"]
        assert row["by"] == "%s@%s" % (switch["user"], switch["controller"])
        failed = sorted(v for v in sh(host, "ls %s/%s/releases" % (APP_ROOT, app)).split()
                        if record(host, v, app).get("failed"))
        assert sorted(row["failed"]) == failed
        states = row["units"]
        assert states["%s.socket" % app] == "active"
        web = [u for u in states if u.startswith(app + "@") or u == app + ".service"]
        assert len(web) == 1 and states[web[0]] == "active" and web[0] == web_unit(host, app), states
        lives.setdefault(app, set()).add(version)
    assert len(lives["demoapp"]) > 1, lives  # the tests before left the hosts on different releases
    assert [line.split(":")[0] for line in report["disagreements"]] == ["demoapp"]
    for version in lives["demoapp"]:
        assert version in report["disagreements"][0]
    # the table, and one app alone
    res = play({"zipapp_name": "legacy"}, playbook="containerless.zipapp.status")
    assert res.returncode == 0, res.stdout[-3000:]
    assert "HOST" in res.stdout and "LIVE" in res.stdout and "legacy.service active" in res.stdout
    assert "no app legacy under /opt/zipapp" in res.stdout and "demoapp@" not in res.stdout
