import hashlib
import os
import sys

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _publish as p
from ansible_collections.containerless.zipapp.plugins.module_utils import _targets as tg

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(TESTS, "integration"))
import put_server  # noqa: E402  (the loopback PUT repository of the integration test)

A = "a" * 64
B = "b" * 64


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def artifact(tmp_path):
    path = tmp_path / "build" / "app-1.0.pyz"
    path.parent.mkdir()
    path.write_bytes(b"zipapp 1.0" * 1000)
    return str(path)


# --- SHA256SUMS ------------------------------------------------------------------------------------

def test_sums_update_adds_a_line_and_keeps_the_others():
    before = "# built by CI\n%s  other.pyz\n" % A
    assert tg.sums_update(before, "app.pyz", B) == "# built by CI\n%s  other.pyz\n%s  app.pyz\n" % (A, B)


def test_sums_update_replaces_the_line_in_place_in_gnu_format():
    before = "%s  one.pyz\nSHA256 (app.pyz) = %s\n%s *three.pyz\n" % (A, A.upper(), A)
    assert tg.sums_update(before, "app.pyz", B) == "%s  one.pyz\n%s  app.pyz\n%s *three.pyz\n" % (A, B, A)


def test_sums_update_drops_duplicates_and_matches_dot_slash():
    before = "%s  ./app.pyz\n%s  x.pyz\n%s  app.pyz\n" % (A, A, A)
    assert tg.sums_update(before, "app.pyz", B) == "%s  app.pyz\n%s  x.pyz\n" % (B, A)


def test_sums_update_of_nothing_and_a_directory_prefix_is_another_file():
    assert tg.sums_update(None, "app.pyz", B) == "%s  app.pyz\n" % B
    assert tg.sums_update("%s  sub/app.pyz" % A, "app.pyz", B) == "%s  sub/app.pyz\n%s  app.pyz\n" % (A, B)


def test_sums_entries():
    assert tg.sums_entries("%s  a\n%s  a\nSHA256 (b) = %s\nnot a line\n" % (A, B, A)) == {"a": {A, B}, "b": {A}}


# --- targets ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("to,kind,base", [
    ("/srv/artifacts/demoapp", "dir", "/srv/artifacts/demoapp"),
    ("/srv/artifacts/demoapp/", "dir", "/srv/artifacts/demoapp"),
    ("file:///srv/a%20b", "dir", "/srv/a b"),
    ("https://nexus/repository/raw/demoapp", "http", "https://nexus/repository/raw/demoapp/"),
    ("http://127.0.0.1:8081/x/", "http", "http://127.0.0.1:8081/x/"),
    ("s3://bucket/demoapp", "s3", ("bucket", "demoapp/")),
    ("s3://bucket", "s3", ("bucket", "")),
    ("S3://bucket/a/b/", "s3", ("bucket", "a/b/")),
])
def test_split_target(to, kind, base):
    assert tg.split_target(to) == (kind, base)


@pytest.mark.parametrize("to", ["relative/dir", "/srv/../etc", "https://user:pw@nexus/raw/", "https:///x",
                                "https://nexus/raw/?a=1", "s3://b/", "s3://user@bucket/x", "ftp://x/y", "",
                                "file://host/x"])
def test_bad_targets_are_refused(to):
    with pytest.raises(tg.PublishError) as e:
        tg.split_target(to)
    assert "pw" not in str(e.value)


# --- directory target ------------------------------------------------------------------------------

def test_publish_to_a_directory_then_nothing_changes(artifact, tmp_path):
    to = tmp_path / "nfs" / "demoapp"
    r = p.publish(artifact, str(to), name="app-1.0.pyz")
    digest = sha(open(artifact, "rb").read())
    assert r["changed"] and r["uploaded"] and r["sums_changed"] and r["sha256"] == digest
    assert (to / "app-1.0.pyz").read_bytes() == open(artifact, "rb").read()
    assert (to / "SHA256SUMS").read_text() == "%s  app-1.0.pyz\n" % digest
    assert oct(os.stat(str(to / "app-1.0.pyz")).st_mode & 0o777) == "0o644"
    assert oct(os.stat(str(to)).st_mode & 0o777) == "0o755"
    again = p.publish(artifact, str(to), name="app-1.0.pyz")
    assert not again["changed"] and not again["uploaded"] and not again["sums_changed"]
    assert sorted(os.listdir(str(to))) == [".SHA256SUMS.lock", "SHA256SUMS", "app-1.0.pyz"]


