"""A compromised artifact store cannot deploy code: every tampering with a signed SHA256SUMS is refused on the
controller before the host is touched, and a key rotation deploys.

The store is a directory of this test served on loopback by tests/artifact_server.py; the keys are made with
ssh-keygen and the lists signed with `ssh-keygen -Y sign`, as a CI job would (the publish role's own signing
is tested against ssh-keygen in tests/unit). Runs after test_faults.py, on the host it left.
"""

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "integration"))
from zipapp_testlib import Probe, get, live, play, tree  # noqa: E402

HOST = "zipapp-faults-" + os.environ.get("ZIPAPP_SUITE", "bookworm")
PORT = 18131
STORE_PORT = 18139
REPO = os.path.join(HERE, "..", "..", "..")
DIST = os.environ.get("ZIPAPP_DIST", os.path.join(REPO, "examples", "dist"))
STORE = "http://127.0.0.1:%d" % STORE_PORT


def sha256(path):
    return subprocess.run(["sha256sum", path], capture_output=True, text=True, check=True).stdout.split()[0]


class Store(object):
    """The artifact store: a directory, its keys, and ways to write SHA256SUMS and its signature."""

    def __init__(self, root):
        self.root = root
        self.dir = os.path.join(root, "store")
        os.makedirs(self.dir)
        self.keys = dict((name, self.keygen(name)) for name in ("release", "next", "attacker"))

    def keygen(self, name):
        path = os.path.join(self.root, name)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path], check=True)
        with open(path + ".pub") as f:
            return path, f.read().strip()

    def pub(self, name):
        return self.keys[name][1]

    def fingerprint(self, name):
        out = subprocess.run(["ssh-keygen", "-l", "-f", self.keys[name][0] + ".pub"], capture_output=True,
                             text=True, check=True).stdout
        return out.split()[1]

    def put(self, name, source):
        shutil.copyfile(source, os.path.join(self.dir, name))

    def write_sums(self, names, signed_by=None):
        with open(os.path.join(self.dir, "SHA256SUMS"), "w") as f:
            for name in names:
                f.write("%s  %s\n" % (sha256(os.path.join(self.dir, name)), name))
        sig = os.path.join(self.dir, "SHA256SUMS.sig")
        if os.path.exists(sig):
            os.unlink(sig)
        if signed_by:
            subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", self.keys[signed_by][0], "-n", "file",
                            os.path.join(self.dir, "SHA256SUMS")], check=True, capture_output=True)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    if not shutil.which("ssh-keygen"):
        pytest.fail("ssh-keygen (openssh-client) is needed to sign the test store")
    s = Store(str(tmp_path_factory.mktemp("trust")))
    s.put("demoapp-2.0.0.pyz", os.path.join(DIST, "demoapp-2.0.0.pyz"))
    s.put("demoapp-1.0.0.pyz", os.path.join(DIST, "demoapp-1.0.0.pyz"))
    server = subprocess.Popen([sys.executable, os.path.join(REPO, "tests", "artifact_server.py"), "--dir", s.dir,
                               "--port", str(STORE_PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):  # until it answers (bounded: 10 s)
        try:
            urllib.request.urlopen(STORE + "/SHA256SUMS", timeout=1).close()
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.1)
    yield s
    server.terminate()
    server.wait(timeout=10)


def deploy(version, keys, artifact="demoapp-2.0.0.pyz", **extra):
    return play(dict({"app_version": version, "app_url": "%s/%s" % (STORE, artifact),
                      "app_checksum": "sha256:%s/SHA256SUMS" % STORE, "zipapp_signing_keys": keys}, **extra))


def refused(store, res, before, serving, *expected):
    assert res.returncode != 0
    for text in expected:
        assert re.search(text, res.stdout), (text, res.stdout[-2500:])
    assert "nothing was changed" in res.stdout
    assert tree(HOST) == before  # the host was never asked: no download, no release, no lock
    assert live(HOST) == serving[0] and get(PORT)["version"] == serving[1]
    line = [ln for ln in res.stdout.splitlines() if "nothing was changed" in ln][0]
    print("refused: %s" % re.sub(r".*(Task failed: |msg\": \")", "", line)[:400])


def test_the_store_signed_by_the_trusted_key_deploys(store):
    store.write_sums(["demoapp-1.0.0.pyz", "demoapp-2.0.0.pyz"], signed_by="release")
    with Probe(PORT) as probe:
        res = deploy("8.0.0", [store.pub("release")])
    assert res.returncode == 0, res.stdout[-3000:]
    assert probe.failed == 0
    assert live(HOST) == "8.0.0" and get(PORT)["version"] == "2.0.0"


@pytest.mark.parametrize("case", ["tampered artifact", "untrusted key", "replayed older list", "no signature"])
def test_a_tampered_store_is_refused_before_any_change(store, case):
    serving = (live(HOST), get(PORT)["version"])
    store.write_sums(["demoapp-1.0.0.pyz", "demoapp-2.0.0.pyz"], signed_by="release")
    release = re.escape(store.fingerprint("release"))
    if case == "tampered artifact":
        # the attacker swaps the artifact (1.0.0's bytes as 2.0.0) and recomputes its line; the signature is old
        with open(os.path.join(store.dir, "SHA256SUMS.sig")) as f:
            old_sig = f.read()
        store.put("demoapp-2.0.0.pyz", os.path.join(DIST, "demoapp-1.0.0.pyz"))
        store.write_sums(["demoapp-1.0.0.pyz", "demoapp-2.0.0.pyz"])
        with open(os.path.join(store.dir, "SHA256SUMS.sig"), "w") as f:
            f.write(old_sig)
        expected = ["the signature by %s does not match this file" % release]
    elif case == "untrusted key":
        store.put("demoapp-2.0.0.pyz", os.path.join(DIST, "demoapp-1.0.0.pyz"))
        store.write_sums(["demoapp-1.0.0.pyz", "demoapp-2.0.0.pyz"], signed_by="attacker")
        expected = ["signed by %s, which is not a trusted key \\(trusted: %s\\)"
                    % (re.escape(store.fingerprint("attacker")), release)]
    elif case == "replayed older list":
        # a genuine signed list from before 2.0.0 existed: it cannot vouch for 2.0.0
        store.write_sums(["demoapp-1.0.0.pyz"], signed_by="release")
        store.put("demoapp-2.0.0.pyz", os.path.join(DIST, "demoapp-1.0.0.pyz"))
        expected = ["has no line for 'demoapp-2.0.0.pyz' \\(the list is signed by %s\\)" % release]
    else:
        store.write_sums(["demoapp-1.0.0.pyz", "demoapp-2.0.0.pyz"])
        expected = ["no signature of %s/SHA256SUMS \\(trusted keys: %s\\)" % (STORE, release), "HTTP 404"]
    before = tree(HOST)
    res = deploy("8.1.0", [store.pub("release")])
    refused(store, res, before, serving, *expected)
    store.put("demoapp-2.0.0.pyz", os.path.join(DIST, "demoapp-2.0.0.pyz"))


def test_require_signature_refuses_an_inline_checksum_before_any_change(store):
    serving = (live(HOST), get(PORT)["version"])
    before = tree(HOST)
    res = play({"app_version": "8.2.0", "app_url": "%s/demoapp-2.0.0.pyz" % STORE,
                "app_checksum": "sha256:" + sha256(os.path.join(DIST, "demoapp-2.0.0.pyz")),
                "zipapp_signing_keys": [store.pub("release")], "zipapp_require_signature": True})
    refused(store, res, before, serving, "zipapp_checksum is an inline sha256 and zipapp_require_signature is true")


def test_a_key_rotation_deploys_and_the_dropped_key_is_refused_after(store):
    # the new key signs while both are trusted
    store.write_sums(["demoapp-1.0.0.pyz", "demoapp-2.0.0.pyz"], signed_by="next")
    res = deploy("8.3.0", [store.pub("release"), store.pub("next")], artifact="demoapp-1.0.0.pyz")
    assert res.returncode == 0, res.stdout[-3000:]
    assert live(HOST) == "8.3.0" and get(PORT)["version"] == "1.0.0"
    # the old key is dropped: the new one alone deploys, a list the old one signs is refused
    res = deploy("8.4.0", [store.pub("next")])
    assert res.returncode == 0, res.stdout[-3000:]
    assert live(HOST) == "8.4.0" and get(PORT)["version"] == "2.0.0"
    store.write_sums(["demoapp-1.0.0.pyz", "demoapp-2.0.0.pyz"], signed_by="release")
    before = tree(HOST)
    res = deploy("8.5.0", [store.pub("next")], artifact="demoapp-1.0.0.pyz")
    refused(store, res, before, ("8.4.0", "2.0.0"), "signed by %s, which is not a trusted key"
            % re.escape(store.fingerprint("release")))
