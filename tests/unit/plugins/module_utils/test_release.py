import json
import os

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _config
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as r


def make_release(layout, version, deployed_at, config=True, cache=None):
    os.makedirs(layout.release(version))
    with open(layout.pyz(version), "w") as f:
        f.write(version)
    r.write_record(layout, version, {"version": version, "sha256": "x", "deployed_at": deployed_at,
                                     "shiv_cache": cache})
    if config:
        cid = _config.write_config(layout, version, _config.desired_config("", "#!/bin/sh\n", {}, {}))
        r.swap_link(layout.config_link(version), cid)


@pytest.fixture
def layout(tmp_path):
    lay = r.Layout(str(tmp_path), "demo")
    os.makedirs(lay.releases)
    return lay


def test_swap_link_is_atomic_and_idempotent(layout):
    assert r.swap_link(layout.current, "releases/1")
    assert os.readlink(layout.current) == "releases/1"
    assert not r.swap_link(layout.current, "releases/1")
    assert r.swap_link(layout.current, "releases/2")
    assert os.readlink(layout.current) == "releases/2"
    assert sorted(os.listdir(layout.app)) == ["current", "releases"]


def test_swap_link_refuses_a_real_directory(layout):
    os.makedirs(layout.current)
    with pytest.raises(r.ReleaseError, match="not a symlink"):
        r.swap_link(layout.current, "releases/1")


def test_link_version(layout):
    assert r.link_version(layout, layout.current) is None
    os.symlink("releases/1.2.3", layout.current)
    assert r.link_version(layout, layout.current) == "1.2.3"


def test_render_start_quotes_every_word_and_execs():
    text = _config.render_start(["/usr/bin/python3", "/opt/z/demo/releases/1/demo.pyz"], ["serve", "it's", "$HOME"], "hdr")
    assert text.splitlines() == [
        "#!/bin/sh",
        "# hdr",
        "exec /usr/bin/python3 /opt/z/demo/releases/1/demo.pyz serve 'it'\"'\"'s' '$HOME' \"$@\"",
    ]


def test_a_pex_start_script_runs_the_venv_and_keeps_pex_root_in_the_state_directory(tmp_path):
    import subprocess
    text = _config.render_start(["/opt/z/demo/releases/1/venv/pex"], ["serve"], "hdr", pex_root=True)
    assert text.splitlines()[-1] == 'exec /opt/z/demo/releases/1/venv/pex serve "$@"'
    script = tmp_path / "start"
    script.write_text(text.replace('exec /opt/z/demo/releases/1/venv/pex serve "$@"', 'printf %s "${PEX_ROOT-unset}"'))
    for env, want in (({"STATE_DIRECTORY": "/var/lib/demo"}, b"/var/lib/demo/.pex"),
                      ({"STATE_DIRECTORY": "/var/lib/demo:/var/lib/other"}, b"/var/lib/demo/.pex"),
                      ({}, b"unset")):
        out = subprocess.run(["/bin/sh", str(script)], env=env, stdout=subprocess.PIPE, check=True).stdout
        assert out == want, env
    assert "PEX_ROOT" not in _config.render_start(["/usr/bin/python3", "/x.pyz"], [], "hdr")


def test_write_config_modes_and_comparison(layout):
    os.makedirs(layout.release("1"))
    old = os.umask(0o077)
    try:
        files = _config.desired_config('A="1"\n', "#!/bin/sh\n", {"demo.service": "[Service]\n"}, {"tok": "s3cr3t"})
        cid = _config.write_config(layout, "1", files)
    finally:
        os.umask(old)
    d = layout.config_dir("1", cid)
    assert cid == "config.1"
    assert os.stat(d).st_mode & 0o777 == 0o755
    assert os.stat(os.path.join(d, "env")).st_mode & 0o777 == 0o600
    assert os.stat(os.path.join(d, "credentials")).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(d, "credentials", "tok")).st_mode & 0o777 == 0o600
    assert os.stat(os.path.join(d, "units", "demo.service")).st_mode & 0o777 == 0o644
    assert _config.config_differences(_config.read_config(d), files) == []
    changed = dict(files, **{"credentials/tok": (b"other", 0o600)})
    assert _config.config_differences(_config.read_config(d), changed) == ["credentials/tok"]
    assert _config.write_config(layout, "1", changed) == "config.2"


