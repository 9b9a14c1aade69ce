from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _transient as t

UNIT = """#
# Ansible managed
#
# containerless.zipapp unit of demo: ...
[Unit]
Description=demo zipapp
After=network-online.target
Requires=demo.socket
After=demo.socket

[Service]
Type=exec
ExecStart=/bin/sh /opt/zipapp/demo/current/config/start
EnvironmentFile=/opt/zipapp/demo/current/config/env
LoadCredential=tok:/opt/zipapp/demo/current/config/credentials/tok
User=demo
DynamicUser=yes
Restart=on-failure
RestartSec=1
ProtectSystem=strict

[Install]
WantedBy=multi-user.target
"""

LAYOUT = rel.Layout("/opt/zipapp", "demo")


def test_canary_points_at_the_release_and_its_own_socket():
    text = t.derive_service(UNIT, LAYOUT, "2.0", "config.3", "canary", socket_unit="demo-canary.socket")
    lines = text.splitlines()
    assert "ExecStart=/bin/sh /opt/zipapp/demo/releases/2.0/config.3/start" in lines
    assert "EnvironmentFile=/opt/zipapp/demo/releases/2.0/config.3/env" in lines
    assert "LoadCredential=tok:/opt/zipapp/demo/releases/2.0/config.3/credentials/tok" in lines
    assert "Requires=demo-canary.socket" in lines and "Requires=demo.socket" not in lines
    assert "After=demo.socket" not in lines and "After=network-online.target" in lines
    assert "Restart=no" in lines and "Restart=on-failure" not in lines and "RestartSec=1" not in lines
    assert "User=demo" in lines and "DynamicUser=yes" in lines and "ProtectSystem=strict" in lines
    assert "[Install]" not in text and "WantedBy" not in text
    assert "Description=demo zipapp (canary)" in lines
    assert "/current/" not in text


def test_release_command_is_a_oneshot_of_run():
    text = t.derive_service(UNIT, LAYOUT, "2.0", "config.3", "release-command",
                            exec_args=["manage", "migrate", "--noinput", "it's $HOME 50%"], timeout=120)
    lines = text.splitlines()
    assert "Type=oneshot" in lines and "Type=exec" not in lines
    assert "TimeoutStartSec=120" in lines
    assert ('ExecStart=/bin/sh /opt/zipapp/demo/releases/2.0/config.3/run manage migrate --noinput '
            '"it\'s $$HOME 50%%"') in lines
    assert "Requires=demo.socket" not in lines


def test_systemd_quote():
    assert t.systemd_quote("plain-word_1.2") == "plain-word_1.2"
    assert t.systemd_quote("two words") == '"two words"'
    assert t.systemd_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert t.systemd_quote("$X") == '"$$X"'
    assert t.systemd_quote("--flag=1") == "--flag=1"
    assert t.systemd_quote("") == '""'


def test_a_throwaway_instance_is_not_part_of_the_app_target():
    unit = UNIT.replace("[Unit]\n", "[Unit]\nPartOf=demo.target\n")
    assert "PartOf" not in t.derive_service(unit, LAYOUT, "2.0", "config.3", "canary", socket_unit="demo-canary.socket")
