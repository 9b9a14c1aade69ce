"""The one unit renderer and the plan of processes: what systemd gets for each layout."""

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _plan, _units

SANDBOX = {"ProtectSystem": "strict", "PrivateTmp": True, "RestrictNamespaces": False,
           "SystemCallFilter": ["@system-service", "~@privileged @resources"], "Removed": None}


def app(**kw):
    return _plan.App("demoapp", "/opt/zipapp/demoapp", "demoapp zipapp", secrets=["tok", "key"],
                     ip_address_allow=["localhost"], managed="#\n# Ansible managed\n#", **kw)


def the_plan(processes=None, timers=None, handover=True, args=("serve",), listen="127.0.0.1:8000"):
    procs = _plan.processes_of(processes or {}, list(args), listen)
    return _plan.plan(app(), procs, timers or {}, SANDBOX, ["Nice=5"], 30, handover=handover)


def test_one_web_process_with_a_socket_hands_over_on_blue_and_green():
    p = the_plan()
    units = _plan.units(app(), p)
    assert sorted(units) == ["demoapp-check@.socket", "demoapp.socket", "demoapp.target", "demoapp@.service"]
    m = p["manifest"]
    assert m["web"] == "demoapp@blue.service" and m["socket"] == "demoapp.socket"
    assert m["enable"] == ["demoapp.socket", "demoapp.target", "demoapp@blue.service"]
    assert m["restart"] == [] and m["handover"] == [
        {"process": "web", "template": "demoapp@.service", "socket": True, "stop_timeout": 30}]
    assert p["scripts"] == {"start": ["serve"]}
    web = units["demoapp@.service"]
    assert web.startswith("#\n# Ansible managed\n#\n# containerless.zipapp unit of demoapp: web process")
    for line in ("Sockets=demoapp.socket demoapp-check@%i.socket", "Requires=demoapp.socket demoapp-check@%i.socket",
                 "ExecStart=/bin/sh /opt/zipapp/demoapp/current/config/start",
                 "EnvironmentFile=/opt/zipapp/demoapp/current/config/env",
                 "LoadCredential=key:/opt/zipapp/demoapp/current/config/credentials/key",
                 "User=demoapp", "DynamicUser=yes", "StateDirectory=demoapp", "Restart=on-failure",
                 "PrivateTmp=yes", "RestrictNamespaces=no", "SystemCallFilter=@system-service",
                 "SystemCallFilter=~@privileged @resources", "IPAddressAllow=localhost", "Nice=5",
                 "WantedBy=demoapp.socket", "DefaultInstance=blue", "PartOf=demoapp.target"):
        assert line + "\n" in web, line
    assert "Removed" not in web
    assert "ListenStream=127.0.0.1:8000\n" in units["demoapp.socket"]
    assert "Service=demoapp@blue.service\n" in units["demoapp.socket"]
    check = units["demoapp-check@.socket"]
    assert "ListenStream=/run/zipapp/demoapp.%i.sock\n" in check and "PartOf=demoapp@%i.service\n" in check
    assert "Wants=" not in units["demoapp.target"]  # the boot instance comes with the socket


def test_without_handover_the_web_process_is_demoapp_service_as_before():
    p = the_plan(handover=False)
    units = _plan.units(app(), p)
    assert sorted(units) == ["demoapp.service", "demoapp.socket", "demoapp.target"]
    assert p["manifest"]["restart"] == ["demoapp.service"] and p["manifest"]["handover"] == []
    assert "Service=demoapp.service\n" in units["demoapp.socket"]
    assert "Sockets=" not in units["demoapp.service"] and "Requires=demoapp.socket" in units["demoapp.service"]


def test_workers_instances_overlap_and_timers():
    p = the_plan({"web": {"args": ["serve"], "listen": "127.0.0.1:8000"},
                  "worker": {"args": ["worker"], "instances": 2, "env": {"Q": "a"}},
                  "mailer": {"args": ["mail"], "overlap": True, "stop_timeout": 90}},
                 {"tick": {"args": ["tick"], "on_calendar": "*:0/5", "randomized_delay": "30"}})
    units = _plan.units(app(), p)
    m = p["manifest"]
    assert m["restart"] == ["demoapp-worker@1.service", "demoapp-worker@2.service"]
    assert [h["template"] for h in m["handover"]] == ["demoapp-mailer@.service", "demoapp@.service"]
    assert m["timers"] == ["demoapp-tick.timer"]
    assert "ZIPAPP_PROCESS=worker-%i\n" in units["demoapp-worker@.service"]
    assert "EnvironmentFile=/opt/zipapp/demoapp/current/config/env.worker\n" in units["demoapp-worker@.service"]
    mailer = units["demoapp-mailer@.service"]
    assert "Sockets=" not in mailer and "TimeoutStopSec=90\n" in mailer and "DefaultInstance=blue\n" in mailer
    timer = units["demoapp-tick.timer"]
    assert "OnCalendar=*:0/5\n" in timer and "RandomizedDelaySec=30\n" in timer and "Persistent=yes\n" in timer
    one_shot = units["demoapp-tick.service"]
    assert "Type=oneshot\n" in one_shot and "TimeoutStartSec=3600\n" in one_shot and "[Install]" not in one_shot
    assert p["process_env"] == {"worker": {"Q": "a"}}
    assert set(p["scripts"]) == {"start", "start.worker", "start.mailer", "start.tick"}


def test_a_private_network_unit_has_no_ip_allow_list():
    spec = dict(the_plan()["manifest"]["specs"][0], sandbox={"PrivateNetwork": True, "RestrictAddressFamilies": "AF_UNIX"})
    text = _units.service(app(), spec)
    assert "PrivateNetwork=yes\n" in text and "IPAddressAllow" not in text


def test_runtime_units_point_at_the_release_and_never_at_the_apps_socket():
    spec = _plan.web_spec(the_plan()["manifest"])
    config = "/opt/zipapp/demoapp/releases/2.0.0/config.3"
    canary = _units.service(app(), spec, _units.CANARY, config)
    assert canary.startswith(_units.RUNTIME_MARKER + "demoapp: canary of web")
    assert "Sockets=demoapp-canary.socket\n" in canary and "demoapp.socket" not in canary
    assert "ExecStart=/bin/sh %s/start\n" % config in canary and "/current/" not in canary
    assert "Restart=no\n" in canary and "[Install]" not in canary and "PartOf" not in canary
    assert "ListenStream=/run/zipapp/demoapp-canary.sock\n" in _units.canary_socket(app())
    command = _units.service(app(), spec, _units.COMMAND, config, ["manage", "migrate", "--noinput", "a b%$"],
                             timeout=120)
    assert "Type=oneshot\n" in command and "TimeoutStartSec=120\n" in command
    assert "ExecStart=/bin/sh " + config + '/run manage migrate --noinput "a b%%$$"\n' in command
    assert "Sockets=" not in command and "Requires=" not in command


@pytest.mark.parametrize("word, quoted", [
    ("plain", "plain"), ("--flag=1", "--flag=1"), ("a b", '"a b"'), ("100%", "100%%"), ("$HOME", "\"$$HOME\""),
    ('say "hi"\n', '"say \\"hi\\"\\n"'),
])
def test_systemd_quote(word, quoted):
    assert _units.systemd_quote(word) == quoted


def test_the_manifest_keeps_the_specs_the_runtime_units_need():
    m = the_plan()["manifest"]
    assert _plan.App.from_dict(m["app"]).as_dict() == app().as_dict()
    assert _plan.web_spec(m)["kind"] == "web"
    assert _plan.web_spec({"specs": []}) is None
