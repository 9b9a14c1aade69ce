"""Build and publish, and S3 as a deploy source, end to end (scripts/run-publish-tests).

Real ansible-playbook runs of ``containerless.zipapp.publish`` and ``containerless.zipapp.deploy`` against:
a directory, a loopback HTTP repository that takes PUT with a bearer token (put_server.py), a real
S3-compatible server on loopback (``moto_server``, started here), and a real systemd test host (a container
named zipapp-publish-host, host network). The tests run in file order; each starts from what the one before
left. Ports: 18760 (moto), 18761 (PUT repository), 18762 (the app).

What it shows: two builds of the example app (and a third from a copy of the project elsewhere) are
byte-identical; publishing to all three targets writes the artifact and its SHA256SUMS line and keeps the
other lines; publishing again changes nothing; a different build of a published version is refused
everywhere with nothing changed, the copy in the dist directory included; secrets never show in the output (-vvv); the deploy role fetches the
release from S3 on the controller, verifies it against the SHA256SUMS in S3 and the app answers.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import put_server  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = os.path.join(REPO, ".cache", "publish-test")
BUILD_DIR = os.path.join(WORK, "build")  # kept between runs: the build venv
PROJECT = os.path.join(REPO, "examples", "demoapp")
MOTO_PORT, PUT_PORT, APP_PORT = 18760, 18761, 18762
HOST = "zipapp-publish-host"
VERSION = "3.0.0"
FILE = "demoapp-%s.pyz" % VERSION
TOKEN = "put-token-5f1d0c9a"  # never in the output
S3_KEYS = {"access": "publish-access-key", "secret": "s3-secret-9b7e4a21"}  # moto takes any
OTHER_LINE = "%s  other-0.1.pyz" % ("ab" * 32)
REPORT = os.path.join(WORK, "report.txt")


def report(line):
    print(line)
    with open(REPORT, "a") as f:
        f.write(line + "\n")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def playbook(name, extra, inventory=None, verbosity=0, timeout=900):
    cmd = ["ansible-playbook", "containerless.zipapp." + name]
    if inventory:
        cmd += ["-i", inventory]
    cmd += ["-e", json.dumps(extra)]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default")
    for k in [k for k in env if k.startswith("AWS_")]:
        del env[k]  # only what the variables say
    t0 = time.time()
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=timeout)
    res.seconds = time.time() - t0
    return res


def recap(res, host):
    m = re.search(r"^%s\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)" % re.escape(host),
                  res.stdout, re.M)
    assert m, res.stdout[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups())))


def task_status(res, task):
    """'changed', 'ok', 'failed' or 'skipping' of the first host line after the TASK header ``task``."""
    block = res.stdout.split("TASK [containerless.zipapp.publish : %s" % task, 1)[1]
    m = re.search(r"^(changed|ok|failed|fatal|skipping)", block, re.M)
    return m.group(1)


@pytest.fixture(scope="module")
def s3():
    boto3 = pytest.importorskip("boto3")
    log = open(os.path.join(WORK, "moto.log"), "w")
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "127.0.0.1",
                             "-p", str(MOTO_PORT)], stdout=log, stderr=subprocess.STDOUT)
    client = boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % MOTO_PORT, region_name="us-east-1",
                          aws_access_key_id=S3_KEYS["access"], aws_secret_access_key=S3_KEYS["secret"])
    for _ in range(100):
        assert proc.poll() is None, open(log.name).read()
        try:
            client.list_buckets()
            break
        except Exception:
            time.sleep(0.2)
    client.create_bucket(Bucket="artifacts")
    client.put_object(Bucket="artifacts", Key="demoapp/SHA256SUMS", Body=(OTHER_LINE + "\n").encode())
    yield client
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def http_repo():
    root = os.path.join(WORK, "http-repo")
    os.makedirs(os.path.join(root, "raw", "demoapp"))
    with open(os.path.join(root, "raw", "demoapp", "SHA256SUMS"), "w") as f:
        f.write(OTHER_LINE + "\n")
    srv = put_server.start(root, token=TOKEN, ports=[PUT_PORT])
    yield srv, "http://127.0.0.1:%d/raw/demoapp/" % PUT_PORT, os.path.join(root, "raw", "demoapp")
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def test_host():
    suite = os.environ.get("ZIPAPP_SUITE", "bookworm")
    subprocess.run(["docker", "rm", "-f", HOST], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["docker", "run", "-d", "--name", HOST, "--network", "host", "--cap-add", "SYS_ADMIN",
                    "--cap-add", "SYS_PTRACE", "--security-opt", "seccomp=unconfined", "--security-opt",
                    "apparmor=unconfined", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run",
                    "--tmpfs", "/run/lock", "--tmpfs", "/tmp", "containerless-zipapp-host:" + suite],
                   check=True, stdout=subprocess.DEVNULL)
    state = ""
    for _ in range(60):
        state = subprocess.run(["docker", "exec", HOST, "systemctl", "is-system-running", "--wait"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(1)
    assert state in ("running", "degraded"), state
    inventory = os.path.join(WORK, "inventory.yml")
    with open(inventory, "w") as f:
        f.write("all:\n  hosts:\n    %s:\n      ansible_connection: community.docker.docker\n"
                "      ansible_python_interpreter: /usr/bin/python3\n" % HOST)
    yield inventory
    if not os.environ.get("ZIPAPP_KEEP_HOST"):
        subprocess.run(["docker", "rm", "-f", HOST], stdout=subprocess.DEVNULL)


@pytest.fixture(scope="module", autouse=True)
def workdir():
    for name in os.listdir(WORK) if os.path.isdir(WORK) else []:
        if name != "build":
            path = os.path.join(WORK, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
    os.makedirs(os.path.join(WORK, "dir-target"), exist_ok=True)
    with open(os.path.join(WORK, "dir-target", "SHA256SUMS"), "w") as f:
        f.write(OTHER_LINE + "\n")
    yield


@pytest.fixture(scope="module")
def signing_key(workdir):
    """An Ed25519 key as a release manager makes it: (its public key line, the base64 body of the private key)."""
    os.makedirs(os.path.dirname(SIGNING_KEY), mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "demoapp releases", "-f", SIGNING_KEY],
                   check=True)
    with open(SIGNING_KEY + ".pub") as f:
        pub = f.read().strip()
    with open(SIGNING_KEY) as f:
        body = [line for line in f.read().splitlines() if not line.startswith("-----")]
    return pub, body


def ssh_keygen_verifies(pub, sums_path, sig_path):
    allowed = os.path.join(WORK, "keys", "allowed_signers")
    with open(allowed, "w") as f:
        f.write('releases namespaces="file" %s\n' % pub)
    with open(sums_path, "rb") as data:
        res = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "releases", "-n", "file", "-s",
                              sig_path], stdin=data, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return res.returncode == 0, res.stdout.strip()


def publish_vars(dist, to, **extra):
    v = dict(zipapp_publish_project=PROJECT, zipapp_publish_version=VERSION,
             zipapp_publish_version_file="demoapp/_version.py", zipapp_publish_entry_point="demoapp.__main__:main",
             zipapp_publish_build_dir=BUILD_DIR, zipapp_publish_dist_dir=os.path.join(WORK, dist),
             zipapp_publish_to=to)
    v.update(extra)
    return v


def srv_url(http_repo):
    return http_repo[1]


def all_targets(http_repo):
    return [os.path.join(WORK, "dir-target"), http_repo[1], "s3://artifacts/demoapp/"]


SIGNING_KEY = os.path.join(WORK, "keys", "release-signing")  # made by the signing_key fixture, never copied

TARGET_VARS = dict(zipapp_publish_headers={"Authorization": "Bearer " + TOKEN}, zipapp_publish_signing_key=SIGNING_KEY,
                   zipapp_publish_s3_endpoint_url="http://127.0.0.1:%d" % MOTO_PORT,
                   zipapp_publish_s3_access_key=S3_KEYS["access"], zipapp_publish_s3_secret_key=S3_KEYS["secret"])


def test_two_builds_of_the_same_source_are_byte_identical(tmp_path):
    first = playbook("publish", publish_vars("dist-1", [os.path.join(WORK, "dir-target")]))
    assert first.returncode == 0, first.stdout[-3000:]
    second = playbook("publish", publish_vars("dist-2", [os.path.join(WORK, "dir-target")]))
    assert second.returncode == 0, second.stdout[-3000:]
    assert task_status(second, "Build %s" % FILE) == "changed"  # really built again, into an empty dist dir
    assert task_status(second, "Publish %s" % FILE) == "ok"  # and the same bytes were there already
    # a copy of the project somewhere else, with the commit time given instead of read from git
    epoch = subprocess.run(["git", "log", "-1", "--format=%ct", "--", "."], cwd=PROJECT, stdout=subprocess.PIPE,
                           text=True, check=True).stdout.strip()
    copy = str(tmp_path / "elsewhere" / "demoapp")
    shutil.copytree(PROJECT, copy)
    third = playbook("publish", publish_vars("dist-3", [os.path.join(WORK, "dir-target")],
                                             zipapp_publish_project=copy, zipapp_publish_source_date_epoch=epoch))
    assert third.returncode == 0, third.stdout[-3000:]
    sums = [sha(os.path.join(WORK, d, FILE)) for d in ("dist-1", "dist-2", "dist-3")]
    report("build 1 (%.0f s): %s  %s" % (first.seconds, sums[0], FILE))
    report("build 2 (%.0f s): %s  %s" % (second.seconds, sums[1], FILE))
    report("build 3 from a copy at another path (%.0f s): %s  %s" % (third.seconds, sums[2], FILE))
    assert sums[0] == sums[1] == sums[2]
    with open(os.path.join(WORK, "dist-1", FILE), "rb") as a, open(os.path.join(WORK, "dist-3", FILE), "rb") as b:
        assert a.read() == b.read()
    assert sha(os.path.join(WORK, "dir-target", FILE)) == sums[0]


def test_publish_to_a_directory_http_and_s3(http_repo, s3, signing_key):
    res = playbook("publish", publish_vars("dist-1", all_targets(http_repo), **TARGET_VARS), verbosity=3)
    assert res.returncode == 0, res.stdout[-5000:]
    assert recap(res, "localhost")["changed"] == 1  # the publish loop; the build found the same bytes
    for secret in [TOKEN, S3_KEYS["secret"], S3_KEYS["access"]] + signing_key[1]:
        assert secret not in res.stdout
    digest = sha(os.path.join(WORK, "dist-1", FILE))
    expected_sums = "%s\n%s  %s\n" % (OTHER_LINE, digest, FILE)
    srv, url, root = http_repo
    obj = s3.get_object(Bucket="artifacts", Key="demoapp/" + FILE)
    assert obj["Metadata"]["sha256"] == digest and hashlib.sha256(obj["Body"].read()).hexdigest() == digest
    s3_sums = s3.get_object(Bucket="artifacts", Key="demoapp/SHA256SUMS")["Body"].read().decode()
    with open(os.path.join(WORK, "dir-target", "SHA256SUMS")) as f:
        dir_sums = f.read()
    with open(os.path.join(root, "SHA256SUMS")) as f:
        http_sums = f.read()
    assert dir_sums == http_sums == s3_sums == expected_sums
    # SHA256SUMS.sig beside each, the same bytes everywhere, and the standard tool verifies it
    sigs = [open(os.path.join(WORK, "dir-target", "SHA256SUMS.sig")).read(),
            open(os.path.join(root, "SHA256SUMS.sig")).read(),
            s3.get_object(Bucket="artifacts", Key="demoapp/SHA256SUMS.sig")["Body"].read().decode()]
    assert sigs[0] == sigs[1] == sigs[2] and sigs[0].startswith("-----BEGIN SSH SIGNATURE-----")
    ok, said = ssh_keygen_verifies(signing_key[0], os.path.join(WORK, "dir-target", "SHA256SUMS"),
                                   os.path.join(WORK, "dir-target", "SHA256SUMS.sig"))
    assert ok, said
    report("SHA256SUMS.sig on all three targets; ssh-keygen -Y verify: %s" % said)
    assert sha(os.path.join(root, FILE)) == digest
    assert all(ok for _m, _p, ok in srv.requests)
    report("published %s (sha256 %s) in %.0f s to:" % (FILE, digest, res.seconds))
    report("  %s/%s" % (os.path.join(WORK, "dir-target"), FILE))
    report("  %s%s (PUT with a bearer token)" % (url, FILE))
    report("  s3://artifacts/demoapp/%s (moto on 127.0.0.1:%d)" % (FILE, MOTO_PORT))
    report("  SHA256SUMS of each:\n    " + expected_sums.replace("\n", "\n    ").rstrip())


def test_publishing_again_changes_nothing(http_repo, s3, signing_key):
    res = playbook("publish", publish_vars("dist-1", all_targets(http_repo), **TARGET_VARS))
    assert res.returncode == 0, res.stdout[-3000:]
    assert recap(res, "localhost")["changed"] == 0
    report("publish again: changed=0 (%.0f s)" % res.seconds)


def test_another_build_of_a_published_version_is_refused_everywhere(http_repo, s3, signing_key):
    srv, url, root = http_repo
    before = (open(os.path.join(WORK, "dir-target", "SHA256SUMS")).read(), sha(os.path.join(root, FILE)),
              s3.get_object(Bucket="artifacts", Key="demoapp/SHA256SUMS")["ETag"])
    kept = sha(os.path.join(WORK, "dist-1", FILE))
    res = playbook("publish", publish_vars("dist-1", all_targets(http_repo),
                                           zipapp_publish_source_date_epoch="1700000000", **TARGET_VARS))
    assert res.returncode != 0
    other = re.search(r"is already published with sha256 %s, this build is (\w+)" % kept, res.stdout).group(1)
    assert other != kept
    # every target is asked before any is written, and the dist copy is replaced only after all took it
    assert sha(os.path.join(WORK, "dist-1", FILE)) == kept
    assert "TASK [containerless.zipapp.publish : Publish %s]" % FILE not in res.stdout
    refused = set(re.findall(r"([^\s\"]+) is already published with sha256 \w+, this build is %s: a published version "
                             r"is immutable" % other, res.stdout))
    assert refused == {os.path.join(WORK, "dir-target", FILE), srv_url(http_repo) + FILE,
                       "s3://artifacts/demoapp/" + FILE}, res.stdout[-5000:]
    after = (open(os.path.join(WORK, "dir-target", "SHA256SUMS")).read(), sha(os.path.join(root, FILE)),
             s3.get_object(Bucket="artifacts", Key="demoapp/SHA256SUMS")["ETag"])
    assert after == before
    msg = re.search(r"(\S+ is already published with sha256 \w+, this build is \w+: a published version is "
                    r"immutable[^\"\n]*)", res.stdout).group(1)
    report("another build of %s (sha256 %s) refused by all three targets: %s" % (VERSION, other, msg))


def test_deploy_from_s3_to_a_real_host(s3, test_host, signing_key):
    # only a list signed by the release key is taken, checked on the controller
    dv = dict(zipapp_name="demoapp", zipapp_version=VERSION,
              zipapp_signing_keys=[signing_key[0]], zipapp_require_signature=True,
              zipapp_url="s3://artifacts/demoapp/" + FILE,
              zipapp_checksum="sha256:s3://artifacts/demoapp/SHA256SUMS",
              zipapp_s3_endpoint_url="http://127.0.0.1:%d" % MOTO_PORT,
              zipapp_s3_access_key=S3_KEYS["access"], zipapp_s3_secret_key=S3_KEYS["secret"],
              zipapp_controller_cache=os.path.join(WORK, "controller-cache"),
              zipapp_args=["serve"], zipapp_listen="127.0.0.1:%d" % APP_PORT, zipapp_health_path="/health",
              zipapp_env={"GREETING": "deployed from S3"},
              zipapp_secrets={"django_secret_key": "publish-test-key-0123456789abcdefghijklmnopqrstuvwxyz"})
    res = playbook("deploy", dv, inventory=test_host, verbosity=1)
    assert res.returncode == 0, res.stdout[-5000:]
    for secret in (S3_KEYS["secret"], S3_KEYS["access"]):
        assert secret not in res.stdout
    with urllib.request.urlopen("http://127.0.0.1:%d/health" % APP_PORT, timeout=10) as r:
        answer = json.loads(r.read().decode())
    assert answer["status"] == "ok" and answer["version"] == VERSION and answer["greeting"] == "deployed from S3"
    record = json.loads(subprocess.run(["docker", "exec", HOST, "cat", "/opt/zipapp/demoapp/releases/%s/release.json"
                                        % VERSION], stdout=subprocess.PIPE, text=True, check=True).stdout)
    digest = sha(os.path.join(WORK, "dist-1", FILE))
    assert record["url"] == "s3://artifacts/demoapp/" + FILE and record["sha256"] == digest
    assert os.path.isfile(os.path.join(WORK, "controller-cache", digest, FILE))
    report("deploy from S3 (%.0f s): GET http://127.0.0.1:%d/health -> %s" % (res.seconds, APP_PORT,
                                                                             json.dumps(answer, sort_keys=True)))
    again = playbook("deploy", dv, inventory=test_host)
    assert again.returncode == 0 and recap(again, HOST)["changed"] == 0, again.stdout[-3000:]
    report("deploy again: changed=0 (%.0f s)" % again.seconds)
    # a key this store's list is not signed by: refused before the host is asked
    other = os.path.join(WORK, "keys", "other")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other], check=True)
    with open(other + ".pub") as f:
        refused = playbook("deploy", dict(dv, zipapp_version="3.0.2", zipapp_signing_keys=[f.read().strip()]),
                           inventory=test_host)
    assert refused.returncode != 0 and "which is not a trusted key" in refused.stdout, refused.stdout[-3000:]
    assert "nothing was changed" in refused.stdout
    releases = subprocess.run(["docker", "exec", HOST, "ls", "/opt/zipapp/demoapp/releases"], stdout=subprocess.PIPE,
                              text=True, check=True).stdout.split()
    assert "3.0.2" not in releases


def test_an_s3_object_that_is_not_there_fails_before_the_host_changes(s3, test_host):
    dv = dict(zipapp_name="demoapp", zipapp_version="3.0.1", zipapp_url="s3://artifacts/demoapp/demoapp-3.0.1.pyz",
              zipapp_checksum="sha256:" + "0" * 64, zipapp_s3_endpoint_url="http://127.0.0.1:%d" % MOTO_PORT,
              zipapp_s3_access_key=S3_KEYS["access"], zipapp_s3_secret_key=S3_KEYS["secret"],
              zipapp_controller_cache=os.path.join(WORK, "controller-cache"),
              zipapp_args=["serve"], zipapp_listen="127.0.0.1:%d" % APP_PORT, zipapp_health_path="/health",
              zipapp_env={"GREETING": "deployed from S3"},
              zipapp_secrets={"django_secret_key": "publish-test-key-0123456789abcdefghijklmnopqrstuvwxyz"})
    res = playbook("deploy", dv, inventory=test_host)
    assert res.returncode != 0
    assert "s3://artifacts/demoapp/demoapp-3.0.1.pyz does not exist" in res.stdout, res.stdout[-3000:]
    with urllib.request.urlopen("http://127.0.0.1:%d/health" % APP_PORT, timeout=10) as r:
        assert json.loads(r.read().decode())["version"] == VERSION
    report("a missing S3 object: %s" % re.search(r"(s3://\S+ does not exist[^\"\\\n]*)", res.stdout).group(1))
