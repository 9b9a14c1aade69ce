"""Nothing a deploy meets may leave the host broken or exposed.

converge left demoapp 1.0.0 live on 127.0.0.1:18131. Every test drives real ansible-playbook runs (or
real systemd) and reads the host's real state; the tests run in file order.
"""

import base64
import json
import os
import random
import secrets
import shlex
import signal
import string
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "integration"))
from zipapp_testlib import (APP_ROOT, Probe, audit, get, live, main_cmdline, play, record, sh, tree, wait_for,  # noqa
                             web_pid, web_unit)

HOST = "zipapp-faults-" + os.environ.get("ZIPAPP_SUITE", "bookworm")
PORT = 18131
APP = APP_ROOT + "/demoapp"
ARTIFACTS = os.environ.get("ZIPAPP_ARTIFACTS", "http://127.0.0.1:8900")
DIST = os.environ.get("ZIPAPP_DIST", os.path.join(HERE, "..", "..", "..", "examples", "dist"))


def sums():
    with open(os.path.join(DIST, "SHA256SUMS")) as f:
        return dict(line.split()[::-1] for line in f if line.strip())


# ---- bad input: each rejected before any change, by a message that names the variable ---------------

BAD_INPUTS = [
    ({"zipapp_name": "my app"}, "zipapp_name"),
    ({"zipapp_name": "Demo"}, "zipapp_name"),
    ({"zipapp_name": "demo/app"}, "zipapp_name"),
    ({"zipapp_name": "a" * 32}, "zipapp_name"),
    ({"app_version": "../1"}, "zipapp_version"),
    ({"app_version": "1/2"}, "zipapp_version"),
    ({"app_version": 1.10}, "zipapp_version must be a quoted string"),
    ({"app_version": "1 0"}, "zipapp_version"),
    ({"app_version": ""}, "zipapp_version"),
    ({"app_checksum": "sha256:abc"}, "zipapp_checksum"),
    ({"app_checksum": "md5:" + "a" * 32}, "zipapp_checksum"),
    ({"app_checksum": "a" * 64}, "zipapp_checksum"),
    ({"app_checksum": "sha256:" + "a" * 65}, "zipapp_checksum"),
    ({"app_url": "http://deployer:hunter2@127.0.0.1:8900/demoapp-1.0.0.pyz"}, "zipapp_url must not carry credentials"),
    ({"app_url": "ftp://127.0.0.1/demoapp.pyz"}, "zipapp_url"),
    ({"app_url": "127.0.0.1:8900/demoapp.pyz"}, "zipapp_url"),
    ({"zipapp_env": {"1X": "a"}}, "zipapp_env: '1X'"),
    ({"zipapp_env": {"X-Y": "a"}}, "zipapp_env: 'X-Y'"),
    ({"zipapp_env": {"PORT": 8000}}, "zipapp_env.PORT must be a string"),
    ({"zipapp_env": {"DEBUG": True}}, "zipapp_env.DEBUG must be a string"),
    ({"zipapp_env": {"LIST": ["a"]}}, "zipapp_env.LIST must be a string"),
    ({"zipapp_env": {"NUL": "a\u0000b"}}, "zipapp_env.NUL contains a NUL"),
    ({"zipapp_keep_releases": 0}, "zipapp_keep_releases"),
    ({"zipapp_keep_releases": "many"}, "zipapp_keep_releases"),
    ({"zipapp_keep_relases": 3}, "zipapp_keep_relases is not a variable of containerless.zipapp (did you mean "
                                 "zipapp_keep_releases?)"),
    ({"zipapp_download_on": "everywhere"}, "zipapp_download_on"),
    ({"zipapp_secrets": {"../x": "v"}}, "zipapp_secrets: '../x'"),
    ({"zipapp_secrets": {"token": 123456}}, "zipapp_secrets.token must be a string"),
    ({"zipapp_listen": "localhost"}, "zipapp_listen"),
    ({"zipapp_root": "opt/zipapp"}, "zipapp_root"),
    ({"zipapp_python": "python3"}, "zipapp_python"),
    ({"zipapp_python": "/usr/bin/python9"}, "zipapp_python=/usr/bin/python9 is not an executable file"),
    ({"zipapp_sandbox": {"Not A Directive": "x"}}, "zipapp_sandbox"),
    ({"zipapp_service_extra": ["Nice=5\nUser=root"]}, "zipapp_service_extra[0]"),
    ({"zipapp_health_path": "health"}, "zipapp_health_path"),
    ({"zipapp_release_commands": "migrate"}, "zipapp_release_commands"),
    ({"zipapp_args": [1]}, "zipapp_args[0] must be a string"),
    ({"zipapp_private_network": True, "zipapp_listen": ""}, "zipapp_private_network needs zipapp_listen"),
    ({"zipapp_secrets_env": {"TOKEN": "nope"}}, "zipapp_secrets_env.TOKEN='nope' is not a key of zipapp_secrets"),
    ({"zipapp_stop_timeout": "soon"}, "zipapp_stop_timeout"),
]