def test_other_content_under_a_published_name_is_refused_and_nothing_changes(artifact, tmp_path):
    to = tmp_path / "pub"
    to.mkdir()
    (to / "app-1.0.pyz").write_bytes(b"the build that was published")
    (to / "SHA256SUMS").write_text("%s  app-1.0.pyz\n" % sha(b"the build that was published"))
    before = {n: (to / n).read_bytes() for n in os.listdir(str(to))}
    with pytest.raises(tg.PublishError, match="immutable.*nothing was changed"):
        p.publish(artifact, str(to))
    assert {n: (to / n).read_bytes() for n in os.listdir(str(to)) if n != ".SHA256SUMS.lock"} == before


def test_a_sums_line_with_another_sha256_is_refused_even_without_the_file(artifact, tmp_path):
    to = tmp_path / "pub"
    to.mkdir()
    (to / "SHA256SUMS").write_text("%s  app-1.0.pyz\n" % A)
    with pytest.raises(tg.PublishError, match="published before with other content"):
        p.publish(artifact, str(to))
    assert sorted(os.listdir(str(to))) == [".SHA256SUMS.lock", "SHA256SUMS"]


def test_a_missing_line_is_added_when_the_identical_file_is_there(artifact, tmp_path):
    to = tmp_path / "pub"
    to.mkdir()
    (to / "app-1.0.pyz").write_bytes(open(artifact, "rb").read())
    (to / "SHA256SUMS").write_text("%s  other.pyz\n" % A)
    r = p.publish(artifact, str(to))
    assert r["changed"] and not r["uploaded"] and r["sums_changed"]
    assert (to / "SHA256SUMS").read_text().splitlines()[0] == "%s  other.pyz" % A


def test_check_mode_writes_nothing(artifact, tmp_path):
    to = tmp_path / "pub"
    r = p.publish(artifact, str(to), check_mode=True)
    assert r["changed"] and r["uploaded"] and not to.exists()


def test_names(artifact, tmp_path):
    for bad in ("../x.pyz", "a/b.pyz", ".hidden", ""):
        with pytest.raises(tg.PublishError):
            p.publish(artifact, str(tmp_path / "pub"), name=bad or None, sums_name=bad or "SHA256SUMS/x")
    with pytest.raises(tg.PublishError, match="cannot be called"):
        p.publish(artifact, str(tmp_path / "pub"), name="SHA256SUMS")
    with pytest.raises(tg.PublishError, match="does not exist"):
        p.publish(str(tmp_path / "nope.pyz"), str(tmp_path / "pub"))


# --- HTTP PUT target -------------------------------------------------------------------------------

@pytest.fixture
def repo(tmp_path):
    srv = put_server.start(tmp_path / "repo", token="t0ken-abc")
    yield srv, "http://127.0.0.1:%d/raw/demoapp/" % srv.server_address[1], tmp_path / "repo" / "raw" / "demoapp"
    srv.shutdown()
    srv.server_close()


def test_publish_over_http_put_with_auth(artifact, repo):
    srv, url, root = repo
    headers = {"Authorization": "Bearer t0ken-abc"}
    r = p.publish(artifact, url, headers=headers)
    assert r["uploaded"] and r["url"] == url + "app-1.0.pyz" and r["sums_url"] == url + "SHA256SUMS"
    assert (root / "app-1.0.pyz").read_bytes() == open(artifact, "rb").read()
    assert (root / "SHA256SUMS").read_text() == "%s  app-1.0.pyz\n" % r["sha256"]
    assert not p.publish(artifact, url, headers=headers)["changed"]
    assert all(ok for _m, _p, ok in srv.requests)
    puts = [path for m, path, _ok in srv.requests if m == "PUT"]
    assert puts == ["/raw/demoapp/app-1.0.pyz", "/raw/demoapp/SHA256SUMS"]


def test_http_without_the_token_fails_and_names_no_secret(artifact, repo):
    srv, url, root = repo
    with pytest.raises(tg.PublishError, match="HTTP 401") as e:
        p.publish(artifact, url, headers={"Authorization": "Bearer wrong-secret"})
    assert "wrong-secret" not in str(e.value) and not root.exists()


