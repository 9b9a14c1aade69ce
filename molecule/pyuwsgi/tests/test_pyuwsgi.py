"""uWSGI (pyuwsgi) behind the same socket activation, handover and sandbox as gunicorn, on a real systemd host.

converge deployed 1.0.0-pyuwsgi with `zipapp_args: [pyuwsgi]`. The upgrades are measured as bench/ measures
gunicorn's: bench/probe.py on loopback, one client every 20 ms, then 8 clients and a request always in flight.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "integration"))
from zipapp_testlib import get, live, main_cmdline, play, sh, web_pid  # noqa: E402

HOST = "zipapp-pyuwsgi-" + os.environ.get("ZIPAPP_SUITE", "bookworm")
PORT = 18161
PROBE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "bench", "probe.py")


def probed(extra, *probe_args):
    """Deploy with ``extra`` while bench/probe.py runs; returns (the deploy's result, the probe's summary)."""
    with tempfile.TemporaryDirectory() as tmp:
        stop = os.path.join(tmp, "stop")
        probe = subprocess.Popen([sys.executable, PROBE, "--url", "http://127.0.0.1:%d/health" % PORT,
                                  "--stop-file", stop, "--max-seconds", "240"] + list(probe_args),
                                 stdout=subprocess.PIPE, text=True)
        try:
            res = play(extra)
        finally:
            subprocess.run(["sleep", "1"], check=False)  # the old instance finishes what it has in flight
            open(stop, "w").close()
            out, _ = probe.communicate(timeout=60)
    return res, json.loads(out)


def test_uwsgi_serves_the_release_in_the_sandbox():
    assert live(HOST) == "1.0.0-pyuwsgi"
    health = get(PORT)
    assert health["status"] == "ok" and health["version"] == "1.0.0+pyuwsgi"
    pid = web_pid(HOST)
    # the master is the start script's exec of the pyz (pyuwsgi runs in-process), its workers its children
    assert "demoapp.pyz pyuwsgi" in main_cmdline(HOST)
    workers = sh(HOST, "ps -o args= --ppid %d" % pid).splitlines()
    assert len(workers) == 2 and all("demoapp" in w for w in workers), workers
    uid = sh(HOST, "ps -o uid= -p %d" % pid).strip()
    assert 61184 <= int(uid) <= 65519
    exposure = sh(HOST, "systemd-analyze security demoapp@blue.service demoapp@green.service --no-pager | "
                        "grep -o 'exposure level.*' | head -1")
    assert "0.9 SAFE" in exposure, exposure


def test_an_upgrade_fails_no_request_and_keeps_latency_low():
    res, probe = probed({"app_version": "2.0.0-pyuwsgi"})
    assert res.returncode == 0, res.stdout[-3000:]
    print("pyuwsgi upgrade, one client: %s" % json.dumps(probe))
    assert probe["failed"] == 0 and probe["sent"] > 50, probe
    assert probe["versions"] == ["1.0.0+pyuwsgi", "2.0.0+pyuwsgi"]
    assert get(PORT)["version"] == "2.0.0+pyuwsgi"


def test_under_load_every_request_in_flight_is_answered():
    res, probe = probed({"app_version": "1.0.0-pyuwsgi", "load": "1"}, "--clients", "8",
                        "--slow-url", "http://127.0.0.1:%d/slow?ms=1000" % PORT, "--slow-clients", "1")
    assert res.returncode == 0, res.stdout[-3000:]
    print("pyuwsgi back to 1.0.0 under load: %s" % json.dumps(probe))
    assert probe["failed"] == 0 and probe["slow"]["failed"] == 0, probe
    assert probe["sent"] > 200 and probe["slow"]["sent"] >= 2, probe