def test_bad_inputs_are_refused_before_any_change_naming_the_variable():
    before = tree(HOST)
    audit_before = audit(HOST)

    def attempt(case):
        extra, expected = case
        res = play(dict(extra, app_version=extra.get("app_version", "2.0.0")))
        return extra, expected, res

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(attempt, BAD_INPUTS))
    rows, failures = [], []
    for extra, expected, res in results:
        ok = res.returncode != 0 and expected in res.stdout and "hunter2" not in res.stdout
        rows.append("%-4s %-70s %s" % ("ok" if ok else "FAIL", json.dumps(extra)[:70], expected))
        if not ok:
            failures.append((extra, res.stdout[-1500:]))
    print("\n".join(rows))
    assert len(BAD_INPUTS) >= 30
    assert not failures, failures
    assert tree(HOST) == before and audit(HOST) == audit_before
    assert get(PORT)["version"] == "1.0.0"


# ---- the artifact server misbehaves: a clear message, nothing changed --------------------------------

@pytest.mark.parametrize("fault, url, checksum, expected", [
    ("404", "/fault/404/demoapp-2.0.0.pyz", None, "HTTP 404"),
    ("500", "/fault/500/demoapp-2.0.0.pyz", None, "HTTP 500"),
    ("truncated body", "/fault/truncate/demoapp-2.0.0.pyz", None, "truncated"),
    ("wrong checksum", "/demoapp-2.0.0.pyz", "sha256:" + "0" * 64, "sha256 mismatch"),
    ("stall past the timeout", "/fault/stall/demoapp-2.0.0.pyz", None, "stalled"),
])
def test_artifact_server_faults_change_nothing(fault, url, checksum, expected):
    before = tree(HOST)
    extra = {"app_version": "2.0.0", "app_url": ARTIFACTS + url,
             "app_checksum": checksum or "sha256:" + sums()["demoapp-2.0.0.pyz"]}
    start = time.time()
    res = play(extra)
    assert res.returncode != 0
    assert expected in res.stdout and "nothing was changed" in res.stdout, res.stdout[-2000:]
    assert time.time() - start < 120
    assert tree(HOST) == before
    assert audit(HOST)[-1]["result"] == "failed"
    assert get(PORT)["version"] == "1.0.0"
    assert sh(HOST, "find / -xdev -name '.zipapp-download-*' 2>/dev/null") == ""


