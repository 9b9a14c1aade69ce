"""Helpers for the pytest suites that drive real ansible-playbook runs against real systemd test hosts
(molecule/safe_releases, molecule/faults). Every check reads the host's real state."""

import json
import os
import subprocess
import threading
import time
import urllib.request

APP_ROOT = "/opt/zipapp"


def play(*extra, inventory=None, playbook="containerless.zipapp.deploy", limit=None, background=False,
         verbosity=0, timeout=600, collections=None):
    """Run ansible-playbook; every extra is a JSON-able dict (or a raw -e string). ``collections`` is another
    ANSIBLE_COLLECTIONS_PATH (an earlier version of this collection, say)."""
    cmd = ["ansible-playbook", "-i", inventory or os.environ["MOLECULE_INVENTORY_FILE"], playbook]
    for e in extra:
        cmd += ["-e", e if isinstance(e, str) else json.dumps(e)]
    if limit:
        cmd += ["--limit", limit]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_FORCE_COLOR="0")
    if collections:
        env["ANSIBLE_COLLECTIONS_PATH"] = collections
    if background:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                start_new_session=True)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=timeout)


def get(port, path="/health", timeout=5):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return json.loads(r.read().decode())
    except Exception:
        return None


def wait_for(port, version=None, seconds=60):
    """The /health answer once it comes (with ``version`` if given), bounded; None if it never does."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        answer = get(port)
        if answer and (version is None or answer.get("version") == version):
            return answer
        time.sleep(0.25)
    return None


def sh(host, command, timeout=120):
    return subprocess.run(["docker", "exec", host, "sh", "-c", command], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout).stdout


def live(host, app="demoapp"):
    return sh(host, "readlink %s/%s/current" % (APP_ROOT, app)).strip().rsplit("/", 1)[-1]


def record(host, version, app="demoapp"):
    return json.loads(sh(host, "cat %s/%s/releases/%s/release.json" % (APP_ROOT, app, version)))


def audit(host, app="demoapp"):
    return [json.loads(line) for line in sh(host, "cat %s/%s/audit.log 2>/dev/null" % (APP_ROOT, app)).splitlines()
            if line]


def tree(host, app="demoapp"):
    """Everything under the app and the units: files and links with mode, size, mtime and target,
    directories with mode (a temporary file made and removed inside one changes its mtime, nothing
    else); not the audit log, which a failed deploy may append to; and the service's main PID (a
    restart changes it)."""
    d = "%s/%s" % (APP_ROOT, app)
    return sh(host, "{ find %s /etc/systemd/system -type d -printf '%%p %%m dir\\n'; "
                    "find %s /etc/systemd/system ! -type d ! -path %s/audit.log -printf '%%p %%m %%s %%T@ %%l\\n'; }"
                    " 2>/dev/null | sort; %s" % (d, d, d, WEB_PIDS % ((app,) * 3)))


# The main PIDs of the web process: whichever of the handover instances (or the one service) runs.
WEB_PIDS = "systemctl show -P MainPID %s@blue.service %s@green.service %s.service | grep -v '^0$'"


def web_unit(host, app="demoapp"):
    """The unit that runs the app's web process now (one of <app>@blue, <app>@green or <app>.service)."""
    for unit in ("%s@blue.service" % app, "%s@green.service" % app, "%s.service" % app):
        if sh(host, "systemctl is-active %s" % unit).strip() == "active":
            return unit
    return None


def web_pid(host, app="demoapp", seconds=40):
    """The main PID of the web process, once only one runs: after a handover the old instance finishes
    its requests in flight on its own (bounded wait)."""
    deadline = time.time() + seconds
    while True:
        pids = sh(host, WEB_PIDS % ((app,) * 3)).split()
        if len(pids) == 1 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert len(pids) == 1, "expected one web process of %s, found %s" % (app, pids)
    return int(pids[0])


def main_cmdline(host, app="demoapp"):
    return sh(host, "tr '\\0' ' ' < /proc/%d/cmdline" % web_pid(host, app))


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collection_at(commit, tmp_dir):
    """This collection as it was at ``commit`` (from the checkout's history), in a collections tree of its own."""
    dest = os.path.join(tmp_dir, "ansible_collections", "containerless", "zipapp")
    os.makedirs(dest)
    res = subprocess.run("git -C %s archive %s | tar -x -C %s" % (REPO, commit, dest), shell=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert res.returncode == 0, "commit %s is not in this checkout's history (a shallow clone?): %s" % (
        commit, res.stdout)
    return tmp_dir


class Probe:
    """One GET every 20 ms on loopback while the block runs (bounded to 240 s): the example's /health, or ``ok``, a
    function that sends one request of its own and says whether it was answered as it should be."""

    def __init__(self, port, ok=None):
        self.port = port
        self.ok = ok
        self.sent = self.failed = 0
        self.versions = set()
        self.latencies = []
        self.stop = threading.Event()

    def loop(self):
        start = time.time()
        while not self.stop.is_set() and time.time() - start < 240:
            self.sent += 1
            t0 = time.time()
            if self.ok is not None:
                good, answer = self.ok(), None
            else:
                answer = get(self.port, timeout=10)
                good = answer is not None and answer.get("status") == "ok"
            self.latencies.append(time.time() - t0)
            if not good:
                self.failed += 1
            elif answer:
                self.versions.add(answer["version"])
            time.sleep(0.02)

    def __enter__(self):
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        time.sleep(0.5)
        self.stop.set()
        self.thread.join()