def test_config_diff_hides_credential_values():
    old = _config.desired_config('A="1"\n', "s\n", {}, {"tok": "old-secret"})
    new = _config.desired_config('A="2"\n', "s\n", {}, {"tok": "new-secret", "added": "x"})
    diff = _config.config_diff(old, new, "1/config.1", "1/config.2")
    text = json.dumps(diff)
    assert "old-secret" not in text and "new-secret" not in text
    assert diff[0]["before"] == 'A="1"\n' and diff[0]["after"] == 'A="2"\n'
    assert diff[-1]["after"] == "added\ntok (changed)\n"


def test_list_releases_states(layout):
    make_release(layout, "1", "2026-01-01T00:00:00Z")
    make_release(layout, "2", "2026-01-02T00:00:00Z")
    make_release(layout, "3", "2026-01-03T00:00:00Z")
    os.makedirs(layout.release("4"))
    r.swap_link(layout.previous, "releases/2")
    r.swap_link(layout.current, "releases/3")
    states = dict((x["version"], x["state"]) for x in r.list_releases(layout))
    assert states == {"1": "ready", "2": "previous", "3": "live", "4": "incomplete"}


def test_prune_keeps_n_newest_and_never_live_or_previous(layout):
    os.makedirs(layout.shiv)
    for i in range(1, 7):
        cache = os.path.join(layout.shiv, "demo.pyz_%d" % i)
        os.makedirs(cache)
        open(os.path.join(layout.shiv, ".demo.pyz_%d_lock" % i), "w").close()
        open(os.path.join(layout.shiv, ".demo.pyz_%d_compiled" % i), "w").close()
        make_release(layout, str(i), "2026-01-0%dT00:00:00Z" % i, cache=cache)
    # the oldest is live (a rollback), the second oldest previous
    r.swap_link(layout.current, "releases/1")
    r.swap_link(layout.previous, "releases/2")
    removed = r.prune(layout, 3)
    assert removed == ["5", "4", "3"]
    assert sorted(os.listdir(layout.releases)) == ["1", "2", "6"]
    assert sorted(os.listdir(layout.shiv)) == sorted(
        ["demo.pyz_%d" % i for i in (1, 2, 6)] + [".demo.pyz_%d_lock" % i for i in (1, 2, 6)]
        + [".demo.pyz_%d_compiled" % i for i in (1, 2, 6)])


def test_prune_in_check_mode_removes_nothing(layout):
    for i in range(1, 4):
        make_release(layout, str(i), "2026-01-0%dT00:00:00Z" % i)
    r.swap_link(layout.current, "releases/3")
    assert r.prune(layout, 1, check_mode=True) == ["2", "1"]
    assert sorted(os.listdir(layout.releases)) == ["1", "2", "3"]


def test_prune_configs_keeps_linked_and_the_one_before(layout):
    os.makedirs(layout.release("1"))
    for i in range(4):
        _config.write_config(layout, "1", _config.desired_config("%d" % i, "", {}, {}))
    r.swap_link(layout.config_link("1"), "config.3")
    assert r.prune_configs(layout, "1") == ["config.1", "config.4"]
    assert sorted(n for n in os.listdir(layout.release("1")) if n.startswith("config.")) == ["config.2", "config.3"]


def test_failed_releases_are_kept_once_and_never_previous(layout):
    for i in range(1, 6):
        make_release(layout, str(i), "2026-01-0%dT00:00:00Z" % i)
    r.mark_failed(layout, "4", "HTTP 500")
    r.mark_failed(layout, "5", "HTTP 502")
    r.swap_link(layout.current, "releases/3")
    states = dict((x["version"], x["state"]) for x in r.list_releases(layout))
    assert states == {"1": "ready", "2": "ready", "3": "live", "4": "failed", "5": "failed"}
    assert r.newest_good(layout, exclude=("3",)) == "2"
    doomed, kept = r.prune_plan(layout, 2)
    assert sorted(x["version"] for x in doomed) == ["1", "4"]
    assert r.read_record(layout, "5")["failed"]["reason"] == "HTTP 502"


