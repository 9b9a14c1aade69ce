"""The host after side_effect: demoapp 2.0.0 live, deployed over 1.0.0, a bad deploy refused."""

import base64
import json
import os
import re
import time

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "vars.yml")) as f:
    VARS = yaml.safe_load(f)
NAME = VARS["zipapp_name"]
APP = "/opt/zipapp/" + NAME
PORT = int(os.environ.get("ZIPAPP_PORT", "18101"))


WEB = ["%s@blue.service" % NAME, "%s@green.service" % NAME]  # the handover instances of <name>@.service


def main_pid(host):
    """The web process's main PID once only one runs (an old instance finishes its requests by itself)."""
    for _ in range(100):
        pids = [int(p) for p in host.check_output("systemctl show -P MainPID %s" % " ".join(WEB)).split() if int(p)]
        if len(pids) == 1:
            return pids[0]
        time.sleep(0.2)
    raise AssertionError("expected one web process, found %s" % pids)


def environ(host, pid):
    raw = host.check_output("base64 -w0 /proc/%d/environ" % pid)
    pairs = base64.b64decode(raw).decode("utf-8").split("\0")
    return dict(p.split("=", 1) for p in pairs if "=" in p)


def test_units_are_enabled_and_one_web_instance_serves(host):
    for unit in (NAME + ".socket", NAME + ".target", WEB[0]):  # blue starts with the socket at boot
        assert host.service(unit).is_enabled, unit
    assert host.run("systemctl is-active %s.socket" % NAME).stdout.strip() == "active"
    active = [u for u in WEB if host.run("systemctl is-active %s" % u).stdout.strip() == "active"]
    assert len(active) == 1, active
    # the one-line way to see the live web process
    status = host.check_output("systemctl status '%s@*' --no-pager --lines=0" % NAME)
    assert "%s - " % active[0] in status and "active (running)" in status
    assert host.socket("tcp://127.0.0.1:%d" % PORT).is_listening
    # its private check socket answers, and nothing else is left in /run
    slot = active[0].split("@")[1][:-len(".service")]
    assert host.check_output("ls /run/zipapp").split() == ["%s.%s.sock" % (NAME, slot), "%s.step" % NAME]
    assert '"version": "2.0.0"' in host.check_output(
        "curl -fsS --max-time 10 --unix-socket /run/zipapp/%s.%s.sock http://localhost/health" % (NAME, slot))


def test_app_answers_the_new_version_to_an_unprivileged_client(host):
    out = host.check_output("runuser -u nobody -- curl -fsS --max-time 10 http://127.0.0.1:%d/health" % PORT)
    health = json.loads(out)
    assert health["status"] == "ok"
    assert health["version"] == "2.0.0"
    assert health["credentials"] == sorted(VARS["zipapp_secrets"])
    assert health["greeting"] == VARS["zipapp_env"]["GREETING"]


def test_static_files_are_served(host):
    css = host.check_output("curl -fsS --max-time 10 http://127.0.0.1:%d/static/demoapp/site.css" % PORT)
    assert "{" in css


def test_app_runs_as_a_dynamic_user_not_root(host):
    pid = main_pid(host)
    uids = host.check_output("awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/%d/status" % pid).split()
    assert len(set(uids)) == 1, uids
    uid = int(uids[0])
    assert 61184 <= uid <= 65519, "uid %d is not in systemd's DynamicUser range" % uid
    # systemd's registry of dynamic users names the uid after the app (User= with DynamicUser=yes)
    assert host.file("/run/systemd/dynamic-uid/direct:%d" % uid).linked_to == "/run/systemd/dynamic-uid/" + NAME
    # every process of the service (the gunicorn workers too) runs as that user
    procs = host.check_output("ps -o uid= --ppid %d" % pid).split()
    assert procs and all(int(u) == uid for u in procs), procs


def test_live_and_previous_links(host):
    assert host.file(APP + "/current").linked_to == APP + "/releases/2.0.0"
    assert host.file(APP + "/previous").linked_to == APP + "/releases/1.0.0"
    cmdline = host.check_output("tr '\\0' ' ' < /proc/%d/cmdline" % main_pid(host))
    assert APP + "/releases/2.0.0/%s.pyz" % NAME in cmdline


def test_release_record(host):
    record = json.loads(host.file(APP + "/releases/2.0.0/release.json").content_string)
    actual = host.check_output("sha256sum %s/releases/2.0.0/%s.pyz" % (APP, NAME)).split()[0]
    assert record["sha256"] == actual
    assert record["version"] == "2.0.0"
    assert record["url"].endswith("/demoapp-2.0.0.pyz")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", record["deployed_at"])
    assert "@" in record["deployed_by"]


def test_env_values_round_trip_exactly(host):
    env = environ(host, main_pid(host))
    for key, value in VARS["zipapp_env"].items():
        assert env.get(key) == value, key
    assert env["SHIV_ROOT"] == APP + "/shiv"


def test_secrets_are_credentials_not_environment(host):
    env = environ(host, main_pid(host))
    blob = "\n".join("%s=%s" % kv for kv in env.items())
    for secret in VARS["zipapp_secrets"].values():
        assert secret not in blob
    assert "CREDENTIALS_DIRECTORY" in env