def test_http_refuses_other_content(artifact, repo):
    srv, url, root = repo
    root.mkdir(parents=True)
    (root / "app-1.0.pyz").write_bytes(b"old")
    with pytest.raises(tg.PublishError, match="immutable"):
        p.publish(artifact, url, headers={"Authorization": "Bearer t0ken-abc"})
    assert (root / "app-1.0.pyz").read_bytes() == b"old" and not (root / "SHA256SUMS").exists()


def test_http_put_refused_by_the_server(artifact, repo):
    srv, url, root = repo
    srv.read_only = True
    with pytest.raises(tg.PublishError, match="PUT .* HTTP 403"):
        p.publish(artifact, url, headers={"Authorization": "Bearer t0ken-abc"})


# --- S3 target (moto's in-process mock) ------------------------------------------------------------

def test_publish_to_s3(artifact, bucket):
    r = p.publish(artifact, "s3://artifacts/demoapp/")
    assert r["url"] == "s3://artifacts/demoapp/app-1.0.pyz" and r["uploaded"]
    obj = bucket.get_object(Bucket="artifacts", Key="demoapp/app-1.0.pyz")
    assert obj["Body"].read() == open(artifact, "rb").read() and obj["Metadata"]["sha256"] == r["sha256"]
    sums = bucket.get_object(Bucket="artifacts", Key="demoapp/SHA256SUMS")["Body"].read().decode()
    assert sums == "%s  app-1.0.pyz\n" % r["sha256"]
    assert not p.publish(artifact, "s3://artifacts/demoapp")["changed"]


def test_s3_keeps_other_lines_and_refuses_other_content(artifact, bucket, tmp_path):
    bucket.put_object(Bucket="artifacts", Key="SHA256SUMS", Body=("%s  other.pyz\n" % A).encode())
    bucket.put_object(Bucket="artifacts", Key="app-1.0.pyz", Body=b"published before")  # no sha256 metadata
    with pytest.raises(tg.PublishError, match="immutable"):
        p.publish(artifact, "s3://artifacts")
    bucket.delete_object(Bucket="artifacts", Key="app-1.0.pyz")
    r = p.publish(artifact, "s3://artifacts")
    sums = bucket.get_object(Bucket="artifacts", Key="SHA256SUMS")["Body"].read().decode()
    assert sums == "%s  other.pyz\n%s  app-1.0.pyz\n" % (A, r["sha256"])


def test_s3_conflicting_sums_write_is_retried(artifact, bucket, monkeypatch):
    bucket.put_object(Bucket="artifacts", Key="SHA256SUMS", Body=("%s  other.pyz\n" % A).encode())
    real = tg.S3Target.read_sums
    calls = []

    def racing_read(self, sums_name):
        text, etag = real(self, sums_name)
        if not calls:  # another publisher writes between our read and our write
            bucket.put_object(Bucket="artifacts", Key="SHA256SUMS", Body=("%s  racer.pyz\n" % B).encode())
        calls.append(etag)
        return text, etag

    monkeypatch.setattr(tg.S3Target, "read_sums", racing_read)
    r = p.publish(artifact, "s3://artifacts/")
    assert len(calls) == 2 and r["uploaded"]
    sums = bucket.get_object(Bucket="artifacts", Key="SHA256SUMS")["Body"].read().decode()
    assert sums == "%s  racer.pyz\n%s  app-1.0.pyz\n" % (B, r["sha256"])


# --- signed SHA256SUMS ---------------------------------------------------------------------------------

def _signing_key(tmp_path):
    import subprocess
    key = tmp_path / "release-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release", "-f", str(key)], check=True)
    return key, (tmp_path / "release-key.pub").read_text().strip()


