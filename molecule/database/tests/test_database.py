"""The example app on a real PostgreSQL, driven with real ansible-playbook runs against a real systemd host.

converge started Debian's postgresql, created the role and database (examples/database.yml) and deployed
1.0.0 with `manage migrate --noinput` as its release command. The tests run in file order; each starts
from what the one before left.
"""

import json
import os
import shlex
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "integration"))
from zipapp_testlib import Probe, audit, get, live, play, sh  # noqa: E402

HOST = "zipapp-database-" + os.environ.get("ZIPAPP_SUITE", "bookworm")
PORT = 18151
PG_MAJOR = {"bookworm": "15", "trixie": "17"}[os.environ.get("ZIPAPP_SUITE", "bookworm")]


def psql(sql):
    return sh(HOST, "cd / && runuser -u postgres -- psql -XAtq -d demoapp -c %s" % shlex.quote(sql)).strip()


def counter(post=False):
    req = urllib.request.Request("http://127.0.0.1:%d/counter" % PORT, data=b"" if post else None,
                                 method="POST" if post else "GET")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read().decode())


def has_column():
    return psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'demoapp_counter' "
                "AND column_name = 'updated_by'") == "1"


def test_the_first_deploy_migrated_as_the_app_user_over_the_unix_socket():
    assert sh(HOST, "cd / && runuser -u postgres -- psql -XAtq -c 'SHOW server_version'").split(".")[0] == PG_MAJOR
    assert sh(HOST, "systemctl is-active postgresql@%s-main.service" % PG_MAJOR).strip() == "active"
    assert live(HOST) == "1.0.0"
    assert psql("SELECT name FROM django_migrations WHERE app = 'demoapp' ORDER BY id") == "0001_initial"
    # the migration ran as the app's dynamic user (peer authentication: the role has its name, no password)
    assert psql("SELECT tableowner FROM pg_tables WHERE tablename = 'demoapp_counter'") == "demoapp"
    assert psql("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'demoapp'") == "t"
    assert not has_column()
    assert counter()["value"] == 0
    assert counter(post=True)["value"] == 1 and counter(post=True)["value"] == 2
    assert psql("SELECT value FROM demoapp_counter WHERE name = 'hits'") == "2"
    # the web process holds its connection (CONN_MAX_AGE) over the unix socket, as demoapp
    sessions = psql("SELECT usename, client_addr IS NULL FROM pg_stat_activity WHERE datname = 'demoapp' "
                    "AND usename = 'demoapp'").split()
    assert sessions and set(sessions) == {"demoapp|t"}, sessions


def test_a_failing_migration_switches_nothing_and_names_the_command():
    with Probe(PORT) as probe:
        res = play({"app_version": "2.0.0", "app_env": {"DEMOAPP_FAIL_MIGRATION": "1"}})
    assert res.returncode != 0
    assert "release command manage migrate --noinput of demoapp 2.0.0 failed" in res.stdout, res.stdout[-3000:]
    assert "migration 0002 failed on request" in res.stdout and "nothing was switched" in res.stdout
    assert probe.failed == 0 and probe.versions == {"1.0.0"}, (probe.sent, probe.failed, probe.versions)
    assert live(HOST) == "1.0.0" and get(PORT)["version"] == "1.0.0"
    assert not has_column()  # PostgreSQL rolled the whole migration back
    assert audit(HOST)[-1]["result"] == "failed" and audit(HOST)[-1]["version"] == "2.0.0"
    assert counter(post=True)["value"] == 3


def test_an_additive_migration_upgrades_without_a_failed_request():
    with Probe(PORT) as probe:
        res = play({"app_version": "2.0.0"}, verbosity=1)
    assert res.returncode == 0, res.stdout[-3000:]
    assert probe.failed == 0 and probe.versions == {"1.0.0", "2.0.0"}, (probe.sent, probe.failed, probe.versions)
    print("upgrade with a migration: %d probes, max latency %.3f s" % (probe.sent, max(probe.latencies)))
    assert live(HOST) == "2.0.0" and has_column()
    assert psql("SELECT name FROM django_migrations WHERE app = 'demoapp' ORDER BY id").split() == [
        "0001_initial", "0002_counter_updated_by"]
    answer = counter(post=True)
    assert answer["value"] == 4 and answer["version"] == "2.0.0" and answer["schema"] == 2
    assert psql("SELECT updated_by FROM demoapp_counter WHERE name = 'hits'") == "2.0.0"


def test_a_rollback_onto_the_expanded_schema_keeps_serving():
    with Probe(PORT) as probe:
        res = play({"zipapp_name": "demoapp"}, playbook="containerless.zipapp.rollback")
    assert res.returncode == 0, res.stdout[-3000:]
    assert probe.failed == 0, (probe.sent, probe.failed)
    assert live(HOST) == "1.0.0" and get(PORT)["version"] == "1.0.0"
    assert has_column()  # the schema stays expanded: 1.0.0 runs on it
    answer = counter(post=True)
    assert answer["value"] == 5 and answer["version"] == "1.0.0" and answer["schema"] == 1
    assert psql("SELECT value, updated_by FROM demoapp_counter WHERE name = 'hits'") == "5|2.0.0"


def test_every_instance_that_handed_over_stopped_cleanly():
    """The upgrade and the rollback each stopped an instance that had used the database: each exited
    gracefully. (psycopg 3 without its binary extra makes a ctypes callback at import; made in the gunicorn
    arbiter before the fork, it aborted every stop under MemoryDenyWriteExecute=yes and left the unit failed.)"""
    assert sh(HOST, "systemctl list-units --all --failed --plain --no-legend 'demoapp*'").strip() == ""
    journal = sh(HOST, "journalctl --no-pager -o cat -u 'demoapp@*.service'")
    assert journal.count("Stopped demoapp@") >= 2, journal[-2000:]  # the handovers of the upgrade and rollback
    for sign in ("Fatal Python error", "was sent SIGABRT", "code=killed", "Failed with result"):
        assert sign not in journal, journal[-3000:]


def test_one_off_commands_reach_the_database_with_the_live_release():
    res = play({"zipapp_name": "demoapp", "zipapp_exec": ["manage", "showmigrations", "demoapp"]},
               playbook="containerless.zipapp.exec")
    assert res.returncode == 0, res.stdout[-3000:]
    assert "[X] 0001_initial" in res.stdout and "0002" not in res.stdout  # 1.0.0 knows only its own
    value = sh(HOST, "zipapp-exec demoapp manage shell -v 0 -c "
                     "\"from demoapp.models import Counter; print(Counter.objects.get(name='hits').value)\" </dev/null")
    assert value.strip() == "5"
    # nothing of it keeps running: no one-off unit, no session of the app's user but the web process's
    assert sh(HOST, "systemctl list-units --all --plain --no-legend 'demoapp-exec-*'").strip() == ""
