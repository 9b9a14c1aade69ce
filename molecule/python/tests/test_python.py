"""The host after side_effect, as a checklist.

- the distribution's Python is installed and works
- two standalone builds live side by side in /opt/python/<version>/, nothing else there
- each one reports its version and imports ssl, sqlite3, zlib, ctypes, json, as an unprivileged user
- the install_only layout and its links are intact
- every user can read and run them although root's umask is 077; nobody but root can write
- running them writes nothing into the install (its .pyc files are valid)
- the wrong checksum, check mode and the refused input left nothing behind
- the example app runs on the CPython built from source and answers on 127.0.0.1
- the example app built as a pex runs from the venv built in its release, as its dynamic user, with PEX_ROOT
  in its state directory, and answers on 127.0.0.1
- the build with a cp311 wheel (orjson) was refused on 3.13 and 1.0.0 still serves; on a 3.11 distribution
  Python the same build runs, on another one it left nothing
"""

import json
import os
import urllib.request

import pytest
import yaml

PREFIX = "/opt/python"
APP = "demoapp"
PORT = int(os.environ.get("ZIPAPP_PYTHON_PORT", "18301"))
ARTIFACTS = os.environ.get("ZIPAPP_PYTHON_ARTIFACTS", "http://127.0.0.1:8902")
IMPORTS = "ssl, sqlite3, zlib, ctypes, json"

with urllib.request.urlopen(ARTIFACTS + "/fixtures.yml", timeout=10) as _resp:
    FIXTURES = yaml.safe_load(_resp.read())["python_fixtures"]
BUILDS = [FIXTURES["pbs"], FIXTURES["source"]]
APP_BUILD = FIXTURES["source"]


def minor(version):
    return ".".join(version.split(".")[:2])


def interpreter(build):
    return "%s/%s/bin/python%s" % (PREFIX, build["version"], minor(build["version"]))


def test_the_distributions_python_is_installed_and_works(host):
    release = host.system_info.release.split(".")[0]
    version = {"12": "3.11", "13": "3.13"}[release]
    package = host.package("python" + version)
    assert package.is_installed
    out = host.check_output("/usr/bin/python%s -I -c 'import %s, platform; print(platform.python_version())'"
                            % (version, IMPORTS))
    assert out.startswith(version + ".")


def test_two_standalone_builds_side_by_side_and_nothing_else(host):
    assert sorted(host.file(PREFIX).listdir()) == sorted(b["version"] for b in BUILDS)
    prefix = host.file(PREFIX)
    assert (prefix.user, prefix.mode) == ("root", 0o755)


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b["version"])
def test_each_build_reports_its_version_and_imports_the_essentials_as_nobody(host, build):
    out = host.check_output("runuser -u nobody -- %s -I -c 'import %s, platform; print(platform.python_version())'"
                            % (interpreter(build), IMPORTS))
    assert out == build["version"]


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b["version"])
def test_the_install_only_layout_and_links(host, build):
    home = "%s/%s" % (PREFIX, build["version"])
    m = minor(build["version"])
    assert host.file(home + "/bin/python" + m).is_file
    assert host.file(home + "/bin/python3").linked_to == home + "/bin/python" + m
    assert host.file("%s/lib/python%s/os.py" % (home, m)).is_file


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b["version"])
def test_every_user_can_read_and_run_it_despite_umask_077(host, build):
    home = "%s/%s" % (PREFIX, build["version"])
    unreadable = host.check_output("find %s ! -type l ! -perm -o+r | head -5" % home)
    assert unreadable == ""
    closed_dirs = host.check_output("find %s -type d ! -perm -o+x | head -5" % home)
    assert closed_dirs == ""
    assert host.check_output("find %s/bin -type f ! -perm -o+x | head -5" % home) == ""


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b["version"])
def test_only_root_can_write_and_nothing_is_setuid(host, build):
    home = "%s/%s" % (PREFIX, build["version"])
    assert host.check_output("find %s ! -type l -perm /g+w,o+w | head -5" % home) == ""
    assert host.check_output("find %s ! -type l -perm /u+s,g+s | head -5" % home) == ""
    assert host.check_output("find %s ! -user root | head -5" % home) == ""


def test_running_the_app_build_writes_nothing_into_the_install(host):
    home = "%s/%s" % (PREFIX, APP_BUILD["version"])
    host.check_output("touch /run/zipapp-python-marker && sleep 1.1")
    host.check_output("%s -c 'import %s, email.mime.text, http.client, asyncio, decimal, logging.handlers'"
                      % (interpreter(APP_BUILD), IMPORTS))
    assert host.check_output("find %s -newer /run/zipapp-python-marker | head -5" % home) == ""


def test_the_wrong_checksum_check_mode_and_refused_input_left_nothing(host):
    assert not host.file("/opt/python-wrong").exists
    assert not host.file("/opt/python-check").exists
    leftovers = host.check_output(
        "find / -xdev \\( -name '.zipapp-download-*' -o -name '.zipapp-python-*' -o -name '.cpython-*' \\) "
        "2>/dev/null | head -5")
    assert leftovers == ""


