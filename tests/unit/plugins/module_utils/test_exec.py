"""The release's exec script: the one-off unit's settings carried to systemd-run, and the host's zipapp-exec."""

import os
import shlex
import subprocess

from ansible_collections.containerless.zipapp.plugins.module_utils import _exec, _plan, _units

SANDBOX = {"ProtectSystem": "strict", "PrivateTmp": True, "RestrictAddressFamilies": "AF_UNIX AF_INET",
           "SystemCallFilter": ["@system-service", "~@privileged @resources"]}
CONFIG = "/opt/zipapp/demoapp/releases/1.4.2/config"


def app():
    return _plan.App("demoapp", "/opt/zipapp/demoapp", "demoapp zipapp", secrets=["key"],
                     ip_address_allow=["localhost"], managed="#\n# Ansible managed\n#")


def web_spec():
    procs = _plan.processes_of({}, ["serve"], "127.0.0.1:8000")
    return _plan.web_spec(_plan.plan(app(), procs, {}, SANDBOX, ["Nice=5"], 30)["manifest"])


def exec_words(text):
    """The words of the script's `exec systemd-run ...` line, as the shell splits them (with $io and $@)."""
    joined = text.split("\nexec ", 1)[1].replace("\\\n", " ")
    return shlex.split(joined)


def test_service_properties_keep_the_sandbox_and_drop_what_systemd_run_sets():
    unit = _units.service(app(), web_spec(), _units.COMMAND, CONFIG, exec_args=["manage", "check"])
    props = _exec.service_properties(unit)
    assert "EnvironmentFile=%s/env" % CONFIG in props
    assert "LoadCredential=key:%s/credentials/key" % CONFIG in props
    for kept in ("User=demoapp", "DynamicUser=yes", "StateDirectory=demoapp", "ProtectSystem=strict",
                 "PrivateTmp=yes", "SystemCallFilter=~@privileged @resources", "IPAddressAllow=localhost", "Nice=5"):
        assert kept in props, kept
    keys = set(p.split("=", 1)[0] for p in props)
    assert not keys & {"Type", "ExecStart", "Restart", "TimeoutStartSec", "Sockets", "Description", "After"}


def test_service_properties_read_only_the_service_section():
    text = "[Unit]\nDescription=x\nAfter=y\n\n[Service]\n# a comment\nUser=a\n ; another\nKillMode=mixed\n[Install]\nWantedBy=z\n"
    assert _exec.service_properties(text) == ["User=a", "KillMode=mixed"]


def test_the_exec_script_runs_the_release_through_systemd_run():
    text = _exec.render(app(), web_spec(), "Managed by containerless.zipapp: demoapp 1.4.2")
    assert text.startswith("#!/bin/sh\n# Managed by containerless.zipapp: demoapp 1.4.2\n")
    words = exec_words(text)
    assert words[:5] == ["systemd-run", "--quiet", "--wait", "--collect", "--service-type=exec"]
    assert "--unit=demoapp-exec-$$" in words
    props = [words[i + 1] for i, w in enumerate(words) if w == "-p"]
    assert "RestrictAddressFamilies=AF_UNIX AF_INET" in props  # one word for the shell
    assert "User=demoapp" in props and "DynamicUser=yes" in props
    # its own config dir, found when it runs: the same text in every config, a config that is not linked yet
    # runs with its own env and credentials
    assert "EnvironmentFile=${here}/env" in props and "LoadCredential=key:${here}/credentials/key" in props
    assert words[-4:] == ["$io", "/bin/sh", "${here}/run", "$@"]
    # a terminal when the caller has one, the caller's pipes otherwise
    assert "if [ -t 0 ] && [ -t 1 ]; then io=--pty; else io=--pipe; fi" in text


def test_the_exec_script_passes_its_config_dir_and_arguments_as_given(tmp_path):
    """Run the script with a stand-in systemd-run that prints its arguments: the shell expands ${here} only."""
    config = tmp_path / "releases" / "1.0.0" / "config.3"
    config.mkdir(parents=True)
    (tmp_path / "releases" / "1.0.0" / "config").symlink_to("config.3")
    script = config / "exec"
    script.write_text(_exec.render(app(), web_spec(), "header"))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "systemd-run").write_text('#!/bin/sh\nfor a; do printf "<%s>\\n" "$a"; done\n')
    (fake / "systemd-run").chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (fake, os.environ["PATH"]), ZIPAPP_EXEC_TIMEOUT="30")
    out = subprocess.run(["sh", str(tmp_path / "releases" / "1.0.0" / "config" / "exec"), "shell", "-c", "a 'b' $c"],
                         capture_output=True, text=True, env=env, check=True, stdin=subprocess.DEVNULL).stdout
    args = [line[1:-1] for line in out.splitlines()]
    assert "EnvironmentFile=%s/env" % config in args  # the physical dir, not the link it was called through
    assert "RuntimeMaxSec=30" in args and "--pipe" in args
    assert args[-5:] == ["/bin/sh", "%s/run" % config, "shell", "-c", "a 'b' $c"]


def test_the_exec_script_is_valid_shell():
    text = _exec.render(app(), web_spec(), "header")
    assert subprocess.run(["sh", "-n"], input=text.encode(), check=False).returncode == 0
    assert subprocess.run(["sh", "-n"], input=_exec.HOST_SCRIPT.encode(), check=False).returncode == 0


def test_the_host_script_refuses_bad_input_before_anything_runs(tmp_path):
    script = tmp_path / "zipapp-exec"
    script.write_text(_exec.HOST_SCRIPT)

    def run(*args, **env):
        return subprocess.run(["sh", str(script)] + list(args), capture_output=True, text=True, check=False,
                              env=dict(os.environ, ZIPAPP_ROOT=str(tmp_path), **env))

    usage = run("demoapp")
    assert usage.returncode == 2 and "usage: zipapp-exec" in usage.stderr
    bad = run("../etc", "version")
    assert bad.returncode == 2 and "not an app name" in bad.stderr
    if os.geteuid() == 0:
        missing = run("demoapp", "version")
        assert missing.returncode == 2 and "no app demoapp under %s" % tmp_path in missing.stderr
        (tmp_path / "demoapp").mkdir()
        nothing = run("demoapp", "version")
        assert nothing.returncode == 2 and "demoapp has nothing live" in nothing.stderr
        (tmp_path / "demoapp" / "releases" / "1.0.0" / "config").mkdir(parents=True)
        (tmp_path / "demoapp" / "current").symlink_to("releases/1.0.0")
        old = run("demoapp", "version")
        assert old.returncode == 2 and "has no exec script" in old.stderr
        # the live release's exec script gets the arguments as they were given
        (tmp_path / "demoapp" / "releases" / "1.0.0" / "config" / "exec").write_text('printf "<%s>" "$@"\n')
        ran = run("demoapp", "manage", "shell", "-c", "print('a b')")
        assert ran.returncode == 0 and ran.stdout == "<manage><shell><-c><print('a b')>"
        other = run("--root", str(tmp_path / "elsewhere"), "demoapp", "version")
        assert other.returncode == 2 and "no app demoapp under %s/elsewhere" % tmp_path in other.stderr


def test_host_script_wanted_until_it_is_written_as_it_is(tmp_path):
    path = str(tmp_path / "zipapp-exec")
    assert _exec.host_script_wanted(path)
    with open(path, "w") as f:
        f.write(_exec.HOST_SCRIPT)
    os.chmod(path, 0o755)
    assert not _exec.host_script_wanted(path)
    os.chmod(path, 0o700)
    assert _exec.host_script_wanted(path)