def test_a_full_disk_during_the_download_leaves_no_partial_release():
    releases = APP + "/releases"
    # the releases dir becomes a tmpfs with room for what is there plus 2 MB
    used = int(sh(HOST, "du -sk %s | cut -f1" % releases).split()[0])
    sh(HOST, "set -e; cp -a {r} /root/releases.keep; mount -t tmpfs -o size={k}k,mode=0755 tmpfs {r}; "
             "cp -a /root/releases.keep/. {r}/".format(r=releases, k=used + 2048))
    try:
        before = tree(HOST)
        res = play({"app_version": "2.0.0"})
        assert res.returncode != 0
        assert "no space left on device" in res.stdout and "nothing was changed" in res.stdout, res.stdout[-2000:]
        assert tree(HOST) == before
        assert sh(HOST, "ls -a %s" % releases).split() == [".", "..", "1.0.0"]
        assert get(PORT)["version"] == "1.0.0"
    finally:
        sh(HOST, "umount %s && rm -rf /root/releases.keep" % releases)
    assert sh(HOST, "ls %s" % releases).split() == ["1.0.0"]


def test_a_release_that_cannot_start_is_never_switched_in():
    before = tree(HOST)
    with Probe(PORT) as probe:
        # no secret key: the app exits at start, as a release with a broken setting would
        res = play({"app_version": "2.0.0", "zipapp_secrets": {"unrelated": "x"}})
    assert res.returncode != 0 and "failed its canary check" in res.stdout
    assert "No secret key" in res.stdout  # the canary's journal is in the message
    assert probe.failed == 0 and probe.versions == {"1.0.0"}
    after = tree(HOST)
    assert all("/releases/2.0.0" in line or "/releases " in line or "/shiv" in line
               for line in set(after.splitlines()) ^ set(before.splitlines()))
    assert live(HOST) == "1.0.0" and record(HOST, "2.0.0")["failed"]


# ---- secrets -------------------------------------------------------------------------------------------

def test_secrets_never_show_in_output_journal_or_environment():
    secret = "s3-" + secrets.token_hex(12)
    key = "key-" + secrets.token_hex(20)
    extra = {"app_version": "2.0.0", "zipapp_secrets": {"django_secret_key": key, "api_token": secret}}
    outputs = [play(extra, verbosity=3), play(extra)]
    assert outputs[0].returncode == 0, outputs[0].stdout[-3000:]
    assert "changed=0" in outputs[1].stdout.split("PLAY RECAP")[-1]
    for res in outputs:
        assert secret not in res.stdout and key not in res.stdout
    journal = sh(HOST, "journalctl --no-pager -o cat")
    assert secret not in journal and key not in journal
    config = APP + "/current/config/credentials"
    assert sh(HOST, "stat -c '%a %U' {c} {c}/api_token {c}/django_secret_key".format(c=config)).split() == [
        "700", "root", "600", "root", "600", "root"]
    pid = web_pid(HOST)
    environ = sh(HOST, "cat /proc/%s/environ" % pid)
    assert secret not in environ and key not in environ
    assert set(get(PORT)["credentials"]) == {"api_token", "django_secret_key"}
    # ... unless explicitly asked: then in the environment, byte for byte
    res = play(dict(extra, zipapp_secrets_env={"API_TOKEN": "api_token"}))
    assert res.returncode == 0 and secret not in res.stdout
    pid = web_pid(HOST)
    assert "API_TOKEN=%s\0" % secret in sh(HOST, "cat /proc/%s/environ" % pid)


# ---- env values round-trip through systemd's own parser ------------------------------------------------

ALPHABET = (string.ascii_letters + string.digits + " \t\n\r'\"$`\\#;%{}()[]=*?!&|<>~^,.:/@-_+"
            + "éßüñøΩЖ中文日本語한국어🙂🚀\u2028\u00a0\u200b")


