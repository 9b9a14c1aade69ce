# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publish an artifact and its line of ``SHA256SUMS`` to a directory, an HTTP PUT endpoint or S3.

This is a private module_utils file: its interface may change without notice.

A published version is immutable: an artifact of the same name with other content is refused, the same
content changes nothing.  The artifact goes first, then ``SHA256SUMS`` (its line for the file replaced or
added, every other line kept), so ``SHA256SUMS`` never lists a file that is not there.  A ``SHA256SUMS``
that already lists the file with another sha256 (while the file is gone) is refused too.

Targets:

- a directory (``/srv/artifacts/demoapp`` or ``file:///...``, local or NFS): the artifact is written to a
  temporary file and hard-linked into place (``link(2)`` never replaces a file, so two publishers cannot
  overwrite each other), ``SHA256SUMS`` is replaced with ``rename(2)`` under a POSIX lock
  (``.SHA256SUMS.lock``, which NFS forwards to the server's lock manager);
- ``http(s)://host/path/`` (Artifactory, Nexus raw, any server that takes ``PUT``): ``GET`` to look,
  ``PUT`` to write (headers such as ``Authorization`` go with every request and are never returned), and
  the artifact is read back and checked after the upload;
- ``s3://bucket/prefix/``: objects with the sha256 in their metadata, written with conditional requests
  (``If-None-Match: *`` for the artifact, ``If-Match: <etag>`` for ``SHA256SUMS``) where the server has
  them; needs boto3 (see _s3).
"""

import os

from ansible_collections.containerless.zipapp.plugins.module_utils._digest import sha256_file
from ansible_collections.containerless.zipapp.plugins.module_utils._targets import (
    PublishError,
    Retry,
    check_file_name,
    make_target,
    sums_entries,
    sums_update,
)


def plan(target, name, sha256, sums_name):
    """What publishing would do: ``(upload, sums_before, sums_after, token)``; raises when it must not."""
    existing = target.artifact_sha256(name)
    sums_text, token = target.read_sums(sums_name)
    listed = sums_entries(sums_text).get(name)
    if existing is not None and existing != sha256:
        raise PublishError(
            "%s is already published with sha256 %s, this build is %s: a published version is immutable, "
            "publish the new build under a new version (nothing was changed)" % (target.url(name), existing, sha256))
    if existing is None and listed and listed != {sha256}:
        raise PublishError(
            "%s lists %s with sha256 %s but the file is not there, and this build is %s: that version was "
            "published before with other content; publish under a new version, or remove its line by hand "
            "(nothing was changed)" % (target.url(sums_name), name, ", ".join(sorted(listed)), sha256))
    after = sums_update(sums_text, name, sha256)
    return existing is None, sums_text, after, token


def publish(src, to, name=None, sums_name="SHA256SUMS", check_mode=False, headers=None, timeout=60,
            validate_certs=True, s3=None, mode=0o644, dir_mode=0o755, sha256=None, signer=None):
    """Publish ``src`` as ``name`` (default: its file name) to ``to``; return a result dict.

    ``signer(text)`` returns the armored signature of a SHA256SUMS text: then ``<sums_name>.sig`` is written
    after SHA256SUMS whenever it does not sign the SHA256SUMS there (Ed25519 signatures are deterministic, so
    the same list and key give the same file and a re-run changes nothing)."""
    name = name or os.path.basename(src)
    check_file_name(name)
    check_file_name(sums_name, "sums_name")
    if name == sums_name:
        raise PublishError("the artifact cannot be called %s" % sums_name)
    if not os.path.isfile(src):
        raise PublishError("%s does not exist (nothing was published)" % src)
    sha256 = sha256 or sha256_file(src)
    target = make_target(to, headers, timeout, validate_certs, s3, mode, dir_mode)
    sig_name = sums_name + ".sig"
    result = dict(changed=False, to=to, kind=target.kind, url=target.url(name), sums_url=target.url(sums_name),
                  sha256=sha256, size=os.path.getsize(src), uploaded=False, sums_changed=False, signed=False)
    if signer:
        result["signature_url"] = target.url(sig_name)
    uploaded = False
    for _attempt in range(5):
        with target:
            upload, before, after, token = plan(target, name, sha256, sums_name)
            signature = signer(after) if signer else None
            sign = bool(signer) and target.read_sums(sig_name)[0] != signature
            result.update(uploaded=upload or uploaded, sums_changed=after != before, signed=sign,
                          changed=upload or uploaded or after != before or sign, sums_before=before or "",
                          sums_after=after)
            if check_mode or not result["changed"]:
                return result
            if upload:
                target.put_artifact(src, name, sha256)
                uploaded = True
            if after != before:
                try:
                    target.put_sums(sums_name, after, token)
                except Retry:
                    continue
                except PublishError as e:
                    if not uploaded:
                        raise
                    raise PublishError("%s; %s is published but %s was not changed: run again to add its line"
                                       % (e, target.url(name), target.url(sums_name)))
            if sign:
                try:
                    target.put_signature(sig_name, signature)
                except PublishError as e:
                    raise PublishError("%s; %s was changed but not signed: run again to sign it (until then "
                                       "deploys that check signatures refuse it)" % (e, target.url(sums_name)))
            return result
    raise PublishError("%s kept changing while publishing (the artifact is published; run again to add its line)"
                       % target.url(sums_name))
