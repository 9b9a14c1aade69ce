"""OpenSSH file signatures: ours against the standard tool (ssh-keygen -Y), both ways, and every refusal."""

import re
import shutil
import subprocess

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _sshsig

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen (openssh-client)")

SUMS = b"e5ce214d3f5698113c5087a2af26ca7631b0e55ed32f0cb4d29a66261572463b  demoapp-1.0.0.pyz\n"


def keypair(tmp_path, name):
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key, (tmp_path / (name + ".pub")).read_text().strip()


def keygen_sign(tmp_path, key, data, namespace="file"):
    out = tmp_path / ("signed-%d" % len(list(tmp_path.glob("signed-*"))))
    out.mkdir()
    path = out / "SHA256SUMS"
    path.write_bytes(data)
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", namespace, str(path)], check=True,
                   capture_output=True)
    return (out / "SHA256SUMS.sig").read_text()


def test_a_signature_made_by_ssh_keygen_verifies(tmp_path):
    key, pub = keypair(tmp_path, "release")
    sig = keygen_sign(tmp_path, key, SUMS)
    blob = _sshsig.public_key_blob(pub)
    assert _sshsig.verify(SUMS, sig, [pub]) == _sshsig.fingerprint(blob)
    # the fingerprint is the one ssh-keygen shows
    shown = subprocess.run(["ssh-keygen", "-l", "-f", str(key) + ".pub"], check=True, capture_output=True,
                           text=True).stdout.split()[1]
    assert _sshsig.fingerprint(blob) == shown


def test_a_signature_made_here_verifies_with_ssh_keygen(tmp_path):
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    key, pub = keypair(tmp_path, "release")
    private = load_ssh_private_key(key.read_bytes(), password=None)
    sig = _sshsig.sign(SUMS, private)
    (tmp_path / "SHA256SUMS").write_bytes(SUMS)
    (tmp_path / "allowed").write_text('release namespaces="file" %s\n' % pub)
    (tmp_path / "SHA256SUMS.sig").write_text(sig)
    with open(tmp_path / "SHA256SUMS", "rb") as data:
        res = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "release",
                              "-n", "file", "-s", str(tmp_path / "SHA256SUMS.sig")], stdin=data,
                             capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Good \"file\" signature for release" in res.stdout + res.stderr
    # and ours reads it back
    assert _sshsig.verify(SUMS, sig, [pub])


def test_every_tampering_is_refused_with_the_fingerprints(tmp_path):
    key, pub = keypair(tmp_path, "release")
    other_key, other_pub = keypair(tmp_path, "attacker")
    sig = keygen_sign(tmp_path, key, SUMS)
    release_fp = _sshsig.fingerprint(_sshsig.public_key_blob(pub))
    attacker_fp = _sshsig.fingerprint(_sshsig.public_key_blob(other_pub))
    # a changed SHA256SUMS (a tampered artifact's digest, the old signature)
    with pytest.raises(_sshsig.SignatureError, match="does not match this file") as e:
        _sshsig.verify(SUMS.replace(b"e5ce", b"0000"), sig, [pub])
    assert release_fp in str(e.value)
    # a valid signature by a key that is not trusted
    forged = keygen_sign(tmp_path, other_key, SUMS)
    with pytest.raises(_sshsig.SignatureError, match="not a trusted key") as e:
        _sshsig.verify(SUMS, forged, [pub])
    assert attacker_fp in str(e.value) and release_fp in str(e.value)
    # a signature for another namespace (a git commit's, say)
    with pytest.raises(_sshsig.SignatureError, match="namespace 'git'"):
        _sshsig.verify(SUMS, keygen_sign(tmp_path, key, SUMS, namespace="git"), [pub])
    # rotation: either trusted key verifies
    assert _sshsig.verify(SUMS, forged, [pub, other_pub]) == attacker_fp
    # no trusted key at all
    with pytest.raises(_sshsig.SignatureError, match=r"trusted: none"):
        _sshsig.verify(SUMS, sig, [])


@pytest.mark.parametrize("text, message", [
    ("not a signature", "no -----BEGIN SSH SIGNATURE-----"),
    ("-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----", "not valid base64"),
    ("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----", "truncated"),
    ("-----BEGIN SSH SIGNATURE-----\nWFhYWFhYAAAAAQ==\n-----END SSH SIGNATURE-----", "does not start with SSHSIG"),
])
def test_a_signature_that_does_not_parse_says_why(text, message):
    with pytest.raises(_sshsig.SignatureError, match=message):
        _sshsig.parse(text)


@pytest.mark.parametrize("line", ["", "ssh-rsa AAAAB3NzaC1yc2E", "ssh-ed25519 !!!", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"])
def test_only_ed25519_public_key_lines_are_keys(line):
    with pytest.raises(_sshsig.SignatureError):
        _sshsig.public_key_blob(line)


def test_authenticate_hands_on_only_a_digest_from_a_list_a_trusted_key_signed(tmp_path):
    from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import ArtifactError, authenticate

    key, pub = keypair(tmp_path, "release")
    other, other_pub = keypair(tmp_path, "attacker")
    store = tmp_path / "store"
    store.mkdir()
    (store / "SHA256SUMS").write_bytes(SUMS)
    (store / "SHA256SUMS.sig").write_text(keygen_sign(tmp_path, key, SUMS))
    sums = "sha256:file://%s/SHA256SUMS" % store
    url = "file://%s/demoapp-1.0.0.pyz" % store
    fp = _sshsig.fingerprint(_sshsig.public_key_blob(pub))
    assert authenticate(sums, url, [pub]) == (SUMS.split()[0].decode(), fp)
    fp = re.escape(fp)
    # without keys nothing is checked here (the host resolves the checksum as before), unless required
    assert authenticate(sums, url, []) == (None, None)
    with pytest.raises(ArtifactError, match="no trusted key"):
        authenticate(sums, url, [], require=True)
    inline = "sha256:" + "a" * 64
    assert authenticate(inline, url, [pub]) == ("a" * 64, None)
    with pytest.raises(ArtifactError, match="inline checksum of demoapp-1.0.0.pyz cannot be authenticated"):
        authenticate(inline, url, [pub], require=True)
    # an artifact the signed list does not hold (a replayed list of older releases, say)
    with pytest.raises(ArtifactError, match=r"has no line for 'demoapp-2.0.0.pyz' \(the list is signed by %s\)" % fp):
        authenticate(sums, url.replace("1.0.0", "2.0.0"), [pub])
    # a list changed after signing (the tampered artifact's digest)
    (store / "SHA256SUMS").write_bytes(SUMS.replace(b"e5ce", b"0000"))
    with pytest.raises(ArtifactError, match="SHA256SUMS.sig of .* is refused: the signature by %s does not match" % fp):
        authenticate(sums, url, [pub])
    # a list re-signed by a key nobody trusts
    (store / "SHA256SUMS.sig").write_text(keygen_sign(tmp_path, other, SUMS.replace(b"e5ce", b"0000")))
    with pytest.raises(ArtifactError, match="not a trusted key"):
        authenticate(sums, url, [pub])
    # no signature on the server
    (store / "SHA256SUMS.sig").unlink()
    with pytest.raises(ArtifactError, match="no signature of .*SHA256SUMS \\(trusted keys: %s\\)" % fp):
        authenticate(sums, url, [pub])
    with pytest.raises(ArtifactError, match="signing_keys: "):
        authenticate(sums, url, ["ssh-rsa AAAA"])
