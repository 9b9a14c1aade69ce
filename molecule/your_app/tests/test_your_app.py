"""A stock Django project, deployed the way docs/your-app.md says: a checklist of what the host really runs.

converge.yml deployed 1.0.0 with the page's mysite.yml; these tests upgrade to 2.0.0, roll back with the app's name
alone, run one-off commands, and read the host's state through docker exec.
"""

import hashlib
import http.client
import os
import re
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "integration"))
from zipapp_testlib import Probe, audit, live, play, record, sh, web_pid  # noqa: E402

SUITE = os.environ.get("ZIPAPP_SUITE", "bookworm")
HOST = "zipapp-your_app-" + SUITE
PORT = 18970
APP = "mysite"
WORK = os.path.join(os.environ.get("ZIPAPP_YOUR_APP_WORK", "/tmp/zipapp-your_app"), SUITE)
PROJECT = os.path.join(WORK, "project")
OVERRIDES = os.path.join(HERE, "..", "vars", "overrides.yml")
APP_VARS = ["@" + os.path.join(PROJECT, "mysite.yml"), "@" + OVERRIDES]
SECRET_KEY = "your-app-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # overrides.yml's vault value
ADMIN_PASSWORD = "Adm1n-pa55w0rd-that-never-shows"


def page(path="/", host="localhost", timeout=10):
    """(status, headers, body) of a GET on the app's socket with the Host the page's ALLOWED_HOSTS allows."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def shell(code):
    """Python run by `manage shell` with the live release, as the app's user (the code on stdin)."""
    return sh(HOST, "printf '%%s' %s | zipapp-exec %s manage shell -v 0" % (shlex.quote(code), APP))


def healthy():
    """One GET /health/ for the probe: answered with 200."""
    try:
        return page("/health/")[0] == 200
    except OSError:
        return False


def test_the_stock_project_answers_with_its_templates_data_and_static_files():
    status, _headers, body = page("/")
    assert status == 200, body[-2000:]
    assert "<h1>mysite 1.0.0</h1>" in body  # pages/templates through APP_DIRS, base.html from BASE_DIR/templates
    # the pages package reads content/ through Path(__file__).resolve().parent.parent, as BASE_DIR is found
    assert "Hello from the content directory" in body
    css = re.search(r'href="(/static/site\.[0-9a-f]{12}\.css)"', body)
    assert css, body  # collected at build time by the manifest storage: a hashed name
    status, headers, text = page(css.group(1))
    assert status == 200 and "font-family" in text
    assert "immutable" in headers.get("Cache-Control", ""), headers  # WhiteNoise, from the read-only cache
    assert page("/static/admin/css/base.css")[0] == 200  # Django's own static files, collected too
    assert page("/health/")[0] == 200


def test_the_zipapp_commands_answer_on_the_host():
    assert sh(HOST, "zipapp-exec %s version </dev/null" % APP).strip() == "1.0.0"
    out = sh(HOST, "zipapp-exec %s manage check </dev/null" % APP)
    assert "System check identified no issues" in out, out


def test_migrate_ran_as_a_release_command_into_the_state_directory():
    db = "/var/lib/private/%s/db.sqlite3" % APP
    assert sh(HOST, "test -s %s && echo yes" % db).strip() == "yes"
    assert sh(HOST, "stat -c %%u %s" % db).strip() == sh(HOST, "stat -c %%u /proc/%d" % web_pid(HOST, APP)).strip()
    plan = sh(HOST, "zipapp-exec %s manage showmigrations --plan </dev/null" % APP)
    assert "[X]  auth.0001_initial" in plan and "[ ]" not in plan, plan


def test_the_secret_key_comes_from_the_credential_file():
    out = shell("import os, hashlib; from django.conf import settings; "
                "print(os.environ['SECRET_KEY_FILE']); "
                "print(hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest())")
    path, digest = out.split()[:2]
    assert path.startswith("/run/credentials/") and path.endswith("/secret_key"), out
    assert digest == hashlib.sha256(SECRET_KEY.encode()).hexdigest()


def test_every_file_of_the_cache_resolves_inside_it():
    """What shiv itself would have made: no symlink, every realpath in the release's own cache."""
    cache = record(HOST, "1.0.0", APP)["shiv_cache"]
    assert sh(HOST, "find %s -type l | head -n 3" % cache).strip() == ""
    check = ("import os, sys; c = sys.argv[1]; bad = [p for d, _, fs in os.walk(c) for p in (os.path.join(d, f) for f in fs) "
             "if not os.path.realpath(p).startswith(c + '/')]; print(len(bad), sum(len(fs) for _, _, fs in os.walk(c)))")
    bad, total = sh(HOST, "python3 -c \"%s\" %s" % (check, cache)).split()
    assert bad == "0" and int(total) > 1000
    # the premise of the old failure: the pages package has more than 20 files
    assert int(sh(HOST, "find %s/site-packages/pages -type f -name '*.html' | wc -l" % cache)) > 20