def random_value(rng):
    n = rng.choice([0, 1, 2, 5, 20, 80])
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def render_env_file(values):
    """The collection's own renderer (plugins/module_utils/_envfile.py, which imports nothing else)."""
    import importlib.util
    path = os.path.join(HERE, "..", "..", "..", "plugins", "module_utils", "_envfile.py")
    spec = importlib.util.spec_from_file_location("zipapp_envfile", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.render_env_file(values)


def test_env_values_round_trip_through_systemd():
    seed = int(os.environ.get("ZIPAPP_FUZZ_SEED", "20261129"))
    rng = random.Random(seed)
    print("env fuzz seed", seed)
    values = dict(("V%03d" % i, random_value(rng)) for i in range(400))
    values.update(EDGE_BACKSLASH_NEWLINE="a\\\nb", EDGE_TRAILING="x\\", EDGE_QUOTES='"\'"', EDGE_CRLF="\r\n")
    text = render_env_file(values)
    sh(HOST, "cat > /root/fuzz.env <<'ZIPAPP_EOF'\n%sZIPAPP_EOF" % text.replace("ZIPAPP_EOF", "ZIPAPP-EOF"))
    assert "ZIPAPP_EOF" not in text
    out = sh(HOST, "rm -f /root/fuzz.json; systemd-run --wait -q -p EnvironmentFile=/root/fuzz.env "
                   "-p StandardOutput=file:/root/fuzz.json /usr/bin/python3 -c "
                   + shlex.quote("import json, os; print(json.dumps(dict(os.environ)))")
                   + " && cat /root/fuzz.json")
    got = json.loads(out.strip().splitlines()[-1])
    wrong = [k for k, v in values.items() if got.get(k) != v]
    assert not wrong, [(k, values[k], got.get(k)) for k in wrong[:5]]


def yaml_unsafe(value):
    """A YAML double-quoted scalar, tagged !unsafe when it holds a brace: Ansible must not template a
    literal {{ or {%. (ansible-core 2.19 cannot load !unsafe on some one-character values such as "&" or
    "=", so only the values that need the tag get it.)"""
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif " " <= c <= "~":
            out.append(c)
        elif c in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        elif ord(c) > 0xFFFF:
            out.append("\\U%08x" % ord(c))
        else:
            out.append("\\u%04x" % ord(c))
    return ('!unsafe "%s"' if "{" in value else '"%s"') % "".join(out)


def test_env_values_round_trip_through_the_role(tmp_path):
    rng = random.Random(7)
    env = dict(("FUZZ_%02d" % i, random_value(rng)) for i in range(40))
    env["FUZZ_JINJA"] = "{{ not templated }} {% raw %} {#"
    vars_file = tmp_path / "env.yml"
    vars_file.write_text("zipapp_env:\n" + "".join("  %s: %s\n" % (k, yaml_unsafe(v)) for k, v in sorted(env.items())))
    res = play({"app_version": "2.0.0"}, "@" + str(vars_file))
    assert res.returncode == 0, res.stdout[-3000:]
    pid = web_pid(HOST)
    raw = sh(HOST, "base64 -w0 /proc/%s/environ" % pid)
    got = dict(p.split("=", 1) for p in base64.b64decode(raw).decode("utf-8").split("\0") if "=" in p)
    assert dict((k, got.get(k)) for k in env) == env


# ---- ansible-playbook killed at random points of an upgrade ---------------------------------------------

def kill_seeds():
    if os.environ.get("ZIPAPP_KILL_TRIALS"):
        return [random.SystemRandom().randrange(1 << 30) for _ in range(int(os.environ["ZIPAPP_KILL_TRIALS"]))]
    return [int(s) for s in os.environ.get("ZIPAPP_KILL_SEEDS", "11,23,37,41").split(",")]


def verified(version):
    rec = record(HOST, version)
    actual = sh(HOST, "sha256sum %s/releases/%s/demoapp.pyz" % (APP, version)).split()[0]
    config = sh(HOST, "readlink %s/releases/%s/config" % (APP, version)).strip()
    return rec["sha256"] == actual and config.startswith("config.") and \
        sh(HOST, "test -d %s/releases/%s/%s && echo yes" % (APP, version, config)).strip() == "yes"


@pytest.mark.parametrize("seed", kill_seeds())
def test_a_killed_upgrade_leaves_a_working_host_and_the_next_run_converges(seed):
    rng = random.Random(seed)
    target = "1.0.0" if live(HOST) == "2.0.0" else "2.0.0"
    delay = rng.uniform(0.5, 12.0)
    print("kill trial seed %d: upgrade %s -> %s, SIGKILL after %.2f s" % (seed, live(HOST), target, delay))
    # a new config each time, so every upgrade really has work to do
    extra = {"app_version": target, "zipapp_env": {"TRIAL": str(seed)}}
    proc = play(extra, background=True)
    try:
        proc.wait(timeout=delay)
    except Exception:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # whatever moment it died at: current names a complete, verified release and the app answers
    now = live(HOST)
    assert now in ("1.0.0", "2.0.0") and verified(now)
    assert wait_for(PORT, seconds=90) is not None
    # the next run converges (the lock decides: a step still running on the host is waited for)
    res = play(extra)
    assert res.returncode == 0, res.stdout[-3000:]
    assert live(HOST) == target and wait_for(PORT, target, seconds=30)
    assert "/releases/%s/demoapp.pyz" % target in main_cmdline(HOST)
    # no lock, no canary left; the one check socket is the live instance's
    slot = sh(HOST, "systemctl is-active --quiet demoapp@blue.service && echo blue || echo green").strip()
    assert sh(HOST, "ls /run/zipapp").split() == ["demoapp.%s.sock" % slot, "demoapp.step"]
    assert sh(HOST, "ls /run/systemd/system").split() == []


# ---- the sandbox ---------------------------------------------------------------------------------------

def exposure(unit):
    out = sh(HOST, "systemd-analyze security --no-pager %s" % unit)
    return float(out.rsplit("Overall exposure level for", 1)[1].split(":")[1].split()[0])


def test_the_default_unit_scores_0_9_or_better():
    assert exposure("demoapp@blue.service") <= 0.9 and exposure("demoapp@green.service") <= 0.9


def test_a_private_network_scores_0_2_and_still_answers_through_its_socket():
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    extra = {"zipapp_name": "privnet", "app_version": "2.0.0", "zipapp_listen": "127.0.0.1:18132",
             "zipapp_private_network": True}
    res = play(extra, inventory=inventory)
    assert res.returncode == 0, res.stdout[-3000:]
    assert get(18132)["version"] == "2.0.0"
    assert exposure("privnet@blue.service") <= 0.2
    unit = sh(HOST, "cat /etc/systemd/system/privnet@.service")
    assert "PrivateNetwork=yes" in unit and "RestrictAddressFamilies=AF_UNIX\n" in unit
    assert "IPAddressAllow" not in unit


def test_without_handover_the_web_process_restarts_in_place_and_can_switch_to_a_handover():
    port = 18133
    small = {"zipapp_name": "small", "zipapp_listen": "127.0.0.1:%d" % port, "zipapp_handover": False}
    res = play(dict(small, app_version="1.0.0"))
    assert res.returncode == 0, res.stdout[-3000:]
    assert web_unit(HOST, "small") == "small.service"
    units = sh(HOST, "ls /etc/systemd/system | grep '^small'").split()
    assert "small.service" in units and "small@.service" not in units and "small-check@.socket" not in units
    with Probe(port) as probe:
        res = play(dict(small, app_version="2.0.0"))
    assert res.returncode == 0, res.stdout[-3000:]
    # the socket held the connections while the one process restarted: none failed, some waited
    assert probe.failed == 0 and probe.versions == {"1.0.0", "2.0.0"}
    assert web_unit(HOST, "small") == "small.service" and "/releases/2.0.0/" in main_cmdline(HOST, "small")
    with Probe(port) as probe:
        res = play(dict(small, app_version="2.0.0", zipapp_handover=True))
    assert res.returncode == 0, res.stdout[-3000:]
    assert probe.failed == 0 and max(probe.latencies) < 1.0  # nobody waited for the new instance to boot
    assert web_unit(HOST, "small") == "small@blue.service"
    assert sh(HOST, "test -e /etc/systemd/system/small.service || echo gone").strip() == "gone"