def test_config_files_are_root_only(host):
    config = APP + "/current/config"
    env_file = host.file(config + "/env")
    assert (env_file.user, env_file.group, env_file.mode) == ("root", "root", 0o600)
    creds = host.file(config + "/credentials")
    assert (creds.user, creds.mode) == ("root", 0o700)
    for cred_id, value in VARS["zipapp_secrets"].items():
        f = host.file(config + "/credentials/" + cred_id)
        assert (f.user, f.mode) == ("root", 0o600)
        assert f.content_string == value


def test_shiv_cache_is_readable_despite_umask_077(host):
    record = json.loads(host.file(APP + "/releases/2.0.0/release.json").content_string)
    cache = record["shiv_cache"]
    assert host.file(cache + "/site-packages").is_directory
    assert host.file(cache).user == "root"
    unreadable = host.check_output("find %s ! -perm -o+r -o -type d ! -perm -o+x | head -5" % cache)
    assert unreadable == ""
    writable = host.check_output("find %s -perm /o+w,g+w | head -5" % cache)
    assert writable == ""


def test_each_release_has_a_cache_of_its_own_that_shares_unchanged_files_by_inode(host):
    """What shiv itself would have extracted: no symlink anywhere, every path resolves inside its own cache,
    and what 2.0.0 did not change is the same inode as 1.0.0's (hard links), pycs included."""
    old, new = (json.loads(host.file("%s/releases/%s/release.json" % (APP, v)).content_string)["shiv_cache"]
                for v in ("1.0.0", "2.0.0"))
    assert old != new
    for cache in (old, new):
        # no symlink under the cache
        assert host.check_output("find %s -type l | head -5" % cache) == ""
        # every file and directory resolves inside the cache
        escapes = host.check_output("find %s -exec realpath {} + | grep -v -x -e '%s' -e '%s/.*' | head -5"
                                    % (cache, cache, cache))
        assert escapes == ""
        assert int(host.check_output("find %s -type f | wc -l" % cache)) > 5000  # the pycs are there too
    # Django's files and pycs: one inode for both releases, each at its own path
    for rel in ("django/__init__.py", "django/db/models/base.py",
                "django/db/models/__pycache__/base.%s.pyc" % cache_tag(host)):
        inodes = [host.check_output("stat -c %%i %s/site-packages/%s" % (c, rel)) for c in (old, new)]
        assert inodes[0] == inodes[1], rel
    assert host.check_output("find %s/site-packages/django -type f -links 1 | head -5" % new) == ""
    # what changed is a file of its own
    versions = [host.check_output("stat -c %%i %s/site-packages/demoapp/_version.py" % c) for c in (old, new)]
    assert versions[0] != versions[1]
    # the store of the earlier layout is not made any more
    assert not host.file(APP + "/shiv/.shared").exists


def cache_tag(host):
    """The pyc tag of the host's python3, which compiled the caches (cpython-311 on Debian 12, -313 on 13)."""
    return host.check_output("python3 -c 'import sys; print(sys.implementation.cache_tag)'")


@pytest.mark.parametrize("unit", WEB)
def test_unit_exposure_is_safe(host, unit):
    out = host.check_output("systemd-analyze security --no-pager %s" % unit)
    score = float(re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out).group(1))
    assert score <= 0.9, out[-2000:]


def test_units_verify_without_warnings(host):
    units = ["/etc/systemd/system/" + u for u in (NAME + "@.service", NAME + "-check@.socket", NAME + ".socket",
                                                  NAME + ".target")]
    res = host.run("systemd-analyze verify --man=no %s" % " ".join(units))
    assert res.rc == 0
    assert NAME not in res.stdout + res.stderr


def test_the_refused_release_left_nothing(host):
    assert not host.file(APP + "/releases/2.1.0").exists
    leftovers = host.check_output("find / -xdev -name '.zipapp-download-*' 2>/dev/null | head -5")
    assert leftovers == ""


def test_zipapp_exec_runs_a_command_with_the_live_release_and_leaves_nothing(host):
    assert host.file("/usr/local/sbin/zipapp-exec").mode == 0o755
    ran = host.run("zipapp-exec %s version </dev/null" % NAME)
    assert ran.rc == 0 and ran.stdout.strip() == "2.0.0", ran.stderr
    # stdin is piped through without a terminal, and the command's exit status comes back
    piped = host.run("echo 'import os; print(os.getuid(), os.isatty(0))' | zipapp-exec %s manage shell -v 0" % NAME)
    uid, tty = piped.stdout.split()
    assert piped.rc == 0 and 61184 <= int(uid) <= 65519 and tty == "False", piped.stderr
    assert host.run("zipapp-exec %s manage shell -v 0 -c 'import sys; sys.exit(7)' </dev/null" % NAME).rc == 7
    # with a terminal it is interactive (script(1) gives it one)
    shell = host.run("script -qec \"zipapp-exec %s manage shell -v 0 -c 'import sys; print(sys.stdin.isatty())'\" "
                     "/dev/null </dev/null" % NAME)
    assert shell.rc == 0 and shell.stdout.strip().endswith("True"), shell.stdout
    refused = host.run("zipapp-exec nosuchapp version")
    assert refused.rc == 2 and "no app nosuchapp" in refused.stderr
    not_root = host.run("runuser -u nobody -- /usr/local/sbin/zipapp-exec %s version" % NAME)
    assert not_root.rc == 2 and "run it as root" in not_root.stderr
    # every one-off unit is gone once its command ended
    assert host.check_output("systemctl list-units --all --plain --no-legend '%s-exec-*'" % NAME) == ""
    assert not [u for u in host.check_output("ls /run/systemd/transient").split() if u.startswith(NAME + "-exec")]