def test_audit_log_appends_json_lines_only_when_the_app_exists(tmp_path):
    lay = r.Layout(str(tmp_path), "demo")
    assert not r.append_audit(lay, {"action": "deploy"})
    os.makedirs(lay.app)
    assert r.append_audit(lay, {"action": "deploy", "result": "ok"})
    assert r.append_audit(lay, {"action": "rollback", "result": "failed"})
    lines = [json.loads(x) for x in open(os.path.join(lay.app, "audit.log"))]
    assert [x["action"] for x in lines] == ["deploy", "rollback"] and all("time" in x for x in lines)
    assert os.stat(os.path.join(lay.app, "audit.log")).st_mode & 0o777 == 0o640


def test_start_script_exports_chosen_credentials_byte_for_byte(tmp_path):
    import subprocess
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "tok").write_text("s3cr3t 'x' $y\n\n")
    text = _config.render_start(["/usr/bin/env", "-0"], [], "hdr", {"API_TOKEN": "tok"})
    script = tmp_path / "start"
    script.write_text(text.replace('exec /usr/bin/env -0 "$@"', 'exec printf %s "$API_TOKEN"'))
    out = subprocess.run(["/bin/sh", str(script)], env={"CREDENTIALS_DIRECTORY": str(creds)},
                         stdout=subprocess.PIPE, check=False).stdout
    assert out == b"s3cr3t 'x' $y\n\n"
    (creds / "tok").unlink()
    res = subprocess.run(["/bin/sh", str(script)], env={"CREDENTIALS_DIRECTORY": str(creds)},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    assert res.returncode == 1 and b"credential tok is missing" in res.stderr


def test_start_script_exports_the_path_of_a_credential(tmp_path):
    """zipapp_secrets_file_env: the variable names the credential's file (the *_FILE convention), the value stays
    in it; a missing credential stops the start."""
    import subprocess
    creds = tmp_path / "creds dir"
    creds.mkdir()
    (creds / "secret_key").write_text("k3y")
    text = _config.render_start(["/usr/bin/env"], [], "hdr", secrets_file_env={"SECRET_KEY_FILE": "secret_key"})
    script = tmp_path / "start"
    script.write_text(text.replace('exec /usr/bin/env "$@"', 'exec cat "$SECRET_KEY_FILE"'))
    res = subprocess.run(["/bin/sh", str(script)], env={"CREDENTIALS_DIRECTORY": str(creds)},
                         stdout=subprocess.PIPE, check=False)
    assert res.returncode == 0 and res.stdout == b"k3y"
    script.write_text(text.replace('exec /usr/bin/env "$@"', 'exec printf %s "$SECRET_KEY_FILE"'))
    out = subprocess.run(["/bin/sh", str(script)], env={"CREDENTIALS_DIRECTORY": str(creds)},
                         stdout=subprocess.PIPE, check=False).stdout
    assert out == str(creds / "secret_key").encode()
    (creds / "secret_key").unlink()
    res = subprocess.run(["/bin/sh", str(script)], env={"CREDENTIALS_DIRECTORY": str(creds)},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    assert res.returncode == 1 and b"credential secret_key is missing" in res.stderr


def test_the_check_a_release_passed_is_recorded_for_its_rollback(layout):
    """mark_healthy keeps the check that passed; recorded_check gives it back to a rollback that names none."""
    make_release(layout, "1.0.0", "2026-12-01T00:00:00Z")
    check = {"path": "/health/", "host": "app.example.com", "address": "", "timeout": 5, "retries": 30, "delay": 1,
             "settle": 3}
    assert r.recorded_check(layout, "1.0.0") is None
    assert r.mark_healthy(layout, "1.0.0", "config.1", check=check)
    assert r.recorded_check(layout, "1.0.0") == check and r.is_healthy(layout, "1.0.0", "config.1")
    since = r.read_record(layout, "1.0.0")["healthy"]["config.1"]
    assert not r.mark_healthy(layout, "1.0.0", "config.1", check=check)  # nothing new: nothing written
    assert r.mark_healthy(layout, "1.0.0", "config.1", check=dict(check, path="/ready"))
    record = r.read_record(layout, "1.0.0")
    assert record["check"]["path"] == "/ready" and record["healthy"]["config.1"] == since
    assert r.recorded_check(layout, "9.9.9") is None
