"""The launcher of the django and wsgi layouts (roles/publish/files/zipapp_launcher.py), loaded from its file as
the zipapp loads it; the integration test (tests/integration/test_publish_django.py) runs it inside real builds."""

import importlib.util
import json
import os
import sys

import pytest

LAUNCHER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "publish", "files", "zipapp_launcher.py")

DJANGO = {"layout": "django", "name": "mysite", "version": "1.2.3", "server": "gunicorn", "settings": "mysite.settings"}
WSGI = {"layout": "wsgi", "name": "hello", "version": "0.1", "server": "pyuwsgi", "wsgi_app": "hello_app:app"}


@pytest.fixture
def launcher(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("_zipapp_launcher_under_test", LAUNCHER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["/opt/zipapp/mysite/releases/1.2.3/mysite.pyz"])
    return module


def test_version_and_usage(launcher, capsys):
    assert launcher.main(["version"], DJANGO) == 0
    assert capsys.readouterr().out == "1.2.3\n"
    assert launcher.main([], DJANGO) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: mysite.pyz COMMAND [ARGS...]") and "manage ARGS" in err and "WEB_CONCURRENCY" in err
    assert launcher.main(["--help"], WSGI) == 0
    out = capsys.readouterr().out
    assert "manage" not in out and "pyuwsgi" in out


@pytest.mark.parametrize("argv,config,message", [
    (["serve", "--bind", "x"], DJANGO, "mysite.pyz: serve takes no arguments"),
    (["version", "x"], DJANGO, "mysite.pyz: version takes no arguments"),
    (["migrate"], DJANGO, "mysite.pyz: unknown command 'migrate'"),
    (["manage", "check"], WSGI, "mysite.pyz: manage: this zipapp is a WSGI app (hello_app:app), not a Django project"),
])
def test_bad_usage_exits_2_with_the_usage(launcher, capsys, argv, config, message):
    assert launcher.main(argv, config) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and "usage: mysite.pyz" in err


def test_the_config_is_read_beside_the_launcher(launcher, tmp_path):
    path = tmp_path / launcher.CONFIG_NAME
    path.write_text(json.dumps(DJANGO))
    assert launcher.load_config(str(path)) == DJANGO


def test_gunicorn_options(launcher):
    settings = {"workers": None, "control_socket_disable": None}
    opts = launcher.gunicorn_options(DJANGO, {}, settings)
    assert opts["workers"] == 2 and opts["graceful_timeout"] == 20 < 30  # the deploy role's TimeoutStopSec
    assert opts["control_socket_disable"] is True and opts["proc_name"] == "mysite"
    assert launcher.gunicorn_options(DJANGO, {"WEB_CONCURRENCY": "5"}, settings)["workers"] == 5
    assert "control_socket_disable" not in launcher.gunicorn_options(DJANGO, {}, {"workers": None})  # gunicorn < 25.1
    for bad in ("0", "two", "-1"):
        with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a positive integer"):
            launcher.gunicorn_options(DJANGO, {"WEB_CONCURRENCY": bad}, settings)


def test_gunicorn_cmd_args_come_after_the_launchers_settings(launcher):
    config_module = pytest.importorskip("gunicorn.config")
    cfg = config_module.Config()
    for key, value in launcher.gunicorn_options(DJANGO, {}, cfg.settings).items():
        cfg.set(key, value)
    launcher.apply_cmd_args(cfg, {"GUNICORN_CMD_ARGS": "--bind 127.0.0.1:9000 --workers 3"})
    assert cfg.bind == ["127.0.0.1:9000"] and cfg.workers == 3 and cfg.graceful_timeout == 20


def test_uwsgi_options(launcher, monkeypatch):
    args = launcher.uwsgi_options(WSGI, {"WEB_CONCURRENCY": "3"}, "application = make()")
    assert args[args.index("--eval") + 1] == "application = make()" and args[args.index("--workers") + 1] == "3"
    assert "--lazy-apps" in args  # the app is loaded in each worker, after the fork
    assert "unix_signal:15 gracefully_kill_them_all" in args and args[args.index("--worker-reload-mercy") + 1] == "20"
    assert args[args.index("--http-socket") + 1] == "127.0.0.1:8000" and "--protocol" not in args
    activated = {"LISTEN_PID": str(os.getpid()), "LISTEN_FDS": "1"}
    args = launcher.uwsgi_options(WSGI, activated, "application = make()")
    assert args[args.index("--protocol") + 1] == "http" and "--http-socket" not in args
    assert "--http-socket" not in launcher.uwsgi_options(WSGI, {"UWSGI_HTTP_SOCKET": ":9000"}, "application = x")
    assert launcher.systemd_sockets({"LISTEN_PID": "1", "LISTEN_FDS": "1"}) is False  # another process's


def test_a_wsgi_app_is_loaded_by_module_and_attribute(launcher, tmp_path, monkeypatch):
    (tmp_path / "hello_app.py").write_text("class Holder:\n    def app(self, environ, start_response):\n"
                                           "        return [b'hi']\n\nholder = Holder()\napp = holder.app\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    launcher.check_wsgi_module(WSGI)
    assert launcher.load_wsgi_app(WSGI)(None, None) == [b"hi"]
    assert launcher.load_wsgi_app(dict(WSGI, wsgi_app="hello_app:holder.app"))(None, None) == [b"hi"]
    with pytest.raises(SystemExit) as e:
        launcher.check_wsgi_module(dict(WSGI, wsgi_app="nothere.app:app"))
    assert e.value.code == 1


def test_the_launcher_writes_nothing_and_runs_on_python_3_8():
    """It runs on the host's Python inside a read-only cache: no f-strings beyond 3.8, no walrus-only syntax,
    no file opened for writing."""
    import ast

    with open(LAUNCHER) as f:
        source = f.read()
    ast.parse(source, feature_version=(3, 8))
    assert "open(" in source and '"w"' not in source and "'w'" not in source


def test_warm_up_requests_each_path_in_process_with_the_host(launcher):
    """ZIPAPP_WARMUP_PATHS (the deploy role's) go through the WSGI app itself before the worker accepts."""
    seen = []

    def app(environ, start_response):
        seen.append((environ["PATH_INFO"], environ["QUERY_STRING"], environ["HTTP_HOST"], environ["REQUEST_METHOD"]))
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("the app's own error")
        start_response("302 Found" if environ["PATH_INFO"] == "/" else "200 OK", [("Content-Type", "text/plain")])
        return [b"a", b"b"]

    environ = {"ZIPAPP_WARMUP_PATHS": "/health/ / /boom /login/?next=/", "ZIPAPP_WARMUP_HOST": "app.example.com"}
    assert launcher.warm_up(app, environ) == ["200 OK", "302 Found", "failed", "200 OK"]
    assert seen == [("/health/", "", "app.example.com", "GET"), ("/", "", "app.example.com", "GET"),
                    ("/boom", "", "app.example.com", "GET"), ("/login/", "next=/", "app.example.com", "GET")]
    assert launcher.warm_up(app, {}) == []  # nothing set: nothing requested


def test_warm_up_closes_what_the_app_returns(launcher):
    closed = []

    class Body(list):
        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body([b"x"])

    assert launcher.warm_up(app, {"ZIPAPP_WARMUP_PATHS": "/"}) == ["200 OK"] and closed == [True]


def test_pyuwsgi_evaluates_the_warmed_app_in_each_worker(launcher, monkeypatch):
    """uWSGI runs UWSGI_EVAL (--eval) in each worker and takes ``application`` from what it defines."""
    calls = []
    monkeypatch.setattr(launcher, "load_config", lambda: WSGI)
    monkeypatch.setattr(launcher, "load_wsgi_app", lambda config: calls.append(("load", config["wsgi_app"])) or "app")
    monkeypatch.setattr(launcher, "warm_up", lambda app: calls.append(("warm", app)))
    monkeypatch.setitem(sys.modules, launcher.__name__, launcher)  # importable by its name, as in the zipapp
    namespace = {}
    exec(launcher.UWSGI_EVAL, namespace)  # pylint: disable=exec-used  # what uWSGI does with it
    assert namespace["application"] == "app"
    assert calls == [("load", "hello_app:app"), ("warm", "app")]