def test_the_timer_runs_a_management_command():
    timers = sh(HOST, "systemctl list-timers --all --no-pager --no-legend %s-clearsessions.timer" % APP)
    assert "%s-clearsessions.service" % APP in timers
    assert sh(HOST, "systemctl start %s-clearsessions.service; echo rc=$?" % APP).strip().endswith("rc=0")
    assert sh(HOST, "systemctl show -P Result %s-clearsessions.service" % APP).strip() == "success"


def test_an_upgrade_migrates_first_and_drops_no_request():
    with Probe(PORT, ok=healthy) as probe:
        res = play(*APP_VARS, {"zipapp_version": "2.0.0"})
    assert res.returncode == 0, res.stdout[-3000:]
    assert probe.failed == 0 and probe.sent > 20, (probe.failed, probe.sent)
    status, _headers, body = page("/")
    # the page reads the new table: the migration of 2.0.0 ran before the switch
    assert status == 200 and "<h1>mysite 2.0.0</h1>" in body and "notes: 0" in body, body[-2000:]
    assert "Hello from the content directory" in body
    assert live(HOST, APP) == "2.0.0"
    print("upgrade: %d probe requests, %d failed, slowest %.3f s" % (probe.sent, probe.failed, max(probe.latencies)))


def test_files_equal_between_the_releases_share_their_inode():
    old, new = (record(HOST, v, APP)["shiv_cache"] for v in ("1.0.0", "2.0.0"))
    inode = "stat -c %%i %s/site-packages/django/__init__.py"
    assert sh(HOST, inode % old).strip() == sh(HOST, inode % new).strip()
    assert sh(HOST, "stat -c %%i %s/site-packages/content/version.txt" % old).strip() != \
        sh(HOST, "stat -c %%i %s/site-packages/content/version.txt" % new).strip()


def test_a_rollback_needs_the_name_alone(tmp_path):
    """No deploy variable, no vault: the inventory holds the host and nothing else."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    %s:\n      ansible_connection: community.docker.docker\n" % HOST)
    with Probe(PORT, ok=healthy) as probe:
        res = play({"zipapp_name": APP}, inventory=str(inventory), playbook="containerless.zipapp.rollback",
                   verbosity=1)
    assert res.returncode == 0, res.stdout[-3000:]
    assert '"health_check_from": "release record"' in res.stdout  # the check 1.0.0 passed when it went live
    assert probe.failed == 0
    assert live(HOST, APP) == "1.0.0" and "<h1>mysite 1.0.0</h1>" in page("/")[2]
    assert "Hello from the content directory" in page("/")[2]
    assert [e["action"] for e in audit(HOST, APP)][-1] == "rollback"
    res = play({"zipapp_name": APP, "zipapp_rollback_to": "2.0.0"}, inventory=str(inventory),
               playbook="containerless.zipapp.rollback")
    assert res.returncode == 0, res.stdout[-3000:]
    assert live(HOST, APP) == "2.0.0" and "notes: 0" in page("/")[2]


def test_exec_creates_the_superuser_and_shows_neither_password_nor_arguments():
    exec_vars = "@" + os.path.join(PROJECT, "createsuperuser.yml")
    res = play(exec_vars, "@" + OVERRIDES, {"zipapp_exec_once": True}, playbook="containerless.zipapp.exec",
               verbosity=3)
    assert res.returncode == 0, res.stdout[-3000:]
    assert ADMIN_PASSWORD not in res.stdout
    assert "admin@example.com" not in res.stdout and "createsuperuser" not in res.stdout  # the arguments
    # the password reached the command: Django can authenticate with it (the check reads it from stdin)
    code = ("from django.contrib.auth import authenticate; import sys; "
            "print(authenticate(username='admin', password=sys.stdin.readline().strip()) is not None)")
    res = play({"zipapp_name": APP, "zipapp_exec": ["manage", "shell", "-v", "0", "-c", code],
                "zipapp_exec_stdin": ADMIN_PASSWORD + "\n"}, playbook="containerless.zipapp.exec", verbosity=3)
    assert res.returncode == 0, res.stdout[-3000:]
    assert ADMIN_PASSWORD not in res.stdout
    assert re.search(r'"stdout": "True\\n"', res.stdout), res.stdout[-2000:]
