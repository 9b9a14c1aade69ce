import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _names as n
from ansible_collections.containerless.zipapp.plugins.plugin_utils import _checks as c
from ansible_collections.containerless.zipapp.plugins.plugin_utils import _validate_deploy as d


@pytest.mark.parametrize("name", ["demoapp", "a", "my-app-2", "a" * 31])
def test_good_names(name):
    assert n.check_name(name) == []


@pytest.mark.parametrize("name", ["Demo", "my app", "my/app", "1app", "-app", "a" * 32, "app_1", "", "app."])
def test_bad_names_name_the_variable(name):
    errors = n.check_name(name)
    assert len(errors) == 1 and errors[0].startswith("zipapp_name=")


@pytest.mark.parametrize("version", ["1.4.2", "2024.01.1", "1.0.0+build.5", "v2-rc1", "1_0"])
def test_good_versions(version):
    assert n.check_version(version) == []


@pytest.mark.parametrize("version", ["../1", "1/2", "..", "1..2", ".1", "-1", "", "a" * 65, "1 2", "1\n"])
def test_bad_versions(version):
    errors = n.check_version(version)
    assert len(errors) == 1 and "zipapp_version" in errors[0]


@pytest.mark.parametrize("value", [1.1, 1, ["1.0"], None, True])
def test_a_version_that_is_not_a_string_is_refused_not_coerced(value):
    name = "null" if value is None else type(value).__name__
    assert n.check_version(value) == ["zipapp_version must be a quoted string, got %s %r" % (name, value)]


@pytest.mark.parametrize("url", [
    "https://artifacts.example.com/demoapp/demoapp-1.0.pyz",
    "http://127.0.0.1:8900/demoapp-1.0.0.pyz",
    "file:///srv/artifacts/demoapp.pyz",
])
def test_good_urls(url):
    assert c.check_url(url) == []


@pytest.mark.parametrize("url, fragment", [
    ("https://user:secret@artifacts.example.com/a.pyz", "credentials"),
    ("https://token@artifacts.example.com/a.pyz", "credentials"),
    ("ftp://example.com/a.pyz", "must start with"),
    ("artifacts.example.com/a.pyz", "must start with"),
    ("file://host/a.pyz", "file:///"),
    ("https:///a.pyz", "no host"),
    ("https://example.com/dir/", "not a directory"),
    ("https://example.com/a b.pyz", "whitespace"),
])
def test_bad_urls(url, fragment):
    errors = c.check_url(url)
    assert len(errors) == 1 and fragment in errors[0] and errors[0].startswith("zipapp_url")
    assert "secret" not in errors[0]


@pytest.mark.parametrize("checksum", [
    "sha256:" + "a" * 64, "SHA256:" + "0123456789abcdef" * 4, "sha256:https://example.com/SHA256SUMS",
])
def test_good_checksums(checksum):
    assert c.check_checksum(checksum) == []


@pytest.mark.parametrize("checksum", [
    "sha256:" + "a" * 63, "sha256:" + "a" * 65, "sha256:" + "g" * 64, "md5:" + "a" * 32, "a" * 64,
    "sha1:" + "a" * 40, "sha256:", "sha256:ftp://x/SUMS",
])
def test_bad_checksums(checksum):
    errors = c.check_checksum(checksum)
    assert len(errors) == 1 and "zipapp_checksum" in errors[0]


@pytest.mark.parametrize("listen", ["", "127.0.0.1:8000", "8000", "[::1]:8000", "/run/demoapp.sock"])
def test_good_listen(listen):
    assert d.check_listen(listen) == []


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "127.0.0.1:70000", "localhost", "a b:80", "80%", 8000])
def test_bad_listen(listen):
    assert len(d.check_listen(listen)) == 1


@pytest.mark.parametrize("secrets, fragment", [
    ({"../x": "v"}, "not a valid credential id"),
    ({".hidden": "v"}, "not a valid credential id"),
    ({"a/b": "v"}, "not a valid credential id"),
    ({"token": 5}, "zipapp_secrets.token must be a string"),
    ({"token": ""}, "must not be empty"),
])
def test_bad_secrets_never_show_the_value(secrets, fragment):
    errors = n.check_secrets(secrets)
    assert len(errors) == 1 and fragment in errors[0]


