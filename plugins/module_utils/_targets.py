# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a build is published: a directory, an HTTP server (PUT) or an S3 bucket, each reading and updating
its ``SHA256SUMS`` the same way.

This is a private module_utils file: its interface may change without notice.
"""

import errno
import fcntl
import os
import re
import tempfile
from urllib.parse import quote, unquote, urlsplit

from ansible.module_utils.urls import open_url

from ansible_collections.containerless.zipapp.plugins.module_utils import _s3
from ansible_collections.containerless.zipapp.plugins.module_utils._digest import CHUNK, sha256_file, sha256_stream
from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import (
    SUMS_MAX_BYTES,
    fsync_dir,
    makedirs,
    parse_sums_line,
)


FILE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,200}")


class PublishError(Exception):
    """Publishing failed; the message says why and what was changed."""


# ---------------------------------------------------------------------------------------------------
# SHA256SUMS


def sums_entries(text):
    """``{name: set of hex}`` of the lines of a SHA256SUMS text."""
    entries = {}
    for raw in (text or "").splitlines():
        entry = parse_sums_line(raw)
        if entry:
            entries.setdefault(entry[0], set()).add(entry[1])
    return entries


def sums_update(text, name, sha256):
    """``text`` with the line of ``name`` replaced by ``<sha256>  <name>`` (GNU format), or that line added
    at the end; every other line is kept as it was, duplicates of ``name`` are dropped."""
    new_line = "%s  %s" % (sha256.lower(), name)
    out = []
    done = False
    for raw in (text or "").splitlines():
        entry = parse_sums_line(raw)
        if entry and entry[0] == name:
            if not done:
                out.append(new_line)
                done = True
            continue
        out.append(raw)
    if not done:
        out.append(new_line)
    return "\n".join(out) + "\n"


def check_file_name(name, what="name"):
    if not isinstance(name, str) or not FILE_NAME_RE.fullmatch(name) or ".." in name:
        raise PublishError("%s=%r is not a plain file name (letters, digits, '.', '_', '+', '-')" % (what, name))


# ---------------------------------------------------------------------------------------------------
# Targets


def split_target(to):
    """``(kind, base)``: ``dir`` with an absolute path, ``http`` with a URL ending in '/', or ``s3`` with
    ``(bucket, prefix)``."""
    if not isinstance(to, str) or not to or any(c in to for c in "\x00\r\n"):
        raise PublishError("the target %r must be a directory, an http(s):// URL or an s3:// URL" % (to,))
    lower = to.lower()
    if lower.startswith("s3://"):
        try:
            return "s3", _s3.parse_s3_url(to, key_required=False)
        except _s3.S3Error as e:
            raise PublishError(str(e))
    if lower.startswith(("http://", "https://")):
        parts = urlsplit(to)
        if not parts.netloc or "@" in parts.netloc:
            raise PublishError("the target %r needs a host and no credentials in it (use headers, e.g. "
                               "{Authorization: 'Bearer ...'})" % (to if "@" not in parts.netloc else "<hidden>",))
        if parts.query or parts.fragment or any(c.isspace() for c in to):
            raise PublishError("the target %r must be a plain URL without query, fragment or whitespace" % to)
        return "http", to if to.endswith("/") else to + "/"
    if lower.startswith("file://"):
        parts = urlsplit(to)
        if parts.netloc or not parts.path.startswith("/"):
            raise PublishError("the target %r: a file URL must be file:///absolute/path" % to)
        to = unquote(parts.path)
    if not to.startswith("/") or ".." in to.split("/"):
        raise PublishError("the target %r must be an absolute directory path without '..', file:///..., "
                           "http(s)://... or s3://..." % to)
    return "dir", os.path.normpath(to)


class DirTarget:
    kind = "dir"

    def __init__(self, path, mode=0o644, dir_mode=0o755):
        self.path = path
        self.mode = mode
        self.dir_mode = dir_mode
        self._lock = None

    def url(self, name):
        return os.path.join(self.path, name)

    def __enter__(self):
        if os.path.isdir(self.path):
            try:
                fd = os.open(os.path.join(self.path, ".SHA256SUMS.lock"), os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                if e.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
                    return self  # read-only: the checks still run, writing will fail with a clear message
                raise
            fcntl.lockf(fd, fcntl.LOCK_EX)
            self._lock = fd
        return self

    def __exit__(self, *exc):
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def artifact_sha256(self, name):
        path = self.url(name)
        return sha256_file(path) if os.path.isfile(path) else None

    def read_sums(self, sums_name):
        path = self.url(sums_name)
        if not os.path.isfile(path):
            return None, None
        if os.path.getsize(path) > SUMS_MAX_BYTES:
            raise PublishError("%s is larger than %d bytes: not a SHA256SUMS file" % (path, SUMS_MAX_BYTES))
        with open(path, "rb") as f:
            return f.read().decode("utf-8"), None

    def _tmp(self, prefix):
        makedirs(self.path, self.dir_mode)
        fd, tmp = tempfile.mkstemp(prefix=prefix, dir=self.path)
        return fd, tmp

    def put_artifact(self, src, name, sha256):
        dest = self.url(name)
        fd, tmp = self._tmp(".zipapp-publish-")
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
                for chunk in iter(lambda: f.read(CHUNK), b""):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, self.mode)
            if sha256_file(tmp) != sha256:
                raise PublishError("the copy of %s in %s does not match its sha256 (nothing was published)"
                                   % (src, self.path))
            try:
                os.link(tmp, dest)  # never replaces an existing file
            except OSError as e:
                if e.errno == errno.EEXIST:
                    if sha256_file(dest) == sha256:
                        return
                    raise PublishError("%s appeared with other content while publishing: a published version is "
                                       "immutable (nothing was changed)" % dest)
                if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
                    raise
                if os.path.exists(dest):
                    raise PublishError("%s appeared while publishing (nothing was changed)" % dest)
                os.rename(tmp, dest)  # a file system without hard links
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        fsync_dir(self.path)

    def put_signature(self, name, text):
        self.put_sums(name, text, None)

    def put_sums(self, sums_name, text, token):
        fd, tmp = self._tmp(".zipapp-sums-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(text.encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, self.mode)
            os.rename(tmp, self.url(sums_name))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        fsync_dir(self.path)


class HttpTarget:
    kind = "http"

    def __init__(self, base, headers=None, timeout=60, validate_certs=True):
        self.base = base
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.validate_certs = validate_certs

    def url(self, name):
        return self.base + quote(name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def _request(self, url, method="GET", data=None, headers=None):
        h = dict(self.headers)
        h.update(headers or {})
        try:
            return open_url(url, method=method, data=data, headers=h, timeout=self.timeout,
                            validate_certs=self.validate_certs, follow_redirects="safe")
        except Exception as e:  # HTTPError, URLError, socket errors
            code = getattr(e, "code", None)
            if code in (404, 410) and method == "GET":
                return None
            if code is not None:
                hint = ": check the headers (credentials) and the permissions" if code in (401, 403) else ""
                raise PublishError("%s %s failed: HTTP %s %s%s" % (method, url, code, getattr(e, "reason", "") or "",
                                                                   hint))
            raise PublishError("%s %s failed: %s" % (method, url, getattr(e, "reason", e)))

    def artifact_sha256(self, name):
        resp = self._request(self.url(name))
        if resp is None:
            return None
        try:
            return sha256_stream(resp)
        finally:
            resp.close()

    def read_sums(self, sums_name):
        resp = self._request(self.url(sums_name))
        if resp is None:
            return None, None
        try:
            data = resp.read(SUMS_MAX_BYTES + 1)
        finally:
            resp.close()
        if len(data) > SUMS_MAX_BYTES:
            raise PublishError("%s is larger than %d bytes: not a SHA256SUMS file" % (self.url(sums_name),
                                                                                      SUMS_MAX_BYTES))
        return data.decode("utf-8"), None

    def put_artifact(self, src, name, sha256):
        url = self.url(name)
        with open(src, "rb") as f:
            resp = self._request(url, "PUT", data=f.read(), headers={
                "Content-Type": "application/octet-stream",
                "X-Checksum-Sha256": sha256,  # Artifactory verifies it; other servers ignore it
            })
        resp.close()
        stored = self.artifact_sha256(name)
        if stored != sha256:
            served = "nothing" if stored is None else "sha256 %s" % stored
            raise PublishError("%s took the upload but serves %s instead of sha256 %s: check the server "
                               "(SHA256SUMS was not changed)" % (url, served, sha256))

    def put_signature(self, name, text):
        self.put_sums(name, text, None)

    def put_sums(self, sums_name, text, token):
        self._request(self.url(sums_name), "PUT", data=text.encode("utf-8"),
                      headers={"Content-Type": "text/plain; charset=utf-8"}).close()


class S3Target:
    kind = "s3"

    def __init__(self, bucket, prefix, settings=None, timeout=60, validate_certs=True):
        self.bucket = bucket
        self.prefix = prefix
        try:
            self.client = _s3.connect(settings, timeout=timeout, validate_certs=validate_certs)
        except _s3.S3Error as e:
            raise PublishError(str(e))

    def url(self, name):
        return _s3.url_of(self.bucket, self.prefix + name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def artifact_sha256(self, name):
        try:
            return _s3.object_sha256(self.client, self.bucket, self.prefix + name)
        except _s3.S3Error as e:
            raise PublishError(str(e))

    def read_sums(self, sums_name):
        try:
            data, etag = _s3.read_object(self.client, self.bucket, self.prefix + sums_name, SUMS_MAX_BYTES)
        except _s3.S3Error as e:
            raise PublishError(str(e))
        return (None, None) if data is None else (data.decode("utf-8"), etag)

    def put_artifact(self, src, name, sha256):
        try:
            with open(src, "rb") as f:
                _s3.put_object(self.client, self.bucket, self.prefix + name, f, sha256=sha256, if_none_match=True)
            info = _s3.head(self.client, self.bucket, self.prefix + name)
        except _s3.S3Error as e:
            if e.conflict:
                raise PublishError("%s appeared while publishing: a published version is immutable, run again to "
                                   "compare (nothing was changed)" % self.url(name))
            raise PublishError(str(e))
        if info is None or info["size"] != os.path.getsize(src):
            raise PublishError("%s has the wrong size after the upload (SHA256SUMS was not changed)" % self.url(name))

    def put_signature(self, name, text):
        try:
            _s3.put_object(self.client, self.bucket, self.prefix + name, text.encode("utf-8"),
                           content_type="text/plain; charset=utf-8")
        except _s3.S3Error as e:
            raise PublishError(str(e))

    def put_sums(self, sums_name, text, token):
        try:
            _s3.put_object(self.client, self.bucket, self.prefix + sums_name, text.encode("utf-8"),
                           content_type="text/plain; charset=utf-8", if_none_match=token is None, if_match=token)
        except _s3.S3Error as e:
            if e.conflict:
                raise Retry()
            raise PublishError(str(e))


class Retry(Exception):
    """SHA256SUMS changed under us (S3 conditional write): read it again and redo the update."""


def make_target(to, headers=None, timeout=60, validate_certs=True, s3=None, mode=0o644, dir_mode=0o755):
    kind, base = split_target(to)
    if kind == "dir":
        return DirTarget(base, mode, dir_mode)
    if kind == "http":
        return HttpTarget(base, headers, timeout, validate_certs)
    return S3Target(base[0], base[1], s3, timeout, validate_certs)


# ---------------------------------------------------------------------------------------------------
# Publish
