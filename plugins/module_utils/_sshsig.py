# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSSH signatures of files (``ssh-keygen -Y sign`` / ``-Y verify``), Ed25519 keys, with ``cryptography``.

This is a private module_utils file: its interface may change without notice.

The format is OpenSSH's PROTOCOL.sshsig: an armored blob (``-----BEGIN SSH SIGNATURE-----``) of

    "SSHSIG" uint32(1) string(public key) string(namespace) string(reserved) string(hash) string(signature)

where the signature is made over ``"SSHSIG" string(namespace) string(reserved) string(hash) string(H(file))``.
A signature binds the file to a namespace (``file`` by default), so a signature made for another purpose
(git commits, say) never verifies here. Only ``ssh-ed25519`` keys are taken.
"""

import base64
import hashlib
import struct

MAGIC = b"SSHSIG"
VERSION = 1
BEGIN, END = "-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----"
KEY_TYPE = "ssh-ed25519"
HASHES = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}


class SignatureError(ValueError):
    """A signature that does not parse, or does not verify; the message says which and why."""


def _string(data):
    return struct.pack(">I", len(data)) + data


class _Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise SignatureError("the signature is truncated")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def string(self):
        return self.take(struct.unpack(">I", self.take(4))[0])

    def end(self):
        if self.pos != len(self.data):
            raise SignatureError("the signature has %d bytes after its end" % (len(self.data) - self.pos))


def public_key_blob(line):
    """The wire blob of an OpenSSH public key line (``ssh-ed25519 AAAA... comment``)."""
    parts = (line or "").split()
    if len(parts) < 2 or parts[0] != KEY_TYPE:
        raise SignatureError("%r is not an OpenSSH ssh-ed25519 public key line" % (line[:40] if line else line,))
    try:
        blob = base64.b64decode(parts[1].encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise SignatureError("the key %s... is not valid base64" % parts[1][:16])
    reader = _Reader(blob)
    if reader.string() != KEY_TYPE.encode("ascii") or len(reader.string()) != 32:
        raise SignatureError("the key %s... is not an Ed25519 key" % parts[1][:16])
    reader.end()
    return blob


def fingerprint(blob):
    """``SHA256:...``, as ``ssh-keygen -l`` shows it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def _signed_data(namespace, hash_name, message):
    return (MAGIC + _string(namespace.encode("utf-8")) + _string(b"") + _string(hash_name.encode("ascii"))
            + _string(HASHES[hash_name](message).digest()))


