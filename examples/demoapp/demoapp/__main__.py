"""Command line entry point of demoapp (the shiv entry point of demoapp.pyz).

    demoapp.pyz serve           run gunicorn in-process
    demoapp.pyz pyuwsgi         run uWSGI in-process (a WITH_PYUWSGI=1 build)
    demoapp.pyz manage ARGS...  run a Django management command
    demoapp.pyz version         print the version
"""

import io
import os
import sys

from demoapp._version import VERSION

USAGE = """\
usage: {prog} COMMAND [ARGS...]

commands:
  serve          run the web server (gunicorn)
                   DEMOAPP_BIND     address(es) to bind, comma-separated
                                    (default 127.0.0.1:8000; ignored under
                                    systemd socket activation)
                   DEMOAPP_WORKERS  number of worker processes (default 2)
  pyuwsgi        run the web server with uWSGI (pyuwsgi; only in a build with
                 WITH_PYUWSGI=1), same variables as serve
  manage ARGS    run a Django management command, e.g. "manage check"
  worker [--queue NAME]
                 process jobs from $STATE_DIRECTORY/queue/NAME (default: default);
                 SIGTERM finishes the job in hand, then exits
  tick           append a line to $STATE_DIRECTORY/ticks.log (a scheduled command)
  version        print the version and exit
"""

DEFAULT_BIND = "127.0.0.1:8000"
DEFAULT_WORKERS = 2


def _prog():
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if name in ("", "-c", "__main__.py"):
        return "python -m demoapp"
    return name


def _usage(stream=sys.stderr):
    print(USAGE.format(prog=_prog()), end="", file=stream)