def test_secret_values_are_not_echoed():
    errors = n.check_secrets({"token": 123456789})
    assert "123456789" not in errors[0]


@pytest.mark.parametrize("value, ok", [(1, True), (5, True), ("5", True), (0, False), (-1, False), (True, False),
                                       ("five", False), (5.5, False)])
def test_keep_releases(value, ok):
    assert (d.DEPLOY_CHECKS["zipapp_keep_releases"](value) == []) is ok


@pytest.mark.parametrize("path, ok", [
    ("/opt/zipapp", True), ("/", False), ("opt/zipapp", False), ("/opt/../etc", False), ("/opt/zip app", False),
    ("/opt/%h", False),
])
def test_root_paths(path, ok):
    assert (d.DEPLOY_CHECKS["zipapp_root"](path) == []) is ok


def test_sandbox_overrides():
    assert d.check_sandbox({"MemoryDenyWriteExecute": False, "ProcSubset": "pid", "SystemCallFilter": ["@a", "~@b"],
                            "PrivateNetwork": None}) == []
    assert len(d.check_sandbox({"not a directive": "x"})) == 1
    assert len(d.check_sandbox({"Foo": "a\nExecStartPre=/bin/evil"})) == 1


def test_service_extra_lines():
    assert d.check_service_lines(["Nice=5", "LimitNOFILE=65536"]) == []
    assert len(d.check_service_lines(["Nice 5"])) == 1
    assert len(d.check_service_lines(["Nice=5\nUser=root"])) == 1


def test_unknown_variables_are_reported_with_a_suggestion():
    known = {"zipapp_keep_releases", "zipapp_name", "zipapp_python", "zipapp_python_version"}
    errors = c.unknown_variables(["zipapp_keep_relases", "zipapp_name", "other_var", "zipapp_whatever"], known)
    assert errors == [
        "zipapp_keep_relases is not a variable of containerless.zipapp (did you mean zipapp_keep_releases?)",
        "zipapp_whatever is not a variable of containerless.zipapp",
    ]


def test_check_values_runs_only_present_variables():
    errors = c.check_values({"zipapp_name": "Bad Name", "zipapp_version": 1.1}, d.DEPLOY_CHECKS)
    assert [e.split("=")[0].split(" ")[0] for e in errors] == ["zipapp_name", "zipapp_version"]


def test_checks_that_involve_several_variables():
    ok = {"zipapp_secrets": {"tok": "x"}, "zipapp_secrets_env": {"API_TOKEN": "tok"}, "zipapp_listen": "8000",
          "zipapp_private_network": True, "zipapp_health_path": "/health", "zipapp_health_address": "8000"}
    assert d.check_deploy_together(ok) == []
    errors = d.check_deploy_together(dict(ok, zipapp_secrets_env={"API_TOKEN": "other"}, zipapp_listen="",
                                          zipapp_health_address=""))
    assert [e.split(" ")[0].split(".")[0].split("=")[0] for e in errors] == [
        "zipapp_secrets_env", "zipapp_private_network", "zipapp_health_path"]


def test_secret_paths_in_the_environment():
    ok = {"zipapp_secrets": {"secret_key": "x"}, "zipapp_secrets_file_env": {"SECRET_KEY_FILE": "secret_key"}}
    assert d.check_deploy_together(ok) == []
    assert d.DEPLOY_CHECKS["zipapp_secrets_file_env"]({"SECRET_KEY_FILE": "secret_key"}) == []
    assert d.DEPLOY_CHECKS["zipapp_secrets_file_env"]({"1X": "secret_key"}) == [
        "zipapp_secrets_file_env: '1X' is not a valid environment variable name"]
    errors = d.check_deploy_together(dict(ok, zipapp_secrets_file_env={"KEY_FILE": "nope"},
                                          zipapp_secrets_env={"KEY_FILE": "secret_key"}))
    assert errors == ["zipapp_secrets_file_env.KEY_FILE='nope' is not a key of zipapp_secrets",
                      "zipapp_secrets_file_env.KEY_FILE: KEY_FILE is also in zipapp_secrets_env (the value or its "
                      "path: choose one)"]


