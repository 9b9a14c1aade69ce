# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app's processes, timers and units, from the deploy role's variables.

This is a private module_utils file: its interface may change without notice.

``plan()`` turns ``zipapp_processes`` (or one ``web`` process from ``zipapp_args``/``zipapp_listen``) and
``zipapp_timers`` into: the start scripts and per-process env files of the release's config, one unit
spec per unit file, and the manifest the switch works from (stored with the config as ``manifest.json``).
``units()`` renders every live unit of a plan with ``_units``.

Unit names (a contract: users and tests rely on them):

* ``web`` with a socket and ``handover`` (the default): the template ``<name>@.service``, instances
  ``<name>@blue.service`` (what ``<name>.socket`` activates, and starts with the socket at boot) and
  ``<name>@green.service``, plus their check sockets ``<name>-check@.socket``; ``systemctl status
  '<name>@*'`` shows the live one.
  Without a socket or without handover: ``<name>.service``.
* any other process P: ``<name>-P.service``, with ``instances: N`` ``<name>-P@1..N.service``, with
  ``overlap: true`` (a handover without a socket) ``<name>-P@blue|green.service``;
* timer T: ``<name>-T.timer`` and its one-shot ``<name>-T.service``; ``<name>.socket``; ``<name>.target``.
"""

from ansible_collections.containerless.zipapp.plugins.module_utils import _units

DEFAULT_TIMER_TIMEOUT = 3600


class App:
    """What every unit of the app shares."""

    FIELDS = ("name", "app_dir", "description", "secrets", "state_directory", "ip_address_allow", "managed")

    def __init__(self, name, app_dir, description, secrets=(), state_directory=True, ip_address_allow=(),
                 managed=""):
        self.name = name
        self.app_dir = app_dir
        self.description = description
        self.secrets = sorted(secrets)
        self.state_directory = bool(state_directory)
        self.ip_address_allow = list(ip_address_allow)
        self.managed = managed

    def as_dict(self):
        return dict((f, getattr(self, f)) for f in self.FIELDS)

    @classmethod
    def from_dict(cls, data):
        return cls(**dict((f, data[f]) for f in cls.FIELDS if f in data))


def processes_of(processes, args, listen):
    """``zipapp_processes``, or one ``web`` process from ``zipapp_args``/``zipapp_listen``."""
    if processes:
        return processes
    return {"web": {"args": list(args or []), "listen": listen or ""}}


def web_listen(processes):
    web = processes.get("web") or {}
    return web.get("listen") or ""


def _common(proc, sandbox, service_extra, stop_timeout):
    return {
        "env_file": bool(proc.get("env")),
        "stop_timeout": int(proc.get("stop_timeout") or stop_timeout),
        "kill_signal": proc.get("kill_signal") or "",
        "sandbox": dict(sandbox, **(proc.get("sandbox") or {})),
        "service_extra": list(service_extra) + list(proc.get("service_extra") or []),
    }


def plan(app, processes, timers, sandbox, service_extra=(), stop_timeout=30, handover=True):
    """Scripts, per-process env, unit specs and the manifest of the app (see the module docstring)."""
    name = app.name
    listen = web_listen(processes)
    scripts, process_env, specs = {}, {}, []
    restart, enable_units, handovers = [], [], []
    web_unit = ""
    for pname in sorted(processes):
        proc = processes[pname]
        is_web = pname == "web"
        script = "start" if is_web else "start." + pname
        scripts[script] = list(proc.get("args") or [])
        if proc.get("env"):
            process_env[pname] = dict(proc["env"])
        instances = int(proc.get("instances") or 1)
        base = name if is_web else "%s-%s" % (name, pname)
        overlap = (is_web and bool(listen) and handover) or (not is_web and bool(proc.get("overlap")))
        spec = dict(_common(proc, sandbox, service_extra, stop_timeout), kind="web" if is_web else "process",
                    process=pname, script=script, listen=bool(is_web and listen), render="service",
                    instanced=instances > 1, handover=overlap)
        if overlap:
            spec["file"] = base + "@.service"
            boot = "%s@%s.service" % (base, _units.SLOTS[0])
            handovers.append({"process": pname, "template": spec["file"], "socket": bool(is_web and listen),
                              "stop_timeout": spec["stop_timeout"]})
            enable_units.append(boot)
            if is_web:
                web_unit = boot
        elif instances > 1:
            spec["file"] = base + "@.service"
            units = ["%s@%d.service" % (base, i) for i in range(1, instances + 1)]
            restart += units
            enable_units += units
        else:
            spec["file"] = base + ".service"
            restart.append(spec["file"])
            enable_units.append(spec["file"])
            if is_web:
                web_unit = spec["file"]
        specs.append(spec)
        if overlap and spec["listen"]:
            specs.append({"file": name + "-check@.socket", "render": "check_socket"})
    timer_units = []
    for tname in sorted(timers or {}):
        timer = timers[tname]
        base = "%s-%s" % (name, tname)
        scripts["start." + tname] = list(timer.get("args") or [])
        if timer.get("env"):
            process_env[tname] = dict(timer["env"])
        spec = dict(_common(timer, sandbox, service_extra, stop_timeout), kind="timer", process=tname,
                    script="start." + tname, listen=False, instanced=False, handover=False,
                    timeout=int(timer.get("timeout") or DEFAULT_TIMER_TIMEOUT), on_calendar=timer["on_calendar"],
                    randomized_delay=timer.get("randomized_delay") or "",
                    persistent=bool(timer.get("persistent", True)))
        specs.append(dict(spec, file=base + ".service", render="service"))
        specs.append(dict(spec, file=base + ".timer", render="timer"))
        timer_units.append(base + ".timer")
    socket = name + ".socket" if listen else ""
    if socket:
        specs.append({"file": socket, "render": "socket", "listen": listen, "service": web_unit})
    target = name + ".target"
    # what the target wants by name: not an instance that hands over, whose boot instance is enabled through
    # a .wants link instead (the socket's, or the target's that moves with each handover)
    boot_instances = set("%s@%s.service" % (h["template"][:-len("@.service")], _units.SLOTS[0]) for h in handovers)
    wants = [u for u in enable_units if u not in boot_instances]
    specs.append({"file": target, "render": "target", "wants": wants})
    manifest = {
        "enable": ([socket] if socket else []) + [target] + enable_units + timer_units,
        "restart": restart,
        "handover": handovers,
        "timers": timer_units,
        "socket": socket,
        "target": target,
        "web": web_unit if "web" in processes else "",
        "app": app.as_dict(),
        "specs": [s for s in specs if s["render"] == "service"],
    }
    return {"scripts": scripts, "process_env": process_env, "specs": specs, "manifest": manifest}


def render(app, spec):
    kind = spec["render"]
    if kind == "service":
        return _units.service(app, spec)
    if kind == "timer":
        return _units.timer(app, spec)
    if kind == "socket":
        return _units.socket(app, spec["listen"], spec["service"])
    if kind == "check_socket":
        return _units.check_socket(app)
    if kind == "target":
        return _units.target(app, spec["wants"])
    raise ValueError("unknown unit kind %r" % kind)


def units(app, the_plan):
    """Every live unit of a plan as {file name: text}."""
    return dict((spec["file"], render(app, spec)) for spec in the_plan["specs"])


def web_spec(manifest):
    """The unit spec of the web process (or, without one, of the first process) of a stored manifest."""
    specs = [s for s in manifest.get("specs") or [] if s.get("kind") != "timer"]
    web = [s for s in specs if s.get("kind") == "web"]
    return (web or specs or [None])[0]
