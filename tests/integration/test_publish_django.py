"""A stock Django project and a Flask app built by the publish role as they are, and builds that explain
themselves (scripts/run-publish-tests).

Real parts: ``django-admin startproject`` + ``startapp`` make the project here (Django from requirements-test.txt),
the real publish playbook builds it with pip and shiv from the package index, and the built pyz runs on this
machine as the deploy role runs it on a host: its shiv cache extracted beforehand by root, then read-only for
the process, which runs as ``nobody`` with ``HOME=/``. Ports: 18763-18765 on 127.0.0.1. The tests run in file
order; each starts from what the one before left.

What it shows: the documented command (``-i localhost,``) builds the project with no warning and two builds are
byte-identical; the pyz answers ``version``, ``manage check`` and ``serve`` (a page from ``templates/``, a file
that collectstatic collected, served by whitenoise), and a SIGTERM lets a slow request finish; a Flask app
(``zipapp_publish_wsgi_app``) answers through gunicorn and through pyuwsgi; an sdist-only dependency, a
compiled wheel for another CPython, a failing pip install and a requirements path given relative to the
current directory each fail with a message that names the cause and the variable; a refused re-publish
leaves the target and the dist copy as they were.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stock_apps  # noqa: E402
from zipapp_testlib import play  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = os.path.join(REPO, ".cache", "publish-django-test")
BUILD_DIR = os.path.join(REPO, ".cache", "publish-test", "build")  # test_publish.py's: the build venv, kept
DJANGO_PORT, FLASK_PORT, UWSGI_PORT = 18763, 18764, 18765
VERSION = "1.0.0"
SECRET = "build-only-secret-7c1e9f"  # zipapp_publish_build_env: never in the output
REPORT = os.path.join(REPO, ".cache", "publish-test", "report.txt")


def report(line):
    print(line)
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    with open(REPORT, "a") as f:
        f.write(line + "\n")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def publish(extra, verbosity=0):
    t0 = time.time()
    res = play(dict(extra, zipapp_publish_build_dir=BUILD_DIR), inventory="localhost,",
               playbook="containerless.zipapp.publish", verbosity=verbosity, timeout=900)
    res.seconds = time.time() - t0
    return res


def failure(res):
    """The msg of the failed task, as Ansible printed it."""
    assert res.returncode != 0, res.stdout[-3000:]
    for line in res.stdout.splitlines():
        if line.startswith("fatal: ") or line.startswith("failed: "):
            return json.loads(line.split("=> ", 1)[1])["msg"]
    raise AssertionError(res.stdout[-3000:])


def as_nobody(argv, shiv_root, env=None, **kw):
    """Run the pyz as the deploy role does on a host: another user than the one who extracted the cache, HOME=/,
    so the cache is read-only for it and there is no home to write to."""
    environ = {"PATH": "/usr/bin:/bin", "HOME": "/", "SHIV_ROOT": shiv_root, "LANG": "C.UTF-8"}
    environ.update(env or {})
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + argv, environ


def tree(root):
    return sorted(os.path.relpath(os.path.join(r, f), root) for r, _d, fs in os.walk(root) for f in fs)


def get(port, path, timeout=10):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, dict(r.headers), r.read().decode("utf-8", "replace")


def wait_answering(port, proc, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert proc.poll() is None, "the server exited with %s" % proc.returncode
        try:
            return get(port, "/", timeout=2)
        except urllib.error.HTTPError as e:
            raise AssertionError("127.0.0.1:%d answered %s" % (port, e.code))
        except OSError:
            time.sleep(0.2)
    raise AssertionError("nothing answered on 127.0.0.1:%d" % port)


class Server:
    """A pyz's ``serve``, started by this test and stopped by its PID only."""

    def __init__(self, pyz, port, shiv_root, env, log):
        argv, environ = as_nobody(["/usr/bin/python3", pyz, "serve"], shiv_root, env)
        self.log = open(log, "w")
        self.proc = subprocess.Popen(argv, env=environ, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self.first = wait_answering(port, self.proc)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        return self.proc.returncode


@pytest.fixture(scope="module", autouse=True)
def workdir():
    if os.path.isdir(WORK):
        shutil.rmtree(WORK)
    os.makedirs(WORK)
    os.chmod(WORK, 0o755)  # nobody reads the pyz and the cache below it
    yield


@pytest.fixture(scope="module")
def django_project(workdir):
    root = os.path.join(WORK, "src", "mysite")
    os.makedirs(os.path.dirname(root))
    stock_apps.make_django_project(root)
    stock_apps.git_commit(root)
    return root


@pytest.fixture(scope="module")
def flask_app(workdir):
    root = os.path.join(WORK, "src", "hello")
    stock_apps.make_flask_app(root)
    stock_apps.git_commit(root)
    return root


def django_pyz():
    return os.path.join(WORK, "dist", "mysite-%s.pyz" % VERSION)


def shiv_root_for(pyz, name):
    """The cache extracted beforehand by root (as the deploy role does), read-only for the process after it."""
    root = os.path.join(WORK, "shiv-" + name)
    res = subprocess.run(["/usr/bin/python3", pyz, "version"], env={"PATH": "/usr/bin:/bin", "SHIV_ROOT": root,
                                                                   "HOME": "/root"},
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
                         preexec_fn=lambda: os.umask(0o022))
    assert res.returncode == 0, res.stdout
    return root


PUBLISH_YML = """\
# publish.yml: ansible-playbook -i localhost, containerless.zipapp.publish -e @publish.yml
zipapp_publish_project: mysite
zipapp_publish_version: "{version}"
zipapp_publish_to: [{target}]
zipapp_publish_build_env: {{DJANGO_SECRET_KEY: {secret}}}
zipapp_publish_exclude: [notes/]
zipapp_publish_dist_dir: {dist}
zipapp_publish_build_dir: {build_dir}
"""


def test_a_startproject_project_builds_as_documented_without_a_warning(django_project):
    src = os.path.dirname(django_project)
    with open(os.path.join(src, "publish.yml"), "w") as f:
        f.write(PUBLISH_YML.format(version=VERSION, target=os.path.join(WORK, "artifacts"), secret=SECRET,
                                   dist=os.path.join(WORK, "dist"), build_dir=BUILD_DIR))
    t0 = time.time()
    res = subprocess.run(["ansible-playbook", "-i", "localhost,", "containerless.zipapp.publish", "-e", "@publish.yml"],
                         cwd=src, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900,
                         env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default"))
    assert res.returncode == 0, res.stdout[-5000:]
    assert "[WARNING]" not in res.stdout, res.stdout
    assert SECRET not in res.stdout
    digest = sha(django_pyz())
    with open(os.path.join(WORK, "artifacts", "SHA256SUMS")) as f:
        assert f.read() == "%s  mysite-%s.pyz\n" % (digest, VERSION)
    report("django startproject built and published as documented in %.0f s, no warning: mysite-%s.pyz %s"
           % (time.time() - t0, VERSION, digest))
    # a second build from a copy at another path, at -vvv: the same bytes, and the build environment's secret
    # never shows
    epoch = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=django_project, stdout=subprocess.PIPE,
                           text=True, check=True).stdout.strip()
    copy = os.path.join(WORK, "elsewhere", "mysite")
    shutil.copytree(django_project, copy)
    again = publish(dict(zipapp_publish_project=copy, zipapp_publish_version=VERSION,
                         zipapp_publish_source_date_epoch=epoch,
                         zipapp_publish_to=[os.path.join(WORK, "artifacts")],
                         zipapp_publish_build_env={"DJANGO_SECRET_KEY": SECRET}, zipapp_publish_exclude=["notes/"],
                         zipapp_publish_dist_dir=os.path.join(WORK, "dist-again")), verbosity=3)
    assert again.returncode == 0, again.stdout[-5000:]
    assert SECRET not in again.stdout
    assert sha(os.path.join(WORK, "dist-again", "mysite-%s.pyz" % VERSION)) == digest
    report("django: a second build from a copy at another path (%.0f s) is byte-identical" % again.seconds)


def test_the_django_pyz_ships_the_project_and_leaves_out_what_it_must_not():
    import zipfile

    with zipfile.ZipFile(django_pyz()) as zf:
        names = set(n[len("site-packages/"):] for n in zf.namelist() if n.startswith("site-packages/"))
        config = json.loads(zf.read("site-packages/_zipapp_launcher.json"))
        manifest = json.loads(zf.read("site-packages/staticfiles/staticfiles.json"))
    assert config == {"layout": "django", "name": "mysite", "server": "gunicorn", "settings": "mysite.settings",
                      "version": VERSION}
    for shipped in ("manage.py", "mysite/settings.py", "polls/views.py", "templates/home.html", "static/site.css",
                    "staticfiles/site.css", "staticfiles/" + manifest["paths"]["site.css"],
                    "staticfiles/" + manifest["paths"]["admin/css/base.css"] + ".gz",  # whitenoise compressed it
                    "_zipapp_launcher.py"):
        assert shipped in names, shipped
    for left_out in ("db.sqlite3", ".env", ".gitignore", "staticfiles/stale.css", "notes/todo.txt"):
        assert left_out not in names, left_out
    assert not any(n.startswith(".git/") or n.endswith(".pyc") for n in names)


def test_the_django_pyz_answers_version_and_manage_read_only():
    pyz = django_pyz()
    root = shiv_root_for(pyz, "django")
    before = tree(root)
    argv, env = as_nobody(["/usr/bin/python3", pyz, "version"], root)
    res = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert (res.returncode, res.stdout) == (0, VERSION + "\n")
    argv, env = as_nobody(["/usr/bin/python3", pyz, "manage", "check"], root, {"DJANGO_SECRET_KEY": "runtime-key"})
    res = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert res.returncode == 0 and "System check identified no issues" in res.stdout, res.stdout
    argv, env = as_nobody(["/usr/bin/python3", pyz, "frobnicate"], root)
    res = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert res.returncode == 2 and "unknown command 'frobnicate'" in res.stdout and "usage: mysite-1.0.0.pyz" in \
        res.stdout
    assert tree(root) == before
    report("django pyz as nobody, HOME=/, read-only cache: version -> %s, manage check -> no issues, a bad command "
           "-> exit 2 with the usage" % VERSION)


def test_the_django_pyz_serves_templates_and_collected_static_files_and_stops_gracefully():
    pyz = django_pyz()
    root = os.path.join(WORK, "shiv-django")
    before = tree(root)
    server = Server(pyz, DJANGO_PORT, root, {"DJANGO_SECRET_KEY": "runtime-key", "WEB_CONCURRENCY": "2",
                                             "GUNICORN_CMD_ARGS": "--bind 127.0.0.1:%d" % DJANGO_PORT},
                    os.path.join(WORK, "django-serve.log"))
    try:
        status, _headers, page = server.first
        assert status == 200 and "Hello from templates/home.html" in page, page
        css = page.split('href="', 1)[1].split('"', 1)[0]
        assert css.startswith("/static/site.") and css.endswith(".css") and css != "/static/site.css"
        status, headers, body = get(DJANGO_PORT, css)
        assert status == 200 and body == "body { color: #123456; }\n"
        assert "immutable" in headers.get("Cache-Control", ""), headers  # whitenoise, for a hashed name
        slow = {}

        def slow_request():
            slow["answer"] = get(DJANGO_PORT, "/slow/?s=3", timeout=30)

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(1)
        t0 = time.time()
        server.proc.send_signal(signal.SIGTERM)
        thread.join(30)
        rc = server.proc.wait(30)
        stopped = time.time() - t0
    finally:
        server.stop()
    assert slow["answer"][0] == 200 and slow["answer"][2] == "slow request finished\n"
    assert rc == 0 and 1.5 < stopped < 20, (rc, stopped)
    with open(os.path.join(WORK, "django-serve.log")) as f:
        log = f.read()
    assert "Handling signal: term" in log and "control socket" not in log.lower(), log
    assert tree(root) == before
    report("django serve (gunicorn, 2 workers, as nobody): / from templates/home.html, %s from whitenoise (%s); "
           "SIGTERM during a 3 s request: it finished (200), the server exited 0 after %.1f s"
           % (css, headers.get("Cache-Control"), stopped))


def workers_warmed(log, workers=2, seconds=20):
    """How many distinct worker pids logged the warm-up request of the Flask app's /warm (bounded wait)."""
    deadline = time.time() + seconds
    while True:
        with open(log) as f:
            pids = set(re.findall(r"^warmed in (\d+) by containerless.zipapp warm-up$", f.read(), re.M))
        if len(pids) >= workers or time.time() > deadline:
            return len(pids)
        time.sleep(0.2)


def flask_vars(project, **extra):
    v = dict(zipapp_publish_project=project, zipapp_publish_version=VERSION, zipapp_publish_wsgi_app="app:app",
             zipapp_publish_to=[os.path.join(WORK, "artifacts-hello")],
             zipapp_publish_dist_dir=os.path.join(WORK, "dist"))
    v.update(extra)
    return v


def test_a_flask_app_answers_through_gunicorn_and_pyuwsgi(flask_app):
    res = publish(flask_vars(flask_app))
    assert res.returncode == 0, res.stdout[-5000:]
    pyz = os.path.join(WORK, "dist", "hello-%s.pyz" % VERSION)
    root = shiv_root_for(pyz, "hello")
    log = os.path.join(WORK, "flask-serve.log")
    server = Server(pyz, FLASK_PORT, root, {"GREETING": "gunicorn", "ZIPAPP_WARMUP_PATHS": "/warm",
                                            "GUNICORN_CMD_ARGS": "--bind 127.0.0.1:%d" % FLASK_PORT}, log)
    try:
        warmed = workers_warmed(log)
    finally:
        rc = server.stop()
    assert server.first[2] == "<h1>Hello from gunicorn in templates/index.html</h1>" and rc == 0
    assert warmed == 2  # each of the two workers requested ZIPAPP_WARMUP_PATHS before it accepted
    report("flask (zipapp_publish_wsgi_app: app:app) built in %.0f s; serve (gunicorn): %s"
           % (res.seconds, server.first[2].strip()))
    # the same app with pyuwsgi as the server
    with open(os.path.join(flask_app, "requirements.txt"), "a") as f:
        f.write("pyuwsgi==2.0.30.post1\n")
    res = publish(flask_vars(flask_app, zipapp_publish_server="pyuwsgi", zipapp_publish_name="hello-uwsgi",
                             zipapp_publish_source_date_epoch="1767323045"))
    assert res.returncode == 0, res.stdout[-5000:]
    pyz = os.path.join(WORK, "dist", "hello-uwsgi-%s.pyz" % VERSION)
    root = shiv_root_for(pyz, "hello-uwsgi")
    log = os.path.join(WORK, "uwsgi-serve.log")
    server = Server(pyz, UWSGI_PORT, root, {"GREETING": "pyuwsgi", "ZIPAPP_WARMUP_PATHS": "/warm",
                                            "UWSGI_HTTP_SOCKET": "127.0.0.1:%d" % UWSGI_PORT}, log)
    try:
        for _ in range(100):  # each worker loads the app after the fork (--lazy-apps): stop once both did, as a
            with open(log) as f:  # deploy does after its health check
                if f.read().count("WSGI app 0 (mountpoint='') ready") >= 2:
                    break
            time.sleep(0.2)
        warmed = workers_warmed(log)
    finally:
        rc = server.stop()
    assert server.first[2] == "<h1>Hello from pyuwsgi in templates/index.html</h1>" and rc == 0
    assert warmed == 2  # each worker loaded the app warmed (--eval of the launcher's warmed_app)
    with open(log) as f:
        assert "graceful shutdown triggered" in f.read()
    report("flask with zipapp_publish_server: pyuwsgi: %s; SIGTERM: graceful shutdown, exit 0"
           % server.first[2].strip())


def test_an_sdist_only_dependency_is_named_with_the_variable_that_allows_it(flask_app):
    requirements = os.path.join(WORK, "requirements-docopt.txt")
    with open(requirements, "w") as f:
        f.write(stock_apps.FLASK_REQUIREMENTS + "docopt==0.6.2\n")
    res = publish(flask_vars(flask_app, zipapp_publish_requirements=requirements, zipapp_publish_version="1.0.1"))
    msg = failure(res)
    assert msg.startswith("pip install failed (rc=1) with the build interpreter ")
    assert ("docopt==0.6.2 is on the index only as a source distribution (sdist), and --only-binary in "
            "zipapp_publish_pip_args refuses to build one: allow it with zipapp_publish_pip_args: "
            '["--only-binary=:all:", --no-binary, docopt]') in msg
    assert "the last lines of its output:\n" in msg and "No matching distribution found for docopt==0.6.2" in msg
    assert not os.path.exists(os.path.join(WORK, "dist", "hello-1.0.1.pyz"))
    report("an sdist-only dependency: %s" % msg.split("; the last lines")[0])


def test_a_compiled_wheel_for_another_cpython_is_refused_at_publish_time(flask_app):
    requirements = os.path.join(WORK, "requirements-orjson.txt")
    with open(requirements, "w") as f:
        f.write(stock_apps.FLASK_REQUIREMENTS + "orjson==3.10.18\n")
    sums = os.path.join(WORK, "artifacts-hello", "SHA256SUMS")
    before = sha(sums)
    res = publish(flask_vars(flask_app, zipapp_publish_requirements=requirements, zipapp_publish_version="1.0.2",
                             zipapp_publish_target_python="3.13"))
    msg = failure(res)
    interpreter = subprocess.run([sys.executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 stdout=subprocess.PIPE, text=True).stdout.strip()
    nodot = interpreter.replace(".", "")
    assert msg.startswith("hello-1.0.2.pyz cannot run on the hosts' CPython 3.13 (zipapp_publish_target_python): ")
    assert "orjson 3.10.18 has only cp%s-cp%s-manylinux" % (nodot, nodot) in msg
    assert "build it with that CPython (zipapp_publish_python: python3.13" in msg
    assert not os.path.exists(os.path.join(WORK, "dist", "hello-1.0.2.pyz")) and sha(sums) == before
    assert "hello-1.0.2.pyz" not in os.listdir(os.path.join(WORK, "artifacts-hello"))
    report("a cp%s wheel against zipapp_publish_target_python 3.13: %s" % (nodot, msg[:400]))


def test_an_artifact_built_before_is_checked_against_the_hosts_cpython_too():
    pyz = os.path.join(WORK, "dist", "hello-%s.pyz" % VERSION)  # Flask: MarkupSafe is a compiled cp3XY wheel
    minor = "%d.%d" % sys.version_info[:2]
    other = "3.13" if minor != "3.13" else "3.12"
    refused = publish(dict(zipapp_publish_artifact=pyz, zipapp_publish_name="hello-prebuilt",
                           zipapp_publish_version=VERSION, zipapp_publish_to=[os.path.join(WORK, "artifacts-prebuilt")],
                           zipapp_publish_target_python=[minor, other]))
    msg = failure(refused)
    assert msg.startswith("hello-prebuilt-%s.pyz cannot run on the hosts' CPython %s (zipapp_publish_target_python)"
                          % (VERSION, other)) and "MarkupSafe 3.0.4 has only cp" in msg, msg
    assert "publish one build per CPython of the fleet" in msg
    assert not os.path.exists(os.path.join(WORK, "artifacts-prebuilt"))
    taken = publish(dict(zipapp_publish_artifact=pyz, zipapp_publish_name="hello-prebuilt",
                         zipapp_publish_version=VERSION, zipapp_publish_to=[os.path.join(WORK, "artifacts-prebuilt")],
                         zipapp_publish_target_python=minor))
    assert taken.returncode == 0, taken.stdout[-3000:]
    assert sha(os.path.join(WORK, "artifacts-prebuilt", "hello-prebuilt-%s.pyz" % VERSION)) == sha(pyz)
    report("an artifact built before, against %s and %s: refused (%s); against %s alone: published"
           % (minor, other, msg[:160], minor))


def test_a_failed_pip_install_of_a_package_shows_pips_own_output():
    requirements = os.path.join(WORK, "requirements-demoapp.txt")
    with open(os.path.join(REPO, "examples", "demoapp", "requirements.txt")) as f:
        text = f.read()
    with open(requirements, "w") as f:
        f.write(text.replace("Django==5.2.19", "Django==5.2.999"))
    res = publish(dict(zipapp_publish_project=os.path.join(REPO, "examples", "demoapp"), zipapp_publish_version="9.9.9",
                       zipapp_publish_entry_point="demoapp.__main__:main", zipapp_publish_requirements=requirements,
                       zipapp_publish_source_date_epoch="1700000000", zipapp_publish_to=[os.path.join(WORK, "x")],
                       zipapp_publish_dist_dir=os.path.join(WORK, "dist")))
    msg = failure(res)
    assert msg.startswith("shiv's pip install failed (rc=1) with the build interpreter ")
    assert "(CPython 3." in msg.split(";")[0]
    assert "the last lines of its output:\n" in msg
    assert "ERROR: No matching distribution found for Django==5.2.999" in msg
    assert "sdist" not in msg  # no source distribution of it either
    report("a failing pip install through shiv: %s ... %s" % (msg.split("; the last lines")[0], msg.splitlines()[-1]))


def test_a_refused_republish_leaves_the_target_and_the_dist_copy_as_they_were(django_project):
    dist_copy = django_pyz()
    before = (sha(dist_copy), sha(os.path.join(WORK, "artifacts", "SHA256SUMS")),
              sha(os.path.join(WORK, "artifacts", os.path.basename(dist_copy))))
    with open(os.path.join(django_project, "templates", "home.html"), "a") as f:
        f.write("<p>changed after 1.0.0 was published</p>\n")
    res = publish(dict(zipapp_publish_project=django_project, zipapp_publish_version=VERSION,
                       zipapp_publish_to=[os.path.join(WORK, "artifacts")],
                       zipapp_publish_build_env={"DJANGO_SECRET_KEY": SECRET}, zipapp_publish_exclude=["notes/"],
                       zipapp_publish_dist_dir=os.path.join(WORK, "dist"),
                       zipapp_publish_source_date_epoch="1767323045"))
    msg = failure(res)
    assert "is already published with sha256 %s, this build is " % before[0] in msg
    assert "a published version is immutable" in msg
    after = (sha(dist_copy), sha(os.path.join(WORK, "artifacts", "SHA256SUMS")),
             sha(os.path.join(WORK, "artifacts", os.path.basename(dist_copy))))
    assert after == before
    assert "TASK [containerless.zipapp.publish : Publish " not in res.stdout  # refused before any target was written
    report("a refused re-publish of %s: the dist copy keeps sha256 %s; %s" % (VERSION, before[0], msg[:200]))


def test_a_requirements_path_relative_to_the_current_directory_is_explained(django_project):
    src = os.path.dirname(django_project)
    res = subprocess.run(["ansible-playbook", "-i", "localhost,", "containerless.zipapp.publish", "-e",
                          json.dumps(dict(zipapp_publish_project="mysite", zipapp_publish_version="2.0.0",
                                          zipapp_publish_requirements="mysite/requirements.txt",
                                          zipapp_publish_to=[os.path.join(WORK, "artifacts")]))],
                         cwd=src, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
                         env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default"))
    msg = failure(res)
    assert ("zipapp_publish_requirements=mysite/requirements.txt is relative to zipapp_publish_project (mysite), "
            "and %s does not exist: mysite/requirements.txt exists relative to the current directory"
            % os.path.join(django_project, "mysite", "requirements.txt")) in msg
    assert "TASK [containerless.zipapp.publish : Build" not in res.stdout