def parse(armored):
    """The fields of an armored signature: public key blob, namespace, hash algorithm, raw Ed25519 signature."""
    text = armored.decode("ascii", "replace") if isinstance(armored, bytes) else armored
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        raise SignatureError("not an OpenSSH signature (no %s ... %s armor)" % (BEGIN, END))
    try:
        blob = base64.b64decode("".join(lines[1:-1]).encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise SignatureError("the signature is not valid base64")
    reader = _Reader(blob)
    if reader.take(6) != MAGIC:
        raise SignatureError("the signature does not start with SSHSIG")
    version = struct.unpack(">I", reader.take(4))[0]
    if version != VERSION:
        raise SignatureError("signature version %d is not supported (only %d)" % (version, VERSION))
    key = reader.string()
    namespace = reader.string()
    reader.string()  # reserved
    hash_name = reader.string()
    sig = reader.string()
    reader.end()
    key_reader = _Reader(key)
    if key_reader.string() != KEY_TYPE.encode("ascii") or len(key_reader.string()) != 32:
        raise SignatureError("the signature was not made with an Ed25519 key")
    sig_reader = _Reader(sig)
    sig_type, raw = sig_reader.string(), sig_reader.string()
    sig_reader.end()
    if sig_type != KEY_TYPE.encode("ascii") or len(raw) != 64:
        raise SignatureError("the signature is not an Ed25519 signature")
    hash_name = hash_name.decode("ascii", "replace")
    if hash_name not in HASHES:
        raise SignatureError("hash algorithm %r is not supported (sha512, sha256)" % hash_name)
    return {"key": key, "namespace": namespace.decode("utf-8", "replace"), "hash": hash_name, "signature": raw}


def verify(message, armored, trusted_lines, namespace="file"):
    """Check ``armored`` over ``message`` against the trusted public key lines; returns the fingerprint of
    the key that signed. Raises SignatureError that names the fingerprints involved."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    fields = parse(armored)
    trusted = dict((fingerprint(b), b) for b in (public_key_blob(line) for line in trusted_lines))
    signer = fingerprint(fields["key"])
    if signer not in trusted:
        raise SignatureError("signed by %s, which is not a trusted key (trusted: %s)"
                             % (signer, ", ".join(sorted(trusted)) or "none"))
    if fields["namespace"] != namespace:
        raise SignatureError("signed by %s for the namespace %r, not %r" % (signer, fields["namespace"], namespace))
    public = Ed25519PublicKey.from_public_bytes(_key_bytes(fields["key"]))
    try:
        public.verify(fields["signature"], _signed_data(namespace, fields["hash"], message))
    except InvalidSignature:
        raise SignatureError("the signature by %s does not match this file (it signs another one, or the file "
                             "was changed)" % signer)
    return signer


def _key_bytes(blob):
    reader = _Reader(blob)
    reader.string()
    return reader.string()


def sign(message, private_key, namespace="file", hash_name="sha512"):
    """An armored signature of ``message`` by an Ed25519 private key (a ``cryptography`` key object), the
    same bytes ``ssh-keygen -Y sign`` writes for that key."""
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = _string(KEY_TYPE.encode("ascii")) + _string(raw)
    sig = _string(KEY_TYPE.encode("ascii")) + _string(private_key.sign(_signed_data(namespace, hash_name, message)))
    blob = (MAGIC + struct.pack(">I", VERSION) + _string(key) + _string(namespace.encode("utf-8")) + _string(b"")
            + _string(hash_name.encode("ascii")) + _string(sig))
    b64 = base64.b64encode(blob).decode("ascii")
    return "\n".join([BEGIN] + [b64[i:i + 70] for i in range(0, len(b64), 70)] + [END]) + "\n"


def load_private_key(data, passphrase=None):
    """A ``cryptography`` Ed25519 private key from an OpenSSH private key file's bytes. Raises SignatureError
    (never with the key or the passphrase in it); an encrypted key needs the ``bcrypt`` library too."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    try:
        key = load_ssh_private_key(data, password=passphrase.encode("utf-8") if passphrase else None)
    except ImportError:
        raise SignatureError("the signing key is encrypted: reading it needs the Python library bcrypt on the "
                             "controller (pip install bcrypt)")
    except (ValueError, TypeError) as e:
        text = str(e)
        if "bcrypt" in text:
            raise SignatureError("the signing key is encrypted: " + NEEDS_BCRYPT + " on the controller")
        if "password" in text.lower() or "passphrase" in text.lower() or "decrypt" in text.lower():
            raise SignatureError("the signing key is encrypted and its passphrase is missing or wrong")
        raise SignatureError("the signing key is not an OpenSSH private key")
    except Exception as e:  # cryptography's UnsupportedAlgorithm ("Need bcrypt module")
        if "bcrypt" in str(e):
            raise SignatureError("the signing key is encrypted: " + NEEDS_BCRYPT + " on the controller")
        raise SignatureError("the signing key cannot be read (%s)" % type(e).__name__)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the signing key is not an Ed25519 key (ssh-keygen -t ed25519)")
    return key


NEEDS_BCRYPT = "reading it needs the Python library bcrypt"


def sign_with_ssh_keygen(message, key_path, passphrase, namespace="file"):
    """The signature ``ssh-keygen -Y sign`` makes of ``message`` with the key file at ``key_path``, its
    passphrase given through SSH_ASKPASS (never on a command line); for encrypted keys without bcrypt."""
    import os
    import shutil
    import subprocess
    import tempfile

    if not shutil.which("ssh-keygen"):
        raise SignatureError("the signing key is encrypted and neither bcrypt nor ssh-keygen is on the controller")
    work = tempfile.mkdtemp(prefix="zipapp-sign-")
    try:
        data = os.path.join(work, "SHA256SUMS")
        with open(data, "wb") as f:
            f.write(message)
        askpass = os.path.join(work, "askpass")
        with open(askpass, "w") as f:
            f.write('#!/bin/sh\nprintf \'%s\\n\' "$ZIPAPP_SIGNING_PASSPHRASE"\n')
        os.chmod(askpass, 0o700)
        env = dict(os.environ, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force", DISPLAY=os.environ.get("DISPLAY", ":0"),
                   ZIPAPP_SIGNING_PASSPHRASE=passphrase or "")
        # run_command cannot: ssh-keygen takes the passphrase from SSH_ASKPASS in an environment of its own, and this
        # also runs on the controller, where there is no AnsibleModule
        # pylint: disable-next=ansible-bad-function
        res = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", key_path, "-n", namespace, data], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if res.returncode != 0 or not os.path.isfile(data + ".sig"):
            detail = (res.stderr or res.stdout).decode("utf-8", "replace").strip().splitlines()[-1:]
            raise SignatureError("ssh-keygen -Y sign failed with the signing key (%s)"
                                 % (detail[0] if detail else "exit %d" % res.returncode))
        with open(data + ".sig") as f:
            return f.read()
    finally:
        shutil.rmtree(work, ignore_errors=True)
