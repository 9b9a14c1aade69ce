# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The entry point of a zipapp that containerless.zipapp built from a project that brings none of its own.

A Django project as ``django-admin startproject`` lays it out, or a plain WSGI app (Flask's ``app:app``), has
no ``serve`` command that runs a server on systemd's socket. The publish role copies this file into the
zipapp as ``_zipapp_launcher.py``, beside ``_zipapp_launcher.json`` (what the build knew: the layout, the
settings module or the WSGI app, the server and the version), and makes ``_zipapp_launcher:main`` the
zipapp's entry point.

It runs inside the user's zipapp on the host's Python (3.8 or later) and writes nothing: the zipapp's cache
may be read-only and HOME may be ``/`` (systemd's DynamicUser), so no control socket, no bytecode, no
collectstatic at run time (the build did that).
"""

import io
import json
import os
import shlex
import sys

CONFIG_NAME = "_zipapp_launcher.json"
DEFAULT_WORKERS = 2
# Below the deploy role's TimeoutStopSec (zipapp_stop_timeout, 30 s): the requests in flight finish before
# systemd would kill the process.
GRACEFUL_TIMEOUT = 20
DEFAULT_BIND = "127.0.0.1:8000"

USAGE = """\
usage: {prog} COMMAND [ARGS...]

commands:
  serve          run the web server ({server}) on systemd's socket (LISTEN_FDS),
                 else on 127.0.0.1:8000; SIGTERM finishes the requests in flight
                   WEB_CONCURRENCY    worker processes (default 2)
                   GUNICORN_CMD_ARGS  more gunicorn settings, e.g. "--bind 127.0.0.1:9000"
{manage}  version        print the version ({version})
"""
MANAGE_USAGE = """\
  manage ARGS    run a Django management command, e.g. "manage migrate --noinput"
"""


def load_config(path=None):
    """What the build wrote beside this file (layout, settings or WSGI app, server, name, version)."""
    path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), CONFIG_NAME)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def prog():
    """The zipapp's file name, as the user typed it (``demoapp.pyz``), for usage and error messages."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name not in ("", "-c", "__main__.py") else "zipapp"


def usage(config, stream=None):
    text = USAGE.format(prog=prog(), server=config.get("server", "gunicorn"), version=config.get("version"),
                        manage=MANAGE_USAGE if config.get("layout") == "django" else "")
    print(text, end="", file=stream or sys.stderr)


def workers(environ):
    """WEB_CONCURRENCY (the variable gunicorn, Heroku and others use), default 2."""
    raw = (environ.get("WEB_CONCURRENCY") or "").strip() or str(DEFAULT_WORKERS)
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SystemExit("%s: WEB_CONCURRENCY must be a positive integer, got %r" % (prog(), raw))
    return value


def gunicorn_options(config, environ, settings):
    """The gunicorn settings of ``serve`` before GUNICORN_CMD_ARGS; ``settings`` are the names this gunicorn
    knows (``control_socket_disable`` exists from 25.1 on)."""
    options = {
        "workers": workers(environ),
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "accesslog": "-",  # stdout: the journal
        "errorlog": "-",
        "proc_name": config.get("name") or "zipapp",
    }
    if "control_socket_disable" in settings:
        # gunicorn >= 25.1 opens a control socket under $XDG_RUNTIME_DIR or ~/.gunicorn; with HOME=/ and
        # ProtectSystem=strict it cannot, and the arbiter would fail
        options["control_socket_disable"] = True
    return options


def systemd_sockets(environ):
    """Whether systemd handed this process its listening sockets (socket activation)."""
    return environ.get("LISTEN_PID") == str(os.getpid()) and int(environ.get("LISTEN_FDS") or 0) > 0


def fail(message, code=1):
    print("%s: %s" % (prog(), message), file=sys.stderr)
    return code


def configure_django(config, settings_only):
    """DJANGO_SETTINGS_MODULE from the build unless the environment names another; with ``settings_only``
    load and check the settings without setting Django up.

    The arbiter (gunicorn) or master (uWSGI) loads only the settings: django.setup() imports the apps and the
    database driver, and psycopg 3 without its binary extra makes a ctypes callback on import; under systemd's
    MemoryDenyWriteExecute=yes a process that forked after making one aborts at exit (SIGABRT at every stop).
    Each worker sets Django up after the fork instead."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", config["settings"])
    import django
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        if settings_only:
            settings.INSTALLED_APPS  # noqa: B018 (loads and checks the settings)
        else:
            django.setup()
    except ImproperlyConfigured as exc:
        raise SystemExit(fail("configuration error: %s" % exc))


def django_wsgi_module():
    """``module:attr`` of the project's WSGI_APPLICATION (``mysite.wsgi.application``), or None."""
    from django.conf import settings

    path = getattr(settings, "WSGI_APPLICATION", None)
    if not path:
        return None
    module, _sep, attr = path.rpartition(".")
    return "%s:%s" % (module, attr)


def warm_up(application, environ=None):
    """GET each of ZIPAPP_WARMUP_PATHS from ``application`` in this process, with ZIPAPP_WARMUP_HOST as the host.

    The deploy role sets both for the web process; ``serve`` calls this in each worker right after it loaded the
    app, before the worker accepts its first connection. A new instance takes connections from the shared socket
    as soon as its workers run, and Django loads the URL conf, the views and the templates on the first requests
    that need them: without this, the first clients of every new worker would wait for that. Returns the status
    lines; a failure is printed, never raised (the worker starts as it would without warming).
    """
    environ = os.environ if environ is None else environ
    host = environ.get("ZIPAPP_WARMUP_HOST") or "localhost"
    statuses = []
    for path in environ.get("ZIPAPP_WARMUP_PATHS", "").split():
        path_info, _sep, query = path.partition("?")
        request = {
            "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path_info, "QUERY_STRING": query,
            "SERVER_NAME": host.rsplit(":", 1)[0], "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": host, "HTTP_USER_AGENT": "containerless.zipapp warm-up", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        status = []

        def start_response(line, headers, exc_info=None):
            status.append(line)
            return lambda data: None

        try:
            body = application(request, start_response)
            try:
                for _chunk in body:
                    pass
            finally:
                if hasattr(body, "close"):
                    body.close()
        except Exception as exc:  # the app's own error, for its log; the worker goes on
            print("%s: warming %s failed: %r" % (prog(), path, exc), file=sys.stderr)
        statuses.append(status[0] if status else "failed")
    return statuses


def warmed_app():
    """The app, loaded and warmed: what uWSGI's ``--eval`` (UWSGI_EVAL) makes ``application`` of in each worker
    (``--lazy-apps``). uWSGI looks the callable up in a module's dict, so a module attribute made on access would
    not be found."""
    app = load_wsgi_app(load_config())
    warm_up(app)
    return app


UWSGI_EVAL = "import %s as launcher; application = launcher.warmed_app()" % __name__


def load_wsgi_app(config):
    """The WSGI callable, in a worker (after the fork)."""
    if config["layout"] == "django":
        from django.core.servers.basehttp import get_internal_wsgi_application

        return get_internal_wsgi_application()  # WSGI_APPLICATION, as runserver loads it; sets Django up
    import importlib

    module, _sep, attr = config["wsgi_app"].partition(":")
    app = importlib.import_module(module)
    for part in attr.split("."):
        app = getattr(app, part)
    return app


def check_wsgi_module(config):
    """Fail fast in the arbiter when the WSGI app's module is not in the zipapp, without importing it."""
    import importlib.util

    module = config["wsgi_app"].partition(":")[0]
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise SystemExit(fail("the WSGI app %s is not in this zipapp: no module %s" % (config["wsgi_app"], module)))


def apply_cmd_args(cfg, environ):
    """GUNICORN_CMD_ARGS, as gunicorn's own command line applies it (after the launcher's settings)."""
    parser = cfg.parser()
    parsed = parser.parse_args(shlex.split(environ.get("GUNICORN_CMD_ARGS", "")))
    for key, value in vars(parsed).items():
        if value is None or key == "args":
            continue
        cfg.set(key.lower(), value)


def serve(config):
    from gunicorn.app.base import BaseApplication

    if config["layout"] == "django":
        configure_django(config, settings_only=True)
    else:
        check_wsgi_module(config)

    class Server(BaseApplication):
        def load_config(self):
            for key, value in gunicorn_options(config, os.environ, self.cfg.settings).items():
                self.cfg.set(key, value)
            apply_cmd_args(self.cfg, os.environ)

        def load(self):  # in each worker, before its first accept
            app = load_wsgi_app(config)
            warm_up(app)
            return app

    Server(prog="%s serve" % prog()).run()
    return 0


def uwsgi_options(config, environ, code):
    """The uWSGI command line of ``serve`` with pyuwsgi: the same workers and graceful stop as gunicorn, the app
    made by ``code`` (UWSGI_EVAL: loaded and warmed) in each worker after the fork (--lazy-apps), HTTP on systemd's
    socket."""
    args = ["--strict", "--master", "--need-app", "--lazy-apps", "--single-interpreter",
            "--workers", str(workers(environ)), "--eval", code,
            # SIGTERM: the workers finish the request in hand and exit, then the master (uWSGI's own default for
            # SIGTERM is a brutal reload)
            "--hook-master-start", "unix_signal:15 gracefully_kill_them_all",
            "--worker-reload-mercy", str(GRACEFUL_TIMEOUT),
            "--disable-logging", "--log-4xx", "--log-5xx"]
    if systemd_sockets(environ):
        args += ["--protocol", "http"]  # uWSGI takes LISTEN_FDS by itself; they speak HTTP
    elif not any(k in environ for k in ("UWSGI_HTTP_SOCKET", "UWSGI_SOCKET", "UWSGI_HTTP")):
        args += ["--http-socket", DEFAULT_BIND]
    return args


def pyuwsgi_serve(config):
    try:
        import pyuwsgi
    except ImportError:
        return fail("pyuwsgi is not in this zipapp (pin it in the requirements)")
    if config["layout"] == "django":
        configure_django(config, settings_only=True)
        if django_wsgi_module() is None:
            return fail("WSGI_APPLICATION is not set in %s: pyuwsgi needs it" % os.environ["DJANGO_SETTINGS_MODULE"])
    else:
        check_wsgi_module(config)
    # each worker loads the app through warmed_app, which warms it before the worker accepts (warm_up)
    pyuwsgi.run(uwsgi_options(config, os.environ, UWSGI_EVAL))
    return 0


def manage(config, args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", config["settings"])
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["%s manage" % prog()] + list(args))
    except ImproperlyConfigured as exc:
        return fail("configuration error: %s" % exc)
    return 0


def main(argv=None, config=None):
    config = load_config() if config is None else config
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        usage(config)
        return 2
    command, args = argv[0], argv[1:]
    if command in ("-h", "--help", "help") and not args:
        usage(config, sys.stdout)
        return 0
    if command == "version" and not args:
        print(config["version"])
        return 0
    if command == "serve" and not args:
        return pyuwsgi_serve(config) if config.get("server") == "pyuwsgi" else serve(config)
    if command == "manage" and config.get("layout") == "django":
        return manage(config, args)
    if command in ("serve", "version"):
        fail("%s takes no arguments" % command, 2)
    elif command == "manage":
        fail("manage: this zipapp is a WSGI app (%s), not a Django project" % config.get("wsgi_app"), 2)
    else:
        fail("unknown command %r" % command, 2)
    usage(config)
    return 2


if __name__ == "__main__":
    sys.exit(main())
