# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Download a file, verify its sha256, and only then put it in place.

This is a private module_utils file: its interface may change without notice.

The one place where artifacts enter a host (or the controller's cache).  The download goes to a
temporary file next to the deepest directory of the destination that already exists, so a failed
or mismatching download leaves nothing behind; directories are created and the file renamed into
place only after the sha256 matched.
"""

import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
from urllib.parse import unquote, urlsplit

from ansible.module_utils.urls import open_url

from ansible_collections.containerless.zipapp.plugins.module_utils import _s3, _sshsig
from ansible_collections.containerless.zipapp.plugins.module_utils._digest import CHUNK, sha256_file
from ansible_collections.containerless.zipapp.plugins.module_utils._fs import fsync_dir  # noqa: F401 (its API too)

SIGNATURE_OPTIONS = ("signing_keys", "signature", "signature_namespace", "require_signature")  # _common.SIGNATURE

SUMS_MAX_BYTES = 4 * 1024 * 1024
HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class ArtifactError(Exception):
    """A download or verification failed; the message says why and that nothing changed."""


def parse_checksum(value):
    """Return ``(hex, sums_url)`` for ``sha256:<hex>`` or ``sha256:<url>``; one of them is None."""
    algo, sep, rest = (value or "").partition(":")
    if not sep or algo.lower() != "sha256":
        raise ArtifactError("checksum %r must be 'sha256:<64 hex digits>' or 'sha256:<url of a SHA256SUMS file>'"
                            % value)
    if "://" in rest:
        return None, rest
    if not HEX64.fullmatch(rest):
        raise ArtifactError("checksum must be 'sha256:' followed by 64 hex digits, got %d characters" % len(rest))
    return rest.lower(), None


def url_file_name(url):
    """The file name at the end of ``url``'s path (percent-decoded; an s3:// key is taken literally)."""
    if _s3.is_s3_url(url):
        return url.rstrip("/").rsplit("/", 1)[-1]
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


def parse_sums_line(raw):
    """``(name, hex)`` of one line of a SHA256SUMS file, or None for blank, comment and other lines.

    GNU lines (``<hex>  name`` and ``<hex> *name``, optionally ``./name``) and BSD lines
    (``SHA256 (name) = <hex>``); the hex is returned in lower case.
    """
    line = raw.strip()
    if not line or line.startswith("#"):
        return None
    m = re.match(r"^SHA256 ?\((.+)\) ?= ?([0-9a-fA-F]{64})$", line)
    if m:
        name, digest = m.group(1), m.group(2)
    else:
        m = re.match(r"^([0-9a-fA-F]{64})[ \t]+\*?(.+)$", line)
        if not m:
            return None
        digest, name = m.group(1), m.group(2)
    if name.startswith("./"):
        name = name[2:]
    return name, digest.lower()


def sums_lookup(text, file_name, sums_url="the SHA256SUMS file"):
    """Find the sha256 of ``file_name`` in the text of a SHA256SUMS file.

    Accepts GNU lines (``<hex>  name`` and ``<hex> *name``, optionally ``./name``) and BSD lines
    (``SHA256 (name) = <hex>``).  Entries are matched on their exact file name; an entry with another
    directory prefix is a different file and does not match.
    """
    found = set()
    for raw in text.splitlines():
        entry = parse_sums_line(raw)
        if entry and entry[0] == file_name:
            found.add(entry[1])
    if not found:
        raise ArtifactError("%s has no line for %r" % (sums_url, file_name))
    if len(found) > 1:
        raise ArtifactError("%s has conflicting lines for %r" % (sums_url, file_name))
    return found.pop()


def _open_s3(url, timeout, validate_certs, s3):
    try:
        bucket, key = _s3.parse_s3_url(url)
        client = _s3.connect(s3, timeout=timeout, validate_certs=validate_certs)
        return _s3.open_object(client, bucket, key)
    except _s3.S3Error as e:
        msg = str(e)
        raise ArtifactError(msg if url in msg or "boto3" in msg else "download of %s failed: %s" % (url, msg))


def _open(url, timeout, headers, validate_certs, s3=None):
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        path = unquote(urlsplit(url).path)
        try:
            return open(path, "rb"), os.path.getsize(path)
        except (IOError, OSError) as e:
            raise ArtifactError("cannot read %s: %s" % (url, e.strerror or e))
    if scheme == "s3":
        return _open_s3(url, timeout, validate_certs, s3)
    if scheme not in ("http", "https"):
        raise ArtifactError("unsupported URL scheme in %r (use http, https, file or s3)" % url)
    try:
        resp = open_url(url, headers=headers or {}, timeout=timeout, validate_certs=validate_certs,
                        follow_redirects="safe")
    except Exception as e:  # urllib's HTTPError, URLError, socket errors, ssl errors
        code = getattr(e, "code", None)
        if code is not None:
            raise ArtifactError("download of %s failed: HTTP %s %s" % (url, code, getattr(e, "reason", "") or ""))
        reason = getattr(e, "reason", e)
        if isinstance(reason, socket.timeout) or isinstance(e, socket.timeout):
            raise ArtifactError("download of %s timed out after %s s" % (url, timeout))
        raise ArtifactError("download of %s failed: %s" % (url, reason))
    length = resp.headers.get("Content-Length") if getattr(resp, "headers", None) else None
    try:
        length = int(length) if length is not None else None
    except ValueError:
        length = None
    return resp, length


def fetch_text(url, timeout=30, headers=None, validate_certs=True, s3=None):
    """Fetch a small text file (a SHA256SUMS list); ``s3`` are the settings for an s3:// URL."""
    return fetch_bytes(url, timeout, headers, validate_certs, s3).decode("utf-8", "replace")


def fetch_bytes(url, timeout=30, headers=None, validate_certs=True, s3=None):
    """Fetch a small file (a SHA256SUMS list or its signature) as it is."""
    stream, _length = _open(url, timeout, headers, validate_certs, s3)
    try:
        data = stream.read(SUMS_MAX_BYTES + 1)
    except Exception as e:  # socket and file errors, botocore's read errors
        raise ArtifactError("download of %s failed: %s" % (url, e))
    finally:
        stream.close()
    if len(data) > SUMS_MAX_BYTES:
        raise ArtifactError("%s is larger than %d bytes: not a SHA256SUMS file" % (url, SUMS_MAX_BYTES))
    return data


def resolve_sha256(checksum, url, timeout=30, headers=None, validate_certs=True, s3=None):
    """The expected sha256 hex for ``url`` (fetching and reading a SHA256SUMS file if needed)."""
    digest, sums_url = parse_checksum(checksum)
    if digest:
        return digest
    return sums_lookup(fetch_text(sums_url, timeout, headers, validate_certs, s3), url_file_name(url), sums_url)


def authenticate(checksum, url, keys, signature_url="", namespace="file", require=False, timeout=30, headers=None,
                 validate_certs=True, s3=None):
    """``(hex, signer)`` for ``url``: the digest from a SHA256SUMS whose OpenSSH signature by one of the trusted
    key lines ``keys`` verifies (``signer`` is that key's fingerprint). Without keys (and without ``require``)
    ``(None, None)``: the host resolves the checksum as before. Raises ArtifactError naming the URLs and the
    fingerprints."""
    digest, sums_url = parse_checksum(checksum)
    if not keys:
        if require:
            raise ArtifactError("a signature is required (require_signature) but no trusted key is given "
                                "(signing_keys)")
        return None, None
    if digest:
        if require:
            raise ArtifactError("the inline checksum of %s cannot be authenticated and a signature is required "
                                "(require_signature): use sha256:<url of a signed SHA256SUMS>" % url_file_name(url))
        return digest, None
    try:
        trusted = ", ".join(_sshsig.fingerprint(_sshsig.public_key_blob(k)) for k in keys)
    except _sshsig.SignatureError as e:
        raise ArtifactError("signing_keys: %s" % e)
    sig_url = signature_url or sums_url + ".sig"
    sums = fetch_bytes(sums_url, timeout, headers, validate_certs, s3)
    try:
        armored = fetch_bytes(sig_url, timeout, headers, validate_certs, s3)
    except ArtifactError as e:
        raise ArtifactError("no signature of %s (trusted keys: %s): %s" % (sums_url, trusted, e))
    try:
        signer = _sshsig.verify(sums, armored, keys, namespace)
    except _sshsig.SignatureError as e:
        raise ArtifactError("the signature %s of %s is refused: %s" % (sig_url, sums_url, e))
    try:
        return sums_lookup(sums.decode("utf-8", "replace"), url_file_name(url), sums_url), signer
    except ArtifactError as e:
        raise ArtifactError("%s (the list is signed by %s)" % (e, signer))


def existing_ancestor(path):
    """The deepest existing directory on the way to ``path``."""
    cur = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(cur):
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    return cur


def makedirs(path, mode=0o755):
    """Create ``path`` and its missing parents with exactly ``mode`` (whatever the umask)."""
    missing = []
    cur = os.path.abspath(path)
    while not os.path.isdir(cur):
        missing.append(cur)
        cur = os.path.dirname(cur)
    for d in reversed(missing):
        try:
            os.mkdir(d)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
        os.chmod(d, mode)
    return missing


def download(url, expected, work_dir, timeout=60, headers=None, validate_certs=True, s3=None):
    """Stream ``url`` into a temporary file in ``work_dir`` and verify it; return ``(path, size)``.

    On any failure the temporary file is removed and ArtifactError says what happened.  ``s3`` are the
    settings for an s3:// URL (see _s3).
    """
    fd, tmp = tempfile.mkstemp(prefix=".zipapp-download-", dir=work_dir)
    ok = False
    try:
        stream, length = _open(url, timeout, headers, validate_certs, s3)
        h = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                fd = None
                while True:
                    try:
                        chunk = stream.read(CHUNK)
                    except socket.timeout:
                        raise ArtifactError("download of %s stalled: no data for %s s" % (url, timeout))
                    except Exception as e:  # http.client.IncompleteRead and friends
                        raise ArtifactError("download of %s broke off after %d bytes: %s" % (url, size, e))
                    if not chunk:
                        break
                    h.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except (IOError, OSError) as e:
            if e.errno == errno.ENOSPC:
                raise ArtifactError("no space left on device in %s while downloading %s (%d bytes written)"
                                    % (work_dir, url, size))
            raise ArtifactError("writing the download of %s to %s failed: %s" % (url, work_dir, e))
        finally:
            stream.close()
        if length is not None and size != length:
            raise ArtifactError("download of %s is truncated: got %d of %d bytes" % (url, size, length))
        actual = h.hexdigest()
        if actual != expected:
            raise ArtifactError("sha256 mismatch for %s: expected %s, got %s (%d bytes)" % (url, expected, actual, size))
        ok = True
        return tmp, size
    finally:
        if fd is not None:
            os.close(fd)
        if not ok and os.path.exists(tmp):
            os.unlink(tmp)


def place(tmp, dest, mode=0o644, dir_mode=0o755):
    """Move the verified ``tmp`` to ``dest`` atomically, creating missing directories with ``dir_mode``."""
    dest_dir = os.path.dirname(dest)
    makedirs(dest_dir, dir_mode)
    os.chmod(tmp, mode)
    try:
        os.rename(tmp, dest)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        fd, tmp2 = tempfile.mkstemp(prefix=".zipapp-place-", dir=dest_dir)
        os.close(fd)
        try:
            shutil.copyfile(tmp, tmp2)
            os.chmod(tmp2, mode)
            os.rename(tmp2, dest)
        except Exception:
            if os.path.exists(tmp2):
                os.unlink(tmp2)
            raise
        os.unlink(tmp)
    fsync_dir(dest_dir)


def ensure(url, dest, checksum, timeout=60, headers=None, validate_certs=True, mode=0o644, dir_mode=0o755,
           check_mode=False):
    """Make ``dest`` a verified copy of ``url``.  Returns a result dict (``changed``, ``sha256`` ...).

    An existing ``dest`` with the expected sha256 is left alone (nothing is downloaded).  An existing
    ``dest`` with another sha256 is refused: a released version is immutable.
    """
    expected = resolve_sha256(checksum, url, timeout, headers, validate_certs)
    result = {"changed": False, "dest": dest, "sha256": expected, "url": url}
    if os.path.exists(dest):
        actual = sha256_file(dest)
        if actual != expected:
            raise ArtifactError(
                "%s already exists with sha256 %s, but the checksum asks for %s: a released version is immutable, "
                "publish the new build under a new version (nothing was changed)" % (dest, actual, expected))
        if (os.stat(dest).st_mode & 0o7777) != mode:
            result["changed"] = True
            if not check_mode:
                os.chmod(dest, mode)
        result["size"] = os.path.getsize(dest)
        return result
    result["changed"] = True
    if check_mode:
        return result
    tmp, size = download(url, expected, existing_ancestor(dest), timeout, headers, validate_certs)
    try:
        place(tmp, dest, mode, dir_mode)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    result["size"] = size
    return result