def test_a_rollback_reads_no_deploy_settings():
    """-e @app.yml without the vault: the rollback neither reads the secrets nor wants a health address."""
    rollback = d.ENTRY_POINTS["rollback"]
    assert "zipapp_secrets" not in rollback.variables() and "zipapp_secrets_env" not in rollback.variables()
    assert rollback.errors({"zipapp_name": "demoapp", "zipapp_health_path": "/health"}) == []


def test_warmup_paths():
    check = d.DEPLOY_CHECKS["zipapp_warmup_paths"]
    assert check(["/", "/health/", "/login?next=/"]) == [] and check([]) == []
    assert check(["health"]) == ["zipapp_warmup_paths[0]='health' must be an absolute URL path such as /health"]
    assert check([""]) == ["zipapp_warmup_paths[0] must not be empty"]
    assert check("/") and check(["/a b"])


def test_secrets_env_names():
    assert d.check_secrets_env({"API_TOKEN": "tok"}) == []
    assert len(d.check_secrets_env({"1X": "tok"})) == 1
    assert len(d.check_secrets_env({"X": "../tok"})) == 1
    assert len(d.check_secrets_env(["X"])) == 1


def test_processes_and_timers():
    good = {"web": {"args": ["serve"], "listen": "127.0.0.1:8000"},
            "worker": {"args": ["worker"], "instances": 2, "stop_timeout": 120, "kill_signal": "SIGINT",
                       "env": {"QUEUE": "default"}, "sandbox": {"MemoryDenyWriteExecute": False}}}
    assert d.check_processes(good) == []
    assert d.check_timers({"tick": {"args": ["manage", "tick"], "on_calendar": "*:0/15", "randomized_delay": "1m"}}) == []
    errors = d.check_processes({"Worker": {"args": []}, "jobs": {"args": ["x"], "listen": "8000", "replicas": 2},
                                "beat": {"args": "x"}, "slow": {"args": ["x"], "kill_signal": "TERM"}})
    assert any("'Worker' is not a valid process name" in e for e in errors)
    assert any("zipapp_processes.jobs has unknown keys replicas" in e for e in errors)
    assert any("zipapp_processes.jobs.listen: only the web process" in e for e in errors)
    assert any("zipapp_processes.beat.args must be a list" in e for e in errors)
    assert any("zipapp_processes.slow.kill_signal='TERM'" in e for e in errors)
    errors = d.check_timers({"tick": {"args": ["x"]}, "web": {"args": ["x"], "on_calendar": "daily"}})
    assert any("zipapp_timers.tick.on_calendar is required" in e for e in errors)
    assert any("'web' is not a valid timer name" in e for e in errors)
    together = d.check_deploy_together({"zipapp_processes": good, "zipapp_args": ["serve"],
                                        "zipapp_timers": {"worker": {"args": ["x"], "on_calendar": "daily"}}})
    assert any(e.startswith("zipapp_args is set together with zipapp_processes") for e in together)
    assert any(e.startswith("zipapp_timers.worker has the name of a process") for e in together)


def test_exec_arguments_must_be_a_non_empty_list_of_strings():
    from ansible_collections.containerless.zipapp.plugins.plugin_utils._validate_deploy import EXEC_CHECKS, check_exec
    assert check_exec(["manage", "shell", "-c", ""]) == []
    assert "got str 'manage check'" in check_exec("manage check")[0]
    assert "non-empty list" in check_exec([])[0]
    assert check_exec(["manage", 1.10]) == ["zipapp_exec[1] must be a string, got float 1.1"]
    assert EXEC_CHECKS["zipapp_exec_timeout"](0) and not EXEC_CHECKS["zipapp_exec_timeout"](60)