@pytest.mark.skipif(not __import__("shutil").which("ssh-keygen"), reason="needs ssh-keygen")
@pytest.mark.parametrize("kind", ["dir", "http"])
def test_publish_signs_the_list_once_and_ssh_keygen_verifies_it(artifact, tmp_path, kind, request):
    import subprocess
    from ansible_collections.containerless.zipapp.plugins.module_utils import _sshsig

    key, pub = _signing_key(tmp_path)
    private = _sshsig.load_private_key(key.read_bytes())

    def signer(text):
        return _sshsig.sign(text.encode("utf-8"), private)

    if kind == "dir":
        to, headers, files = str(tmp_path / "dist"), None, tmp_path / "dist"
    else:
        _srv, to, files = request.getfixturevalue("repo")
        headers = {"Authorization": "Bearer t0ken-abc"}
    first = p.publish(artifact, to, headers=headers, signer=signer)
    assert first["signed"] and first["signature_url"].endswith("/SHA256SUMS.sig")
    sums, sig = (files / "SHA256SUMS").read_bytes(), (files / "SHA256SUMS.sig").read_text()
    assert _sshsig.verify(sums, sig, [pub])
    (tmp_path / "allowed").write_text('release namespaces="file" %s\n' % pub)
    with open(files / "SHA256SUMS", "rb") as data:
        res = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "release",
                              "-n", "file", "-s", str(files / "SHA256SUMS.sig")], stdin=data, capture_output=True,
                             text=True, check=False)
    assert res.returncode == 0, res.stderr
    # the same list and key: the same signature, nothing changes
    again = p.publish(artifact, to, headers=headers, signer=signer)
    assert not again["changed"] and not again["signed"]
    # a signature that no longer signs the list (signing turned on later, a key rotated) is written anew
    (files / "SHA256SUMS.sig").write_text("stale")
    assert p.publish(artifact, to, headers=headers, signer=signer)["signed"]
    assert _sshsig.verify(sums, (files / "SHA256SUMS.sig").read_text(), [pub])


@pytest.mark.skipif(not __import__("shutil").which("ssh-keygen"), reason="needs ssh-keygen")
def test_publish_to_s3_signs_the_list_beside_it(artifact, bucket, tmp_path):
    from ansible_collections.containerless.zipapp.plugins.module_utils import _sshsig

    key, pub = _signing_key(tmp_path)
    private = _sshsig.load_private_key(key.read_bytes())
    r = p.publish(artifact, "s3://artifacts/demoapp/", signer=lambda text: _sshsig.sign(text.encode(), private))
    assert r["signed"] and r["signature_url"] == "s3://artifacts/demoapp/SHA256SUMS.sig"
    sums = bucket.get_object(Bucket="artifacts", Key="demoapp/SHA256SUMS")["Body"].read()
    sig = bucket.get_object(Bucket="artifacts", Key="demoapp/SHA256SUMS.sig")["Body"].read()
    assert _sshsig.verify(sums, sig, [pub])
    assert not p.publish(artifact, "s3://artifacts/demoapp/", signer=lambda t: _sshsig.sign(t.encode(), private))[
        "changed"]


def test_an_encrypted_signing_key_needs_its_passphrase(tmp_path):
    import subprocess
    from ansible_collections.containerless.zipapp.plugins.module_utils import _sshsig

    key = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret-pass", "-f", str(key)], check=True)
    with pytest.raises(_sshsig.SignatureError) as e:
        _sshsig.load_private_key(key.read_bytes(), None)
    assert "encrypted" in str(e.value) and "s3cret" not in str(e.value)
    # without bcrypt, ssh-keygen signs with it (the passphrase through SSH_ASKPASS), and the result verifies
    sig = _sshsig.sign_with_ssh_keygen(b"list\n", str(key), "s3cret-pass")
    pub = (tmp_path / "locked.pub").read_text().strip()
    assert _sshsig.verify(b"list\n", sig, [pub])
    with pytest.raises(_sshsig.SignatureError, match="ssh-keygen -Y sign failed") as e:
        _sshsig.sign_with_ssh_keygen(b"list\n", str(key), "wrong")
    assert "wrong" not in str(e.value)
    try:
        import bcrypt  # noqa: F401
    except ImportError:
        with pytest.raises(_sshsig.SignatureError, match="needs the Python library bcrypt"):
            _sshsig.load_private_key(key.read_bytes(), "s3cret-pass")
    else:
        assert _sshsig.load_private_key(key.read_bytes(), "s3cret-pass")
        with pytest.raises(_sshsig.SignatureError, match="passphrase is missing or wrong"):
            _sshsig.load_private_key(key.read_bytes(), "wrong")