def _setup_django(settings_only=False):
    """Configure Django in this process; exit 1 with a clear message on bad settings.

    With settings_only, load and validate the settings but do not set Django up. The gunicorn arbiter does
    that: django.setup() would import the database driver, and psycopg 3 without its binary extra makes a
    ctypes callback when it is imported. Under systemd's MemoryDenyWriteExecute=yes (libffi's static
    trampolines), a process that forked after making one aborts at exit ("Fatal Python error: Aborted"
    while garbage-collecting): every stop of the web service, a handover's included, would end in SIGABRT
    and leave the unit failed.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoapp.settings")
    import django
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        if settings_only:
            settings.INSTALLED_APPS  # noqa: B018 (loads and validates the settings)
        else:
            django.setup()
    except ImproperlyConfigured as exc:
        print(f"{_prog()}: configuration error: {exc}", file=sys.stderr)
        sys.exit(1)


def gunicorn_options(environ=None):
    """The gunicorn settings used by ``serve``, derived from the environment."""
    environ = os.environ if environ is None else environ
    bind = [b.strip() for b in environ.get("DEMOAPP_BIND", DEFAULT_BIND).split(",") if b.strip()]
    workers_raw = environ.get("DEMOAPP_WORKERS", "").strip() or str(DEFAULT_WORKERS)
    try:
        workers = int(workers_raw)
        if workers < 1:
            raise ValueError
    except ValueError:
        raise SystemExit(f"{_prog()}: DEMOAPP_WORKERS must be a positive integer, got {workers_raw!r}")
    return {
        # Under systemd socket activation (LISTEN_FDS/LISTEN_PID for this pid)
        # gunicorn uses the inherited sockets and ignores "bind".
        "bind": bind or [DEFAULT_BIND],
        "workers": workers,
        "graceful_timeout": 20,
        "accesslog": "-",  # stdout -> journald
        "errorlog": "-",  # stderr -> journald
        "proc_name": "demoapp",
        # gunicorn >= 25.1 opens a control socket in $XDG_RUNTIME_DIR or
        # ~/.gunicorn/ by default; under a systemd sandbox (HOME=/,
        # ProtectSystem=strict) that cannot be created. Same as --no-control-socket.
        "control_socket_disable": True,
    }


def post_worker_init(worker):
    """Warm the app in each gunicorn worker before its first accept (docs/your-app.md shows this hook).

    The containerless.zipapp deploy role hands the web process ZIPAPP_WARMUP_PATHS (its health path, then
    zipapp_warmup_paths) and ZIPAPP_WARMUP_HOST. A new instance takes connections from the shared socket as soon as
    its workers run, and Django loads the URL conf, the views and the templates on the first requests that need
    them: requested here, in-process, no client waits for that.
    """
    host = os.environ.get("ZIPAPP_WARMUP_HOST", "localhost")
    for path in os.environ.get("ZIPAPP_WARMUP_PATHS", "").split():
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
                   "SERVER_NAME": host, "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": host,
                   "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
                   "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True,
                   "wsgi.run_once": False}
        body = worker.wsgi(environ, lambda status, headers, exc_info=None: None)
        for _chunk in body:
            pass
        getattr(body, "close", lambda: None)()


def serve():
    from gunicorn.app.base import BaseApplication

    options = gunicorn_options()

    class DemoappServer(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)
            self.cfg.set("post_worker_init", post_worker_init)  # each worker warms the app before its first accept

        def load(self):
            from demoapp.wsgi import application

            return application

    # Fail fast in the arbiter (clear message, exit 1) instead of in every worker. Only the settings: Django
    # itself, and with it the database driver, is set up in each worker after the fork (see _setup_django).
    _setup_django(settings_only=True)
    DemoappServer(prog=f"{_prog()} serve").run()
    return 0


def uwsgi_options(environ=None):
    """The uWSGI command line of ``pyuwsgi``: the same bind and workers as ``serve``, and a SIGTERM that
    stops gracefully (uWSGI's own default for SIGTERM is a brutal reload)."""
    environ = os.environ if environ is None else environ
    options = gunicorn_options(environ)
    args = ["--strict", "--master", "--need-app", "--workers", str(options["workers"]),
            "--module", "demoapp.wsgi:application",
            # SIGTERM: the workers finish the request in hand and exit, then the master
            "--hook-master-start", "unix_signal:15 gracefully_kill_them_all",
            "--worker-reload-mercy", str(options["graceful_timeout"]),
            "--disable-logging", "--log-4xx", "--log-5xx", "--single-interpreter"]
    systemd_sockets = environ.get("LISTEN_PID") == str(os.getpid()) and int(environ.get("LISTEN_FDS") or 0) > 0
    if systemd_sockets:
        args += ["--protocol", "http"]  # uWSGI takes LISTEN_FDS by itself; they speak HTTP
    else:
        for bind in options["bind"]:
            args += ["--http-socket", bind]
    return args


def pyuwsgi_serve():
    try:
        import pyuwsgi
    except ImportError:
        print(f"{_prog()}: pyuwsgi is not in this build (examples/build.sh with WITH_PYUWSGI=1 adds it)",
              file=sys.stderr)
        return 2
    # Fail fast in the master (clear message, exit 1) instead of in every worker.
    _setup_django()
    pyuwsgi.run(uwsgi_options())
    return 0


def manage(args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoapp.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line([f"{_prog()} manage", *args])
    except ImproperlyConfigured as exc:
        print(f"{_prog()}: configuration error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        _usage()
        return 2
    command, args = argv[0], argv[1:]
    if command == "serve" and not args:
        return serve()
    if command == "pyuwsgi" and not args:
        return pyuwsgi_serve()
    if command == "manage":
        return manage(args)
    if command == "worker":
        from demoapp.jobs import worker

        return worker(args)
    if command == "tick" and not args:
        from demoapp.jobs import tick

        return tick(args)
    if command == "version" and not args:
        print(VERSION)
        return 0
    if command in ("-h", "--help", "help"):
        _usage(sys.stdout)
        return 0
    if command in ("serve", "pyuwsgi", "version"):
        print(f"{_prog()}: {command} takes no arguments", file=sys.stderr)
    else:
        print(f"{_prog()}: unknown command {command!r}", file=sys.stderr)
    _usage()
    return 2


if __name__ == "__main__":
    sys.exit(main())
