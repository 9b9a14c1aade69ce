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
         verbosity=0, timeout=600):
    """Run ansible-playbook; every extra is a JSON-able dict (or a raw -e string)."""
    cmd = ["ansible-playbook", "-i", inventory or os.environ["MOLECULE_INVENTORY_FILE"], playbook]
    for e in extra:
        cmd += ["-e", e if isinstance(e, str) else json.dumps(e)]
    if limit:
        cmd += ["--limit", limit]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_FORCE_COLOR="0")
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
                    " 2>/dev/null | sort; systemctl show -P MainPID %s.service" % (d, d, d, app))


def main_cmdline(host, app="demoapp"):
    return sh(host, "tr '\\0' ' ' < /proc/$(systemctl show -P MainPID %s.service)/cmdline" % app)


class Probe(object):
    """One GET every 20 ms on loopback while the block runs (bounded to 240 s)."""

    def __init__(self, port):
        self.port = port
        self.sent = self.failed = 0
        self.versions = set()
        self.stop = threading.Event()

    def loop(self):
        start = time.time()
        while not self.stop.is_set() and time.time() - start < 240:
            self.sent += 1
            answer = get(self.port, timeout=10)
            if answer is None or answer.get("status") != "ok":
                self.failed += 1
            else:
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