def web_pid(host, app):
    """The main PID of the app's web process: whichever instance of <app>@.service runs."""
    pids = [int(p) for p in host.check_output(
        "systemctl show -P MainPID %s@blue.service %s@green.service" % (app, app)).split() if int(p)]
    assert len(pids) == 1, pids
    return pids[0]


def test_the_app_runs_on_the_cpython_built_from_source(host):
    pid = web_pid(host, APP)
    assert host.file("/proc/%d/exe" % pid).linked_to == interpreter(APP_BUILD)


def test_the_app_answers_on_loopback(host):
    health = json.loads(host.check_output("curl -fsS --max-time 10 http://127.0.0.1:%d/health" % PORT))
    assert health["status"] == "ok"
    assert health["version"] == "1.0.0"
    assert health["python"] == APP_BUILD["version"]


PEX_APP = "demopex"
PEX_RELEASE = "/opt/zipapp/%s/releases/1.0.0" % PEX_APP


def pex_venv(host):
    """The release's venv (venv-<hash of the interpreter path>): exactly one, for /usr/bin/python3."""
    venvs = host.check_output("cd %s && ls -d venv-*" % PEX_RELEASE).split()
    assert len(venvs) == 1, venvs
    return "%s/%s" % (PEX_RELEASE, venvs[0])


def test_the_pex_release_has_a_complete_read_only_venv_and_no_pex_root(host):
    record = json.loads(host.file(PEX_RELEASE + "/release.json").content_string)
    assert record["kind"] == "pex"
    venv = pex_venv(host)
    assert host.file(venv).is_directory and host.file(venv).user == "root" and not host.file(venv).mode & 0o022
    marker = "%s/.%s-complete" % (PEX_RELEASE, os.path.basename(venv))
    assert json.loads(host.file(marker).content_string)["python"] == "/usr/bin/python3"
    assert host.check_output("find %s -maxdepth 1 -name '*pex-root*'" % PEX_RELEASE) == ""
    # readable by everyone although root's umask was 077, writable by nobody but root
    assert host.check_output("find %s ! -type l -perm /022 | head -3" % venv) == ""
    assert host.check_output("find %s ! -type l ! -perm -004 | head -3" % venv) == ""
    start = host.file("/opt/zipapp/%s/current/config/start" % PEX_APP).content_string
    assert "exec %s/pex serve" % venv in start


def test_the_pex_app_runs_from_its_venv_as_its_dynamic_user(host):
    pid = web_pid(host, PEX_APP)
    uid = int(host.check_output("awk '/^Uid:/ {print $2}' /proc/%d/status" % pid))
    assert 61184 <= uid <= 65519, "uid %d is not in systemd's DynamicUser range" % uid
    # systemd's registry of dynamic users names the uid after the app (User=<name> with DynamicUser=yes)
    assert host.file("/run/systemd/dynamic-uid/direct:%d" % uid).linked_to == "/run/systemd/dynamic-uid/" + PEX_APP
    cmdline = host.file("/proc/%d/cmdline" % pid).content.split(b"\0")
    assert (pex_venv(host) + "/pex").encode() in cmdline
    environ = dict(kv.split(b"=", 1) for kv in host.file("/proc/%d/environ" % pid).content.split(b"\0") if b"=" in kv)
    assert environ[b"PEX_ROOT"] == b"/var/lib/%s/.pex" % PEX_APP.encode()


def test_the_pex_app_answers_on_loopback(host):
    health = json.loads(host.check_output("curl -fsS --max-time 10 http://127.0.0.1:%d/health" % (PORT + 1)))
    assert health["status"] == "ok"
    assert health["version"] == "1.0.0"
    assert health["python"] == host.check_output("/usr/bin/python3 -c 'import platform; print(platform.python_version())'")


def system_minor(host):
    return host.check_output("/usr/bin/python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'")


def test_the_cp311_build_was_refused_on_3_13_and_1_0_0_still_serves(host):
    assert host.file("/opt/zipapp/%s/current" % APP).linked_to == "/opt/zipapp/%s/releases/1.0.0" % APP
    pid = web_pid(host, APP)
    assert "/releases/1.0.0/" in host.file("/proc/%d/cmdline" % pid).content.decode("utf-8", "replace")
    audit = [json.loads(line) for line in host.file("/opt/zipapp/%s/audit.log" % APP).content_string.splitlines()]
    assert not any(e.get("version") == "1.1.0-orjson" and e.get("result") == "ok" for e in audit), audit


def test_the_cp311_build_runs_only_on_a_3_11_distribution_python(host):
    unit = host.run("systemctl cat demonative@.service")
    if system_minor(host) == "3.11":
        assert unit.rc == 0
        health = json.loads(host.check_output("curl -fsS --max-time 10 http://127.0.0.1:%d/health" % (PORT + 2)))
        assert health["version"] == "1.1.0+orjson" and health["python"].startswith("3.11.")
    else:
        # refused before anything went live: no unit, no current link
        assert unit.rc != 0
        assert not host.file("/opt/zipapp/demonative/current").exists
