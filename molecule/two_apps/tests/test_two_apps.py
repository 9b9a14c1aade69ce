"""Six apps side by side (two per way of applying the role): separate, complete, nothing shared."""

import base64
import json
import os
import time

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "apps.yml")) as f:
    APPS = yaml.safe_load(f)["apps"]


def web_units(app):
    """An app with a socket hands over between two instances; one without has one service."""
    return ["%s@blue.service" % app, "%s@green.service" % app] if APPS[app]["full"] else ["%s.service" % app]


def main_pid(host, app):
    """The web process's main PID once only one runs (an old instance finishes its requests by itself)."""
    for _ in range(100):
        pids = [int(p) for p in host.check_output("systemctl show -P MainPID %s" % " ".join(web_units(app))).split()
                if int(p)]
        if len(pids) == 1:
            break
        time.sleep(0.2)
    assert len(pids) == 1, "%s has %d main processes" % (app, len(pids))
    return pids[0]


def environ(host, pid):
    raw = base64.b64decode(host.check_output("base64 -w0 /proc/%d/environ" % pid)).decode("utf-8")
    return dict(p.split("=", 1) for p in raw.split("\0") if "=" in p)


@pytest.mark.parametrize("app", sorted(APPS))
def test_app_answers_2_0_0_with_its_own_config(host, app):
    spec = APPS[app]
    health = json.loads(host.check_output("curl -fsS --max-time 10 http://127.0.0.1:%d/health" % spec["port"]))
    assert health["version"] == "2.0.0", "%s was not restarted onto 2.0.0" % app
    assert health["greeting"] == "hello from %s" % app
    expected = ["%s_token" % app, "django_secret_key"] if spec["full"] else []
    assert health["credentials"] == sorted(expected)


@pytest.mark.parametrize("app", sorted(APPS))
def test_units_belong_to_their_app_only(host, app):
    spec = APPS[app]
    assert host.service(web_units(app)[0]).is_enabled
    socket = host.file("/etc/systemd/system/%s.socket" % app)
    assert socket.exists == spec["full"]
    if spec["full"]:
        assert "ListenStream=127.0.0.1:%d\n" % spec["port"] in socket.content_string
    unit = host.file("/etc/systemd/system/%s.service" % ("%s@" % app if spec["full"] else app)).content_string
    for other in APPS:
        if other != app:
            assert "/opt/zipapp/%s/" % other not in unit


@pytest.mark.parametrize("app", sorted(APPS))
def test_environment_has_no_other_apps_values(host, app):
    env = environ(host, main_pid(host, app))
    only = sorted(k for k in env if k.startswith("ONLY_"))
    assert only == (["ONLY_" + app.upper()] if APPS[app]["full"] else [])
    assert env["SHIV_ROOT"] == "/opt/zipapp/%s/shiv" % app
    assert env["GREETING"] == "hello from %s" % app


@pytest.mark.parametrize("app", sorted(APPS))
def test_releases_and_caches_are_separate(host, app):
    app_dir = "/opt/zipapp/" + app
    assert host.file(app_dir + "/current").linked_to == app_dir + "/releases/2.0.0"
    assert host.file(app_dir + "/previous").linked_to == app_dir + "/releases/1.0.0"
    caches = host.check_output("find %s/shiv -mindepth 1 -maxdepth 1 -type d -printf '%%f\\n'" % app_dir).split()
    assert len(caches) == 2 and all(c.startswith(app + ".pyz_") for c in caches), caches
    # no symlink under any cache, and every path of a cache resolves inside it
    assert host.check_output("find %s/shiv -type l | head -5" % app_dir) == ""
    for cache in caches:
        top = "%s/shiv/%s" % (app_dir, cache)
        assert host.check_output("find %s -exec realpath {} + | grep -v -x -e '%s' -e '%s/.*' | head -5"
                                 % (top, top, top)) == ""
    # the two releases share Django's files by inode; the other apps' caches are theirs alone
    inodes = set(host.check_output("stat -c %%i %s/shiv/%s/site-packages/django/db/models/base.py"
                                   % (app_dir, c)) for c in caches)
    assert len(inodes) == 1, inodes
    for other in APPS:
        if other != app:
            theirs = host.check_output("stat -c %%i /opt/zipapp/%s/shiv/*/site-packages/django/db/models/base.py"
                                       % other).split()
            assert inodes.isdisjoint(theirs), (app, other)
    assert not host.file(app_dir + "/shiv/.shared").exists
    cmdline = host.check_output("tr '\\0' ' ' < /proc/%d/cmdline" % main_pid(host, app))
    assert "%s/releases/2.0.0/%s.pyz" % (app_dir, app) in cmdline


def test_every_app_has_its_own_dynamic_user(host):
    uids = {}
    for app in APPS:
        uid = host.check_output("awk '/^Uid:/ {print $2}' /proc/%d/status" % main_pid(host, app)).strip()
        assert host.file("/run/systemd/dynamic-uid/direct:" + uid).linked_to == "/run/systemd/dynamic-uid/" + app
        uids[app] = uid
    assert len(set(uids.values())) == len(APPS), uids


def test_controller_downloads_happened_once_per_artifact():
    """delta and zeta download on the controller: one verified copy per sha256, shared by both."""
    cache = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "artifact-cache")
    entries = sorted(e for e in os.listdir(cache) if not e.startswith("."))
    with open(os.path.join(os.environ.get("ZIPAPP_DIST", os.path.join(HERE, "../../../examples/dist")),
                           "SHA256SUMS")) as f:
        sums = dict(line.split()[::-1] for line in f if line.strip())
    assert entries == sorted(sums.values())
    for name, digest in sums.items():
        assert os.listdir(os.path.join(cache, digest)) == [name]
